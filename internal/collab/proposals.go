package collab

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/db"
)

// NewProposal is a member's proposal to amend a recommendation.
type NewProposal struct {
	RecID     string
	OrgID     int64 // the proposer's organisation
	Statement string
	Rationale string
	Reason    string // why the text should change
}

// Propose records an amendment proposal. At least one of the statement and
// the rationale must be given, and it must differ from the current text.
func (s *Store) Propose(ctx context.Context, v Viewer, n NewProposal) (Proposal, error) {
	rec, err := s.checkRec(n.RecID)
	if err != nil {
		return Proposal{}, err
	}
	st, err := cleanText("The statement", n.Statement, MaxText, false)
	if err != nil {
		return Proposal{}, err
	}
	ra, err := cleanText("The rationale", n.Rationale, MaxText, false)
	if err != nil {
		return Proposal{}, err
	}
	if st == "" && ra == "" {
		return Proposal{}, invalid("propose a new statement, a new rationale or both")
	}
	reason, err := cleanText("The reason", n.Reason, MaxReason, true)
	if err != nil {
		return Proposal{}, err
	}
	now := s.now()
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, _, err := authorOrg(ctx, tx, v, n.OrgID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO collab_proposals (rec_id, proposer_id, proposer_org_id, statement, rationale, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, rec, v.UserID, n.OrgID, st, ra, reason, micros(now)).Scan(&id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "collab.proposal.create", "proposal", id, map[string]any{"rec": rec, "org": n.OrgID})
	})
	if err != nil {
		return Proposal{}, fmt.Errorf("propose: %w", err)
	}
	return s.Proposal(ctx, v, id)
}

const proposalCols = `SELECT p.id, p.rec_id, p.proposer_id, COALESCE(NULLIF(u.display_name, ''), u.email, ''), COALESCE(o.name, ''),
	p.statement, p.rationale, p.reason, p.status, p.created_at, p.decided_at, p.decision_reason, p.revision
	FROM collab_proposals p LEFT JOIN users u ON u.id = p.proposer_id LEFT JOIN orgs o ON o.id = p.proposer_org_id`

func scanProposal(sc interface{ Scan(...any) error }) (Proposal, error) {
	var p Proposal
	var created int64
	var decided, rev sql.NullInt64
	err := sc.Scan(&p.ID, &p.RecID, &p.ProposerID, &p.ProposerName, &p.OrgName, &p.Statement, &p.Rationale, &p.Reason,
		&p.Status, &created, &decided, &p.DecisionReason, &rev)
	p.Created, p.DecidedAt, p.Revision = time.UnixMicro(created).UTC(), fromMicros(decided), rev.Int64
	return p, err
}

// Proposal returns a proposal: to its proposer and to platform administrators.
func (s *Store) Proposal(ctx context.Context, v Viewer, id int64) (Proposal, error) {
	p, err := scanProposal(s.db.QueryRow(ctx, proposalCols+` WHERE p.id = ? AND (p.proposer_id = ? OR `+boolLiteral(v.Admin)+`)`,
		id, v.UserID))
	if errors.Is(err, sql.ErrNoRows) {
		return Proposal{}, ErrNotFound
	}
	if err != nil {
		return Proposal{}, fmt.Errorf("proposal %d: %w", id, err)
	}
	return p, nil
}

