package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

var t0 = time.Date(2026, 4, 16, 9, 0, 0, 0, time.UTC)

// seed appends n entries: even ones by user 1 in org 10, odd by user 2 in
// org 20, one minute apart.
func seed(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := WithActor(context.Background(), Actor{IP: "192.0.2.1", RequestID: "req"})
	for i := range n {
		e := Entry{Time: t0.Add(time.Duration(i) * time.Minute), ActorUserID: 1, OrgID: 10, Action: "passkey.add",
			ObjectType: "passkey", ObjectID: fmt.Sprint(i), Details: map[string]any{"i": i, "name": "key ✓"}}
		if i%2 == 1 {
			e.ActorUserID, e.OrgID, e.Action = 2, 20, "org.update"
		}
		if _, err := Record(ctx, d, e); err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
	}
}

func TestAppendListVerify(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if rep, err := Verify(ctx, d); err != nil || rep.Entries != 0 {
			t.Fatalf("empty log: %+v, %v", rep, err)
		}
		seed(t, d, 10)
		rep, err := Verify(ctx, d)
		if err != nil || rep.Entries != 10 || rep.HeadSeq != 10 || len(rep.HeadHash) != 64 {
			t.Fatalf("Verify = %+v, %v", rep, err)
		}
		all, _ := List(ctx, d, Filter{})
		if len(all) != 10 || all[0].Seq != 10 || all[9].PrevHash != "" || all[0].PrevHash != all[1].Hash {
			t.Fatalf("List: %d entries, newest %d", len(all), all[0].Seq)
		}
		e := all[9]
		if e.IP != "192.0.2.1" || e.RequestID != "req" || e.Details["name"] != "key ✓" || !e.Time.Equal(t0) {
			t.Fatalf("entry round trip: %+v", e)
		}
		cases := []struct {
			name string
			f    Filter
			want []int64 // seqs, newest first
		}{
			{"org", Filter{OrgID: 20}, []int64{10, 8, 6, 4, 2}},
			{"actor", Filter{ActorUserID: 1, Limit: 2}, []int64{9, 7}},
			{"action exact", Filter{Action: "org.update", BeforeSeq: 6}, []int64{4, 2}},
			{"action prefix", Filter{Action: "passkey.", Limit: 1}, []int64{9}},
			{"prefix needs the dot", Filter{Action: "passkey"}, nil},
			{"object", Filter{ObjectType: "passkey", ObjectID: "4"}, []int64{5}},
			{"time window", Filter{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}, []int64{4, 3}},
		}
		for _, c := range cases {
			got, err := List(ctx, d, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(c.want) {
				t.Errorf("%s: seqs %v, want %v", c.name, seqs, c.want)
			}
		}
		// An entry appended in a transaction that rolls back leaves no
		// trace and no gap.
		boom := errors.New("boom")
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := Append(ctx, tx, Entry{Action: "org.create"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := Record(ctx, d, Entry{Action: "org.create"}); err != nil {
			t.Fatal(err)
		}
		if rep, err := Verify(ctx, d); err != nil || rep.HeadSeq != 11 {
			t.Fatalf("after rollback: %+v, %v", rep, err)
		}
		if _, err := Record(ctx, d, Entry{}); err == nil {
			t.Fatal("entry without action accepted")
		}
	})
}

func TestTriggersRefuseChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seed(t, d, 3)
		for _, q := range []string{
			"UPDATE audit_log SET action = 'x' WHERE seq = 2",
			"DELETE FROM audit_log WHERE seq = 3",
			"DELETE FROM audit_log",
		} {
			if _, err := d.Exec(ctx, q); err == nil {
				t.Errorf("%s: accepted", q)
			}
		}
		if d.Dialect() == db.Postgres {
			if _, err := d.Exec(ctx, "TRUNCATE audit_log"); err == nil {
				t.Error("TRUNCATE accepted")
			}
		}
		if rep, err := Verify(ctx, d); err != nil || rep.Entries != 3 {
			t.Fatalf("after refused changes: %+v, %v", rep, err)
		}
	})
}

