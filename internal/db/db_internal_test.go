package db

import "testing"

func TestRebind(t *testing.T) {
	cases := []struct{ in, pg string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)", "INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"},
		{"SELECT '?' , ? FROM t", "SELECT '?' , $1 FROM t"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{`SELECT "odd?col" FROM t WHERE x = ?`, `SELECT "odd?col" FROM t WHERE x = $1`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
	}
	for _, c := range cases {
		if got := rebind(Postgres, c.in); got != c.pg {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.pg)
		}
		if got := rebind(SQLite, c.in); got != c.in {
			t.Errorf("SQLite must keep %q, got %q", c.in, got)
		}
	}
}

func FuzzRebind(f *testing.F) {
	f.Add("SELECT 'a?b', ? -- c?\n ?")
	f.Add(`"x""?" ? '' ?`)
	f.Fuzz(func(t *testing.T, q string) {
		out := rebind(Postgres, q)
		// Rebinding never drops text outside placeholders: removing the
		// $n markers and the '?'s leaves the same characters.
		if len(out) < len(q) {
			t.Fatalf("rebind shortened %q to %q", q, out)
		}
	})
}

func TestSQLitePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                         DefaultPath,
		"x/y.db":                   "x/y.db",
		"sqlite:data/a.db":         "data/a.db",
		"sqlite:///abs/a.db":       "/abs/a.db",
		"file:a.db?_pragma=foo(1)": "a.db",
		"postgres://u@h/db":        "postgres://u@h/db",
	} {
		if got := SQLitePath(in); got != want && !IsPostgres(in) {
			t.Errorf("SQLitePath(%q) = %q, want %q", in, got, want)
		}
	}
	if !IsPostgres("postgresql://h/db") || IsPostgres("pg.db") {
		t.Error("IsPostgres")
	}
}
