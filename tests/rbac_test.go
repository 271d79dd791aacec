package tests

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/auth"
)

// TestRBACMatrix walks every operation of the contract with every role and checks that the
// gateway answers exactly what the operation's declared scope implies: 401 without
// credentials, 403 below the declared role, and neither at or above it. A new endpoint is
// covered the moment it is declared.
func TestRBACMatrix(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	doc, _, err := loadSpec()
	require.NoError(t, err)

	roles := []auth.Role{auth.RoleUser, auth.RoleViewer, auth.RoleAdmin, auth.RoleSuperadmin}
	accounts := map[auth.Role]account{}
	for _, r := range roles {
		accounts[r] = s.account(t, r)
	}
	global := doc.Security

	type op struct{ method, path, min string }
	var ops []op
	for path, item := range doc.Paths.Map() {
		for method, o := range item.Operations() {
			sec := global
			if o.Security != nil {
				sec = *o.Security
			}
			min := ""         // public
			optional := false // anonymous callers allowed, credentials used when given
			for _, req := range sec {
				if scopes, ok := req["bearerAuth"]; ok {
					min = scopes[0]
				}
				optional = optional || len(req) == 0
			}
			if len(sec) > 0 {
				require.NotEmpty(t, min, "%s %s: every secured operation declares its role as a bearerAuth scope", method, path)
				require.True(t, auth.Role(min).Valid(), "%s %s: scope %q is not a role", method, path, min)
			}
			if optional {
				min = ""
			}
			// Operations that check a token themselves (the WebSocket, which cannot carry an
			// Authorization header from a browser) name their role in x-required-role.
			if r, ok := o.Extensions["x-required-role"].(string); ok {
				min = r
			}
			ops = append(ops, op{method, path, min})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })

	checked := 0
	for _, o := range ops {
		path := o.path
		for _, p := range []string{"{id}", "{flag}", "{key}"} {
			path = strings.ReplaceAll(path, p, uuid.NewString())
		}
		path = strings.ReplaceAll(path, "{name}", "nothing.js")
		body := ""
		if item := doc.Paths.Find(o.path); item.GetOperation(o.method).RequestBody != nil {
			body = "{}"
		}
		callers := append([]auth.Role{""}, roles...)
		for _, r := range callers {
			name := fmt.Sprintf("%s %s as %s", o.method, o.path, orAnon(r))
			hdr := map[string]string{}
			if r != "" {
				hdr["Authorization"] = "Bearer " + s.token(t, accounts[r]) // a fresh session: logout cannot spoil later rows
			}
			res := s.status(t, o.method, path, body, hdr)
			switch {
			case o.min == "":
				require.NotContains(t, []int{401, 403}, res.StatusCode, "%s: public operation", name)
			case r == "":
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, name)
			case !r.AtLeast(auth.Role(o.min)):
				require.Equal(t, http.StatusForbidden, res.StatusCode, "%s (needs %s)", name, o.min)
			default:
				require.NotContains(t, []int{401, 403}, res.StatusCode, "%s (needs %s)", name, o.min)
				require.Less(t, res.StatusCode, 500, name)
			}
			checked++
		}
	}
	t.Logf("RBAC matrix: %d operations x %d callers = %d checks", len(ops), 5, checked)
}

func orAnon(r auth.Role) string {
	if r == "" {
		return "anonymous"
	}
	return string(r)
}

// status sends a request and closes the body unread, so endless responses (event streams)
// do not hold the walk up. The contract is still checked.
func (s *testServer) status(t *testing.T, method, path, body string, header map[string]string) *http.Response {
	t.Helper()
	res := s.send(t, method, path, body, header)
	res.Body.Close()
	return res
}
