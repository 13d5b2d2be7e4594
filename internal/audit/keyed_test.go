package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

var (
	key1 = bytes.Repeat([]byte{1}, 32)
	key2 = bytes.Repeat([]byte{2}, 32)
)

// eachDatabase runs fn on a fresh database of each dialect; open returns
// a new handle on that database with the given audit keys, as a process
// started with (or without) the secret key would have.
func eachDatabase(t *testing.T, fn func(t *testing.T, open func(keys ...[]byte) *db.DB)) {
	t.Helper()
	run := func(t *testing.T, dsn string) {
		fn(t, func(keys ...[]byte) *db.DB {
			t.Helper()
			d, err := db.Open(context.Background(), dsn, db.WithAuditKeys(keys...))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			return d
		})
	}
	t.Run("sqlite", func(t *testing.T) { run(t, filepath.Join(t.TempDir(), "test.db")) })
	t.Run("postgres", func(t *testing.T) { run(t, dbtest.PostgresDSN(t)) })
}

func verifyErr(t *testing.T, d *db.DB, kept ...Checkpoint) *VerifyError {
	t.Helper()
	_, err := Verify(context.Background(), d, kept...)
	var ve *VerifyError
	if err != nil && !errors.As(err, &ve) {
		t.Fatalf("Verify: %v", err)
	}
	return ve
}

