package db

import "testing"

func TestCacheable(t *testing.T) {
	cases := []struct {
		q    string
		want bool
	}{
		{"SELECT 1", true},
		{"  select id FROM t WHERE a = ?", true},
		{"\n\tINSERT INTO t (a) VALUES (?) RETURNING id", true},
		{"UPDATE t SET a = ?", true},
		{"DELETE FROM t", true},
		{"WITH x AS (SELECT 1) SELECT * FROM x", true},
		{"SELECT 1;", true},
		{"SELECT(1)", true},
		{"CREATE TABLE t (a INTEGER)", false},
		{"DROP TABLE t", false},
		{"VACUUM INTO ?", false},
		{"PRAGMA foreign_keys", false},
		{"BEGIN", false},
		{"INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)", false},
		{"SELECTED", false},
		{"", false},
	}
	for _, c := range cases {
		if got := cacheable(c.q); got != c.want {
			t.Errorf("cacheable(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestReadOnly(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                                  true,
		"\n  select id FROM t":                      true,
		"WITH x AS (SELECT 1) SELECT * FROM x":      true,
		"with x as (select 1) select 1":             true,
		"INSERT INTO t (a) VALUES (?) RETURNING id": false,
		"UPDATE t SET a = ? RETURNING a":            false,
		"DELETE FROM t RETURNING id":                false,
		"VACUUM INTO ?":                             false,
		"":                                          false,
		"WITH":                                      false,
	} {
		if got := readOnly(q); got != want {
			t.Errorf("readOnly(%q) = %v, want %v", q, got, want)
		}
	}
}