// Proposals lists proposals, newest first: all of them for platform
// administrators, one's own for everyone else. status "" lists every status.
func (s *Store) Proposals(ctx context.Context, v Viewer, status string) ([]Proposal, error) {
	q := proposalCols + ` WHERE (p.proposer_id = ? OR ` + boolLiteral(v.Admin) + `)`
	args := []any{v.UserID}
	if status != "" {
		q += ` AND p.status = ?`
		args = append(args, status)
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY p.created_at DESC, p.id DESC LIMIT `+strconv.Itoa(listLimit), args...)
	if err != nil {
		return nil, fmt.Errorf("list proposals: %w", err)
	}
	defer rows.Close()
	var out []Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// revisionLockKey serialises acceptances on PostgreSQL so that revision
// numbers have no gaps ("catrev" in ASCII). SQLite's write lock does this
// already.
const revisionLockKey = 0x636174726576

// Accept makes an open proposal the next catalogue revision and notifies
// the proposer. Only platform administrators accept.
func (s *Store) Accept(ctx context.Context, v Viewer, id int64) (Proposal, error) {
	defer s.unread.invalidate() // after the transaction: see unreadCache
	if !v.Admin {
		return Proposal{}, ErrForbidden
	}
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if tx.Dialect() == db.Postgres {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(revisionLockKey)); err != nil {
				return err
			}
		}
		p, err := s.openProposal(ctx, tx, id)
		if err != nil {
			return err
		}
		var rev int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(revision), 0) + 1 FROM catalog_revisions`).Scan(&rev); err != nil {
			return err
		}
		// The new overlay must apply cleanly to the base before it is
		// stored: a revision that breaks the catalogue is never published.
		ams, err := amendments(ctx, tx)
		if err != nil {
			return err
		}
		ams = append(ams, catalog.Amendment{Revision: rev, RecID: p.RecID, Statement: p.Statement, Rationale: p.Rationale})
		if _, err := s.base.Amend(ams); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO catalog_revisions (revision, rec_id, statement, rationale, proposal_id, accepted_by, accepted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, rev, p.RecID, p.Statement, p.Rationale, id, v.UserID, micros(now)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE collab_proposals SET status = 'accepted', decided_by = ?, decided_at = ?, revision = ?
			WHERE id = ?`, v.UserID, micros(now), rev, id); err != nil {
			return err
		}
		version := catalog.AmendedVersion(s.base.Version, rev)
		if err := notify(ctx, tx, []int64{p.ProposerID}, "proposal",
			fmt.Sprintf("Your proposal for %s was accepted: catalogue version %s", p.RecID, version),
			"/proposals/"+strconv.FormatInt(id, 10), now); err != nil {
			return err
		}
		return s.audit(ctx, tx, "collab.proposal.accept", "proposal", id,
			map[string]any{"rec": p.RecID, "revision": rev, "version": version})
	})
	if err != nil {
		return Proposal{}, fmt.Errorf("accept proposal %d: %w", id, err)
	}
	return s.Proposal(ctx, v, id)
}

// Decline closes an open proposal with a reason and notifies the proposer.
func (s *Store) Decline(ctx context.Context, v Viewer, id int64, reason string) (Proposal, error) {
	defer s.unread.invalidate() // after the transaction: see unreadCache
	if !v.Admin {
		return Proposal{}, ErrForbidden
	}
	reason, err := cleanText("The reason", reason, MaxReason, true)
	if err != nil {
		return Proposal{}, err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.openProposal(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE collab_proposals SET status = 'declined', decided_by = ?, decided_at = ?, decision_reason = ?
			WHERE id = ? AND status = 'open'`, v.UserID, micros(now), reason, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrDecided // decided meanwhile by another administrator
		}
		if err := notify(ctx, tx, []int64{p.ProposerID}, "proposal",
			fmt.Sprintf("Your proposal for %s was declined", p.RecID), "/proposals/"+strconv.FormatInt(id, 10), now); err != nil {
			return err
		}
		return s.audit(ctx, tx, "collab.proposal.decline", "proposal", id, map[string]any{"rec": p.RecID})
	})
	if err != nil {
		return Proposal{}, fmt.Errorf("decline proposal %d: %w", id, err)
	}
	return s.Proposal(ctx, v, id)
}

func (s *Store) openProposal(ctx context.Context, tx *db.Tx, id int64) (Proposal, error) {
	p, err := scanProposal(tx.QueryRow(ctx, proposalCols+` WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Proposal{}, ErrNotFound
	}
	if err != nil {
		return Proposal{}, err
	}
	if p.Status != StatusOpen {
		return Proposal{}, ErrDecided
	}
	return p, nil
}

func amendments(ctx context.Context, q db.Querier) ([]catalog.Amendment, error) {
	rows, err := q.Query(ctx, `SELECT revision, rec_id, statement, rationale FROM catalog_revisions ORDER BY revision`)
	if err != nil {
		return nil, fmt.Errorf("catalogue revisions: %w", err)
	}
	defer rows.Close()
	var out []catalog.Amendment
	for rows.Next() {
		var a catalog.Amendment
		if err := rows.Scan(&a.Revision, &a.RecID, &a.Statement, &a.Rationale); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Amendments lists the accepted amendments in revision order.
func (s *Store) Amendments(ctx context.Context) ([]catalog.Amendment, error) {
	return amendments(ctx, s.db)
}

// Catalogues serves the current catalogue: the embedded base with every
// accepted amendment applied. The amended catalogue and its search index
// are rebuilt only when the revision changes; checking it is one indexed
// read, so every server sharing the database sees an acceptance at once.
type Catalogues struct {
	store *Store

	mu   sync.Mutex
	rev  int64
	cat  *catalog.Catalog
	ix   *catalog.Index
	base *catalog.Index
}

// NewCatalogues returns the catalogue source over s.
func NewCatalogues(s *Store) *Catalogues {
	return &Catalogues{store: s, cat: s.base, base: catalog.NewIndex(s.base)}
}

// Current returns the current catalogue and its search index.
func (c *Catalogues) Current(ctx context.Context) (*catalog.Catalog, *catalog.Index, error) {
	var rev int64
	if err := c.store.db.QueryRow(ctx, `SELECT COALESCE(MAX(revision), 0) FROM catalog_revisions`).Scan(&rev); err != nil {
		return nil, nil, fmt.Errorf("catalogue revision: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev == 0 {
		return c.store.base, c.base, nil
	}
	if rev == c.rev && c.ix != nil {
		return c.cat, c.ix, nil
	}
	ams, err := c.store.Amendments(ctx)
	if err != nil {
		return nil, nil, err
	}
	cat, err := c.store.base.Amend(ams)
	if err != nil {
		return nil, nil, err
	}
	c.rev, c.cat, c.ix = rev, cat, catalog.NewIndex(cat)
	return c.cat, c.ix, nil
}
