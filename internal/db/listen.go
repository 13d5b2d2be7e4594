package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNoListen is returned by Listen on a database without notifications
// (SQLite: one process owns the file, so in-process signals suffice).
var ErrNoListen = errors.New("db: notifications need PostgreSQL")

// Notify queues a notification on channel with payload in the
// transaction: PostgreSQL delivers it to every listener, on every server
// of the cluster, when the transaction commits, and drops it on rollback.
// On SQLite it does nothing.
func (t *Tx) Notify(ctx context.Context, channel, payload string) error {
	if t.dialect != Postgres {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, payload); err != nil {
		return fmt.Errorf("db: notify %s: %w", channel, err)
	}
	return nil
}

// Listen receives the notifications sent on channel (Tx.Notify) until ctx
// ends or the connection fails, calling fn with each payload; ready, when
// not nil, is called once the server listens, so that a caller can tell
// notifications sent after it apart from those that may have been missed.
// It holds one connection of the pool for as long as it runs and discards
// it afterwards, so that no pooled connection keeps listening. It returns
// ctx's error when ctx ends; callers that must keep listening call it
// again after other errors.
func (d *DB) Listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error {
	if d.dialect != Postgres {
		return ErrNoListen
	}
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: listen %s: %w", channel, err)
	}
	defer conn.Close()
	var loopErr error
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("db: listen: driver connection is %T", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			loopErr = fmt.Errorf("db: listen %s: %w", channel, err)
			return driver.ErrBadConn
		}
		if ready != nil {
			ready()
		}
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				loopErr = err
				if ctx.Err() == nil {
					loopErr = fmt.Errorf("db: listen %s: %w", channel, err)
				}
				// The connection still listens (or is broken): the pool
				// must not hand it out again.
				return driver.ErrBadConn
			}
			fn(n.Payload)
		}
	})
	if loopErr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return loopErr
	}
	return err
}
