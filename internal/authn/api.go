package authn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/web"
)

// Reasons an API request is refused: ErrTokenMissing and ErrTokenInvalid
// answer 401, ErrTokenScope 403.
var (
	ErrTokenMissing = errors.New("authn: no bearer token")
	ErrTokenScope   = errors.New("authn: token scope insufficient")
)

// maxTokenLen bounds what is looked up; real tokens are about 56 bytes.
const maxTokenLen = 200

// AuthenticateToken checks the Authorization header of an API request and
// returns the token and its owner.
func (s *Service) AuthenticateToken(ctx context.Context, authorization string) (Account, Token, error) {
	scheme, raw, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	raw = strings.TrimSpace(raw)
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return Account{}, Token{}, ErrTokenMissing
	}
	if len(raw) > maxTokenLen {
		return Account{}, Token{}, ErrTokenInvalid
	}
	t, acc, err := s.cfg.Store.AuthenticateToken(ctx, raw)
	if err != nil {
		return Account{}, Token{}, err
	}
	if !acc.Active {
		// A deactivated user's tokens die with the account.
		return Account{}, t, ErrTokenInvalid
	}
	return acc, t, nil
}

// RequireToken admits API requests with a bearer token of at least scope
// need. When the shell already authenticated the token it only checks the
// scope again; otherwise it authenticates the request itself, so the API
// stays closed even if a route is wired without the shell's policy.
func (s *Service) RequireToken(need web.Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := web.CurrentPrincipal(r.Context())
		if p == nil || !p.IsToken() {
			acc, t, err := s.AuthenticateToken(r.Context(), r.Header.Get("Authorization"))
			if err != nil {
				s.refuseToken(w, r, t, err)
				return
			}
			p = &web.Principal{
				User:       web.User{ID: acc.ID, Email: acc.Email, DisplayName: acc.DisplayName},
				TokenID:    t.ID,
				TokenScope: web.Scope(t.Scope),
			}
			if old := web.CurrentPrincipal(r.Context()); old != nil {
				p.Memberships = old.Memberships
			}
			r = r.WithContext(web.WithPrincipal(r.Context(), p))
		}
		if !p.TokenScope.Allows(need) {
			s.refuseToken(w, r, Token{ID: p.TokenID, UserID: p.User.ID}, ErrTokenScope)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Service) refuseToken(w http.ResponseWriter, r *http.Request, t Token, err error) {
	m := s.meta(r)
	m.ActorID = t.UserID
	id := ""
	if t.ID != 0 {
		id = fmt.Sprint(t.ID)
	}
	status, code := http.StatusUnauthorized, "invalid_token"
	if errors.Is(err, ErrTokenScope) {
		status, code = http.StatusForbidden, "insufficient_scope"
	} else if !errors.Is(err, ErrTokenMissing) && !errors.Is(err, ErrTokenInvalid) {
		s.log.ErrorContext(r.Context(), "authenticate token", "err", err)
		status, code = http.StatusInternalServerError, "server_error"
	}
	s.audit(r, m, "api.token_refused", "api_token", id, map[string]any{
		"reason": strings.TrimPrefix(err.Error(), "authn: "), "path": r.URL.Path,
	})
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="dfslab", error=%q`, code))
	}
	writeJSON(w, status, map[string]string{"error": code})
}

// meResponse is the body of GET /api/v1/me.
type meResponse struct {
	ID            int64          `json:"id"`
	Email         string         `json:"email"`
	DisplayName   string         `json:"display_name"`
	PlatformAdmin bool           `json:"platform_admin"`
	Memberships   []meMembership `json:"memberships"`
	Token         meToken        `json:"token"`
}

type meMembership struct {
	OrgID   int64  `json:"org_id"`
	OrgName string `json:"org_name"`
	Role    string `json:"role"`
}

type meToken struct {
	ID        int64     `json:"id"`
	Scope     string    `json:"scope"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func (s *Service) me(w http.ResponseWriter, r *http.Request) {
	p := web.CurrentPrincipal(r.Context())
	resp := meResponse{
		ID: p.User.ID, Email: p.User.Email, DisplayName: p.User.DisplayName,
		PlatformAdmin: p.User.PlatformAdmin, Memberships: []meMembership{},
		Token: meToken{ID: p.TokenID, Scope: string(p.TokenScope)},
	}
	for _, m := range p.Memberships {
		resp.Memberships = append(resp.Memberships, meMembership{OrgID: m.OrgID, OrgName: m.OrgName, Role: string(m.Role)})
	}
	writeJSON(w, http.StatusOK, resp)
}