// disableTriggers plays an attacker with direct database access (but not
// the secret key).
func disableTriggers(t *testing.T, d *db.DB) {
	t.Helper()
	qs := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete",
		"DROP TRIGGER audit_log_orgs_no_update", "DROP TRIGGER audit_log_orgs_no_delete"}
	if d.Dialect() == db.Postgres {
		qs = []string{"ALTER TABLE audit_log DISABLE TRIGGER USER", "ALTER TABLE audit_log_orgs DISABLE TRIGGER USER"}
	}
	for _, q := range qs {
		if _, err := d.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestTamperDetected(t *testing.T) {
	cases := []struct {
		name  string
		sql   []string
		fixup func(t *testing.T, d *db.DB) // optional: attacker recomputes a hash
		want  VerifyError
	}{
		{"details altered", []string{`UPDATE audit_log SET details = '{"i":4,"name":"evil"}' WHERE seq = 5`}, nil, VerifyError{Seq: 5, Kind: Altered}},
		{"actor altered", []string{"UPDATE audit_log SET actor_user_id = 99 WHERE seq = 3"}, nil, VerifyError{Seq: 3, Kind: Altered}},
		{"time altered", []string{"UPDATE audit_log SET at = at + 1 WHERE seq = 8"}, nil, VerifyError{Seq: 8, Kind: Altered}},
		{"first entry altered", []string{"UPDATE audit_log SET ip = '10.0.0.1' WHERE seq = 1"}, nil, VerifyError{Seq: 1, Kind: Altered}},
		{"middle entry deleted", []string{"DELETE FROM audit_log WHERE seq = 4"}, nil, VerifyError{Seq: 4, Kind: Missing, Through: 4}},
		{"range deleted", []string{"DELETE FROM audit_log WHERE seq BETWEEN 2 AND 6"}, nil, VerifyError{Seq: 2, Kind: Missing, Through: 6}},
		{"first entry deleted", []string{"DELETE FROM audit_log WHERE seq = 1"}, nil, VerifyError{Seq: 1, Kind: Missing, Through: 1}},
		{"entry rewritten with a fresh hash", []string{"UPDATE audit_log SET action = 'org.delete' WHERE seq = 6"},
			func(t *testing.T, d *db.DB) {
				es, _ := List(context.Background(), d, Filter{BeforeSeq: 7, Limit: 1})
				e := es[0]
				if _, err := d.Exec(context.Background(), "UPDATE audit_log SET hash = ? WHERE seq = 6", computeHash(&e, nil)); err != nil {
					t.Fatal(err)
				}
			}, VerifyError{Seq: 6, Kind: Broken}},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seed(t, d, 10)
		disableTriggers(t, d)
		// Each case works on a copy of the rows restored afterwards, so
		// one database serves all cases.
		if _, err := d.Exec(ctx, "CREATE TABLE audit_copy AS SELECT * FROM audit_log"); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			for _, q := range c.sql {
				if _, err := d.Exec(ctx, q); err != nil {
					t.Fatalf("%s: %s: %v", c.name, q, err)
				}
			}
			if c.fixup != nil {
				c.fixup(t, d)
			}
			_, err := Verify(ctx, d)
			var ve *VerifyError
			if !errors.As(err, &ve) || *ve != c.want {
				t.Errorf("%s: Verify = %v, want %v", c.name, err, &c.want)
			} else {
				t.Logf("%s: %v", c.name, err)
			}
			for _, q := range []string{"DELETE FROM audit_log", "INSERT INTO audit_log SELECT * FROM audit_copy"} {
				if _, err := d.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Verify(ctx, d); err != nil {
				t.Fatalf("restore after %s: %v", c.name, err)
			}
		}
	})
}

func TestConcurrentAppends(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const workers, each = 6, 15
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if _, err := Record(ctx, d, Entry{Action: "test.append", ActorUserID: int64(w + 1), ObjectID: fmt.Sprint(i)}); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rep, err := Verify(ctx, d)
		if err != nil || rep.Entries != workers*each {
			t.Fatalf("Verify = %+v, %v", rep, err)
		}
	})
}

func TestVerifyPages(t *testing.T) {
	// More entries than one page of Verify, on SQLite only (speed).
	d := dbtest.SQLite(t)
	ctx := context.Background()
	err := d.InTx(ctx, func(tx *db.Tx) error {
		for i := range 2500 {
			if _, err := Append(ctx, tx, Entry{Time: t0, Action: "bulk", ObjectID: fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	disableTriggers(t, d)
	if _, err := d.Exec(ctx, "UPDATE audit_log SET object_id = 'x' WHERE seq = 2222"); err != nil {
		t.Fatal(err)
	}
	var ve *VerifyError
	if _, err := Verify(ctx, d); !errors.As(err, &ve) || ve.Seq != 2222 {
		t.Fatalf("Verify = %v", err)
	}
}
