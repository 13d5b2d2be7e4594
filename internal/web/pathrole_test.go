package web

import (
	"context"
	"net/http/httptest"
	"testing"
)

func TestPathRole(t *testing.T) {
	p := &Principal{User: User{ID: 1}, Memberships: []Membership{{OrgID: 7, Role: RoleAnalyst}, {OrgID: 9, Role: RoleViewer}}}
	for _, tt := range []struct {
		name string
		p    *Principal
		org  int64
		want Role
	}{
		{"member", p, 7, RoleAnalyst},
		{"other membership", p, 9, RoleViewer},
		{"not a member", p, 8, ""},
		{"no org in path", p, 0, ""},
		{"anonymous", nil, 7, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			ri := &requestInfo{principal: tt.p, orgID: tt.org}
			r = r.WithContext(context.WithValue(r.Context(), requestInfoKey, ri))
			if got := PathRole(r); got != tt.want {
				t.Fatalf("PathRole = %q, want %q", got, tt.want)
			}
		})
	}
}