func entriesFrom(t *testing.T, d *db.DB, seq int64) []Entry {
	t.Helper()
	es, err := List(context.Background(), d, Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []Entry
	for _, e := range es {
		if e.Seq >= seq {
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	return out
}

// rewriteFrom plays an attacker who rewrites every entry from seq on (here:
// a different object ID) and recomputes the chain with key in the given
// format: the attack that an unkeyed chain cannot detect.
func rewriteFrom(t *testing.T, d *db.DB, seq int64, version int, key []byte) {
	t.Helper()
	ctx := context.Background()
	prev := ""
	if seq > 1 {
		if err := d.QueryRow(ctx, "SELECT hash FROM audit_log WHERE seq = ?", seq-1).Scan(&prev); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range entriesFrom(t, d, seq) {
		e.ObjectID = "forged"
		e.HashVersion, e.PrevHash = version, prev
		e.KeyID = ""
		if version == HashHMAC {
			e.KeyID = KeyID(key)
		}
		e.Hash = computeHash(&e, key)
		if _, err := d.Exec(ctx, "UPDATE audit_log SET object_id = ?, hash_version = ?, key_id = ?, prev_hash = ?, hash = ? WHERE seq = ?",
			e.ObjectID, e.HashVersion, e.KeyID, e.PrevHash, e.Hash, e.Seq); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
	}
}

func TestKeyedChainResistsRewriting(t *testing.T) {
	cases := []struct {
		name   string
		attack func(t *testing.T, d *db.DB)
		want   VerifyError
	}{
		{"rewritten from entry 6 with a guessed key under the real key's ID", func(t *testing.T, d *db.DB) {
			rewriteFrom(t, d, 6, HashHMAC, key2)
			if _, err := d.Exec(context.Background(), "UPDATE audit_log SET key_id = ? WHERE seq >= 6", KeyID(key1)); err != nil {
				t.Fatal(err)
			}
		}, VerifyError{Seq: 6, Kind: Altered}},
		{"rewritten from entry 6 under the attacker's own key", func(t *testing.T, d *db.DB) {
			rewriteFrom(t, d, 6, HashHMAC, key2)
		}, VerifyError{Seq: 6, Kind: UnknownKey, KeyID: KeyID(key2)}},
		{"rewritten from entry 6 without a key", func(t *testing.T, d *db.DB) {
			rewriteFrom(t, d, 6, HashHMAC, nil)
		}, VerifyError{Seq: 6, Kind: Downgraded}},
		{"rewritten from entry 6 in the old SHA-256 format", func(t *testing.T, d *db.DB) {
			rewriteFrom(t, d, 6, HashSHA256, nil)
		}, VerifyError{Seq: 6, Kind: Downgraded}},
		{"whole chain rewritten without a key", func(t *testing.T, d *db.DB) {
			rewriteFrom(t, d, 1, HashHMAC, nil)
		}, VerifyError{Seq: 1, Kind: Unkeyed, Through: 10}},
		{"whole chain rewritten in the old format", func(t *testing.T, d *db.DB) {
			rewriteFrom(t, d, 1, HashSHA256, nil)
		}, VerifyError{Seq: 1, Kind: Unkeyed, Through: 10}},
	}
	eachDatabase(t, func(t *testing.T, open func(keys ...[]byte) *db.DB) {
		ctx := context.Background()
		d := open(key1)
		seed(t, d, 10)
		rep, err := Verify(ctx, d)
		if err != nil || rep.Entries != 10 || rep.KeyedFrom != 1 || rep.Unkeyed != 0 {
			t.Fatalf("Verify = %+v, %v", rep, err)
		}
		if es := entriesFrom(t, d, 1); es[0].KeyID != KeyID(key1) || es[0].HashVersion != HashHMAC {
			t.Fatalf("first entry: version %d key %q", es[0].HashVersion, es[0].KeyID)
		}
		// The same chain without the key cannot be verified.
		if ve := verifyErr(t, open()); ve == nil || ve.Kind != UnknownKey || ve.Seq != 1 {
			t.Fatalf("Verify without the key = %v", ve)
		}
		disableTriggers(t, d)
		if _, err := d.Exec(ctx, "CREATE TABLE audit_copy AS SELECT * FROM audit_log"); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			c.attack(t, d)
			if ve := verifyErr(t, d); ve == nil || *ve != c.want {
				t.Errorf("%s: Verify = %v, want %v", c.name, ve, &c.want)
			} else {
				t.Logf("%s: %v", c.name, ve)
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

func TestCheckpoints(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func(keys ...[]byte) *db.DB) {
		ctx := context.Background()
		d := open(key1)
		seed(t, d, 10)
		cp, err := Head(ctx, d)
		if err != nil || cp.Seq != 10 {
			t.Fatalf("Head = %v, %v", cp, err)
		}
		parsed, err := ParseCheckpoint(cp.String())
		if err != nil || parsed != cp {
			t.Fatalf("ParseCheckpoint(%s) = %v, %v", cp, parsed, err)
		}
		seed(t, d, 2) // the log goes on after the checkpoint was taken
		if rep, err := Verify(ctx, d, cp); err != nil || rep.Checkpoints != 1 || rep.HeadSeq != 12 {
			t.Fatalf("Verify with checkpoint = %+v, %v", rep, err)
		}
		disableTriggers(t, d)
		if _, err := d.Exec(ctx, "CREATE TABLE audit_copy AS SELECT * FROM audit_log"); err != nil {
			t.Fatal(err)
		}
		restore := func() {
			for _, q := range []string{"DELETE FROM audit_log", "INSERT INTO audit_log SELECT * FROM audit_copy"} {
				if _, err := d.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}

		// Truncation: the chain alone still verifies; the checkpoint does not.
		if _, err := d.Exec(ctx, "DELETE FROM audit_log WHERE seq > 7"); err != nil {
			t.Fatal(err)
		}
		if ve := verifyErr(t, d); ve != nil {
			t.Fatalf("truncated chain without checkpoint: %v", ve)
		}
		if ve := verifyErr(t, d, cp); ve == nil || *ve != (VerifyError{Seq: 8, Kind: Truncated, Through: 10}) {
			t.Fatalf("truncated chain with checkpoint: %v", ve)
		}
		// Truncated, then new entries appended by someone with the key up
		// to past the checkpoint.
		seed(t, d, 5)
		if ve := verifyErr(t, d, cp); ve == nil || *ve != (VerifyError{Seq: 10, Kind: Rewritten}) {
			t.Fatalf("truncated and refilled: %v", ve)
		}
		restore()

		// Rewritten from entry 4 by someone with the key: only the
		// checkpoint tells.
		rewriteFrom(t, d, 4, HashHMAC, key1)
		if ve := verifyErr(t, d); ve != nil {
			t.Fatalf("rewrite with the key, no checkpoint: %v", ve)
		}
		if ve := verifyErr(t, d, cp); ve == nil || *ve != (VerifyError{Seq: 10, Kind: Rewritten}) {
			t.Fatalf("rewrite with the key, checkpoint: %v", ve)
		}
		restore()
		if _, err := Verify(ctx, d, cp); err != nil {
			t.Fatal(err)
		}

		for _, bad := range []string{"", "10", "0:" + cp.Hash, "x:" + cp.Hash, "10:abc", "10:" + cp.Hash + "00"} {
			if _, err := ParseCheckpoint(bad); err == nil {
				t.Errorf("ParseCheckpoint(%q) accepted", bad)
			}
		}
	})
}

// legacy writes n entries the way dfslab did before keyed chaining: hash
// version 1, plain SHA-256.
func legacy(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	prev := ""
	for i := range n {
		e := Entry{Seq: int64(i + 1), Time: t0.Add(time.Duration(i) * time.Second), ActorUserID: 1, Action: "org.update",
			ObjectType: "org", ObjectID: fmt.Sprint(i), details: "{}", PrevHash: prev, HashVersion: HashSHA256}
		e.Hash = computeHash(&e, nil)
		if _, err := d.Exec(ctx, `INSERT INTO audit_log (seq, at, actor_user_id, action, object_type, object_id, details, ip, request_id, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, '{}', '', '', ?, ?)`, e.Seq, e.Time.UnixMicro(), e.ActorUserID, e.Action, e.ObjectType, e.ObjectID, e.PrevHash, e.Hash); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
	}
}

func TestSwitchFromUnkeyedAndKeyRotation(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func(keys ...[]byte) *db.DB) {
		ctx := context.Background()
		plain := open()
		legacy(t, plain, 4)
		if rep, err := Verify(ctx, plain); err != nil || rep.Unkeyed != 4 || rep.KeyedFrom != 0 {
			t.Fatalf("legacy chain: %+v, %v", rep, err)
		}

		// The first append under a key records the switch first.
		d1 := open(key1)
		e, err := Record(ctx, d1, Entry{Action: "org.create"})
		if err != nil || e.Seq != 6 {
			t.Fatalf("Record = %+v, %v", e, err)
		}
		sw := entriesFrom(t, d1, 5)[0]
		if sw.Action != "audit.key" || sw.KeyID != KeyID(key1) || sw.Details["previous_hash_version"] != float64(HashSHA256) {
			t.Fatalf("switch entry: %+v", sw)
		}
		rep, err := Verify(ctx, d1)
		if err != nil || rep.Unkeyed != 4 || rep.KeyedFrom != 5 || rep.Entries != 6 {
			t.Fatalf("after the switch: %+v, %v", rep, err)
		}
		if ve := verifyErr(t, plain); ve == nil || *ve != (VerifyError{Seq: 5, Kind: UnknownKey, KeyID: KeyID(key1)}) {
			t.Fatalf("keyed chain verified without the key: %v", ve)
		}

		// A process without the key may not extend a keyed chain.
		if _, err := Record(ctx, plain, Entry{Action: "org.create"}); !errors.Is(err, ErrKeyMissing) {
			t.Fatalf("append without the key: %v", err)
		}
		if switched, err := EnsureKeyed(ctx, plain); !errors.Is(err, ErrKeyMissing) || switched {
			t.Fatalf("EnsureKeyed without the key: %v, %v", switched, err)
		}
		if switched, err := EnsureKeyed(ctx, d1); err != nil || switched {
			t.Fatalf("EnsureKeyed with the head's key: %v, %v", switched, err)
		}

		// A new key: EnsureKeyed records the switch; the entries under the
		// former key verify only when that key is given too.
		d2 := open(key2)
		if switched, err := EnsureKeyed(ctx, d2); err != nil || !switched {
			t.Fatalf("EnsureKeyed with a new key: %v, %v", switched, err)
		}
		if ve := verifyErr(t, d2); ve == nil || *ve != (VerifyError{Seq: 5, Kind: UnknownKey, KeyID: KeyID(key1)}) {
			t.Fatalf("rotated chain with the new key only: %v", ve)
		}
		if rep, err := Verify(ctx, open(key2, key1)); err != nil || rep.Entries != 7 {
			t.Fatalf("rotated chain with both keys: %+v, %v", rep, err)
		}

		// The legacy entries are still checked as what they are.
		disableTriggers(t, d1)
		if _, err := d1.Exec(ctx, "UPDATE audit_log SET object_id = 'x' WHERE seq = 2"); err != nil {
			t.Fatal(err)
		}
		if ve := verifyErr(t, d1); ve == nil || *ve != (VerifyError{Seq: 2, Kind: Altered}) {
			t.Fatalf("altered legacy entry: %v", ve)
		}
	})
}

func TestUnkeyedTailWithKeyGiven(t *testing.T) {
	eachDatabase(t, func(t *testing.T, open func(keys ...[]byte) *db.DB) {
		ctx := context.Background()
		seed(t, open(), 3)
		// Written without a key and never switched since: with a key given,
		// Verify cannot tell this from a rewrite, and says so.
		if ve := verifyErr(t, open(key1)); ve == nil || *ve != (VerifyError{Seq: 1, Kind: Unkeyed, Through: 3}) {
			t.Fatalf("unkeyed chain, key given: %v", ve)
		}
		if rep, err := Verify(ctx, open()); err != nil || rep.Unkeyed != 3 {
			t.Fatalf("unkeyed chain, no key: %+v, %v", rep, err)
		}
		if _, err := EnsureKeyed(ctx, open(key1)); err != nil {
			t.Fatal(err)
		}
		if rep, err := Verify(ctx, open(key1)); err != nil || rep.KeyedFrom != 4 || rep.Unkeyed != 3 {
			t.Fatalf("after the switch: %+v, %v", rep, err)
		}
	})
}

func TestDeriveKey(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	k, err := DeriveKey(secret)
	if err != nil || len(k) != 32 || bytes.Equal(k, secret) {
		t.Fatalf("DeriveKey = %x, %v", k, err)
	}
	k2, _ := DeriveKey(secret)
	other, _ := DeriveKey(key1)
	if !bytes.Equal(k, k2) || bytes.Equal(k, other) {
		t.Fatal("DeriveKey is not a function of the secret")
	}
	if k, err := DeriveKey(nil); k != nil || err != nil {
		t.Fatalf("DeriveKey(nil) = %x, %v", k, err)
	}
	if id := KeyID(nil); id != "" {
		t.Fatalf("KeyID(nil) = %q", id)
	}
	if id := KeyID(key1); len(id) != 16 || id == KeyID(key2) {
		t.Fatalf("KeyID = %q", id)
	}
}

func TestConcerned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seed(t, d, 2)
		// Org 10 invites a member of org 30: the entry is org 10's, and
		// concerns org 30 (given twice, with org 10 and a zero mixed in).
		ctx10 := WithActor(ctx, Actor{UserID: 1, OrgID: 10})
		e, err := Record(ctx10, d, Entry{OrgID: 10, Action: "member.add", ObjectType: "user", ObjectID: "7",
			Concerned: []int64{30, 10, 0, 30, 25}})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(e.Concerned) != "[25 30]" {
			t.Fatalf("stored Concerned = %v", e.Concerned)
		}
		for _, c := range []struct {
			org  int64
			want []int64
		}{{30, []int64{3}}, {25, []int64{3}}, {10, []int64{3, 1}}, {20, []int64{2}}, {99, nil}} {
			es, err := List(ctx, d, Filter{OrgID: c.org})
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, e := range es {
				seqs = append(seqs, e.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(c.want) {
				t.Errorf("org %d sees %v, want %v", c.org, seqs, c.want)
			}
		}
		es, _ := List(ctx, d, Filter{OrgID: 30})
		if len(es) != 1 || fmt.Sprint(es[0].Concerned) != "[25 30]" {
			t.Fatalf("List returns %+v", es)
		}
		if _, err := Verify(ctx, d); err != nil {
			t.Fatal(err)
		}

		// The side table is append-only, and the hash covers it.
		for _, q := range []string{"DELETE FROM audit_log_orgs", "UPDATE audit_log_orgs SET org_id = 31"} {
			if _, err := d.Exec(ctx, q); err == nil {
				t.Errorf("%s: accepted", q)
			}
		}
		disableTriggers(t, d)
		for _, c := range []struct{ name, do, undo string }{
			{"organisation added", "INSERT INTO audit_log_orgs (seq, org_id) VALUES (3, 40)", "DELETE FROM audit_log_orgs WHERE org_id = 40"},
			{"organisation added to an entry without any", "INSERT INTO audit_log_orgs (seq, org_id) VALUES (2, 40)", "DELETE FROM audit_log_orgs WHERE org_id = 40"},
			{"organisation removed", "DELETE FROM audit_log_orgs WHERE org_id = 30", "INSERT INTO audit_log_orgs (seq, org_id) VALUES (3, 30)"},
		} {
			if _, err := d.Exec(ctx, c.do); err != nil {
				t.Fatal(err)
			}
			if ve := verifyErr(t, d); ve == nil || ve.Kind != Altered {
				t.Errorf("%s: Verify = %v", c.name, ve)
			}
			if _, err := d.Exec(ctx, c.undo); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Verify(ctx, d); err != nil {
			t.Fatal(err)
		}
	})
}
