package identity

import (
	"context"

	"github.com/dfslab/dfslab/internal/db"
)

// insertUserForTest creates an enrolled account without an invitation,
// for internal tests that need a member and nothing else.
func (s *Store) insertUserForTest(ctx context.Context, email string) (u User, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err = s.insertUser(ctx, tx, email, "", false, true, nil)
		return err
	})
	return u, err
}
