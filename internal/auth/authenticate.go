package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
)

var errNoCredentials = apierr.Unauthorized("UNAUTHORIZED", "Authentication required")

// Authenticate is the contract validator's hook: it checks the credentials of one security
// scheme ("bearerAuth" or "apiKeyAuth") and the lowest role the operation declares as scope.
func (s *Service) Authenticate(ctx context.Context, scheme string, scopes []string, r *http.Request) (any, error) {
	min := RoleUser
	if len(scopes) > 0 {
		min = Role(scopes[0])
	}
	var p *Principal
	var err error
	switch scheme {
	case "bearerAuth":
		p, err = s.authBearer(ctx, r)
	case "apiKeyAuth":
		p, err = s.authAPIKey(ctx, r)
	default:
		err = errNoCredentials
	}
	if err != nil {
		return nil, err
	}
	if p.Scope == ScopePasswordChange && (r.Method != http.MethodPost || r.URL.Path != PasswordChangePath) {
		return nil, errPasswordChangeRequired
	}
	if !p.Role.AtLeast(min) {
		return nil, apierr.Forbidden(fmt.Sprintf("This operation requires the %s role", min))
	}
	return p, nil
}

// AuthenticateToken checks a raw access token as a bearer credential would be checked, for
// transports that cannot send an Authorization header (WebSocket).
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*Principal, error) {
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	p, err := s.authBearer(ctx, r)
	if err == nil && p.Scope != "" {
		return nil, errPasswordChangeRequired
	}
	return p, err
}

// PasswordChangePath is the one operation a ScopePasswordChange token may call.
const PasswordChangePath = "/api/auth/password"

var errPasswordChangeRequired = apierr.New(http.StatusForbidden, "PASSWORD_CHANGE_REQUIRED",
	"The password must be changed first (POST "+PasswordChangePath+")")

// authBearer accepts a valid access token that is not revoked (itself, its session or its
// auth epoch). One Redis round trip decides (revocation.go); role and email come from the
// token, since every change of either bumps the epoch. Tokens issued before the email claim
// existed read the user's state from PostgreSQL instead. Redis trouble fails closed.
func (s *Service) authBearer(ctx context.Context, r *http.Request) (*Principal, error) {
	raw, ok := bearer(r)
	if !ok {
		return nil, errNoCredentials
	}
	c, err := s.tokens.Parse(raw, TypeAccess)
	if err != nil {
		return nil, err
	}
	revoked, err := s.revoked(ctx, c.ID, c.Family, c.Subject, c.Epoch)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, errRevoked
	}
	p := &Principal{
		UserID: c.Subject, Email: c.Email, Role: c.Role,
		TokenID: c.ID, Family: c.Family, ExpiresAt: c.ExpiresAt, Epoch: c.Epoch, Scope: c.Scope,
	}
	if c.Email != "" {
		return p, nil
	}
	st, err := s.q.GetUserAuthState(ctx, c.Subject)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errInvalid
	}
	if err != nil {
		return nil, apierr.Unavailable("Authentication is unavailable; try again shortly", err)
	}
	if !st.IsActive || st.AuthEpoch != c.Epoch {
		return nil, errRevoked
	}
	p.Email, p.Role = st.Email, Role(st.Role)
	return p, nil
}

// Recheck reports whether a long-lived connection (a stream) may go on: the access token is
// not expired or revoked and the account is active at the same epoch. API-key principals
// are rechecked against their key.
func (s *Service) Recheck(ctx context.Context, p *Principal) error {
	if p.APIKeyID != nil {
		k, err := s.q.GetAPIKey(ctx, db.GetAPIKeyParams{ID: *p.APIKeyID, UserID: p.UserID})
		if err := unavailable(err); err != nil {
			return err
		}
		if err != nil || k.RevokedAt != nil || (k.ExpiresAt != nil && !k.ExpiresAt.After(s.now())) {
			return errRevoked
		}
		// The key acts for its owner: a deactivated owner, or one whose role fell below what
		// the stream was opened with, ends it (issue 21 #2), as an epoch bump ends a JWT's.
		st, err := s.q.GetUserAuthState(ctx, p.UserID)
		if err := unavailable(err); err != nil {
			return err
		}
		if err != nil || !st.IsActive || !Lower(Role(k.Role), Role(st.Role)).AtLeast(p.Role) {
			return errRevoked
		}
		return nil
	}
	if !p.ExpiresAt.After(s.now()) {
		return errExpired
	}
	revoked, err := s.revoked(ctx, p.TokenID, p.Family, p.UserID, p.Epoch)
	if err != nil {
		return err
	}
	if revoked {
		return errRevoked
	}
	st, err := s.q.GetUserAuthState(ctx, p.UserID)
	if err := unavailable(err); err != nil {
		return err
	}
	if err != nil || !st.IsActive || st.AuthEpoch != p.Epoch {
		return errRevoked
	}
	return nil
}

// unavailable turns a lookup that failed for another reason than a missing row (PostgreSQL
// down) into a 503, so that a stream is told to come back rather than that its credentials
// were revoked (issue 21 #21). It returns nil for nil and for "no rows".
func unavailable(err error) error {
	if err == nil || errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return apierr.Unavailable("Credentials cannot be checked now; try again shortly", err)
}

const apiKeyTag = "va_k_"

// authAPIKey accepts "va_k_<prefix>_<secret>" keys that are neither revoked nor expired and
// whose owner is active. The key acts with the lower of its own role and its owner's.
func (s *Service) authAPIKey(ctx context.Context, r *http.Request) (*Principal, error) {
	key := r.Header.Get("X-API-Key")
	if key == "" {
		return nil, errNoCredentials
	}
	bad := apierr.Unauthorized("INVALID_API_KEY", "The API key is invalid, revoked or expired").WithHeader("WWW-Authenticate", "Bearer, X-API-Key")
	prefix, ok := apiKeyPrefix(key)
	if !ok {
		return nil, bad
	}
	k, err := s.q.GetAPIKeyByPrefix(ctx, prefix)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, bad
	}
	if err != nil {
		return nil, apierr.Unavailable("Authentication is unavailable; try again shortly", err)
	}
	sum := sha256.Sum256([]byte(key))
	if subtle.ConstantTimeCompare(sum[:], k.SecretHash) != 1 || k.RevokedAt != nil ||
		(k.ExpiresAt != nil && !k.ExpiresAt.After(s.now())) || !k.OwnerActive {
		return nil, bad
	}
	// Record use at most once a minute per key: no write on every request.
	if k.LastUsedAt == nil || s.now().Sub(*k.LastUsedAt) > time.Minute {
		if err := s.q.TouchAPIKey(ctx, db.TouchAPIKeyParams{ID: k.ID, LastUsedIp: audit.RequestFrom(ctx).IP}); err != nil {
			s.log.WarnContext(ctx, "record api key use", "error", err)
		}
	}
	id := k.ID
	return &Principal{UserID: k.UserID, Email: k.OwnerEmail, Role: Lower(Role(k.Role), Role(k.OwnerRole)), APIKeyID: &id}, nil
}

func apiKeyPrefix(key string) (string, bool) {
	if !strings.HasPrefix(key, apiKeyTag) || len(key) > 200 {
		return "", false
	}
	rest := key[len(apiKeyTag):]
	i := strings.IndexByte(rest, '_')
	if i != 12 {
		return "", false
	}
	return key[:len(apiKeyTag)+i], true
}

// newAPIKey returns a fresh key, its lookup prefix and the hash to store.
func newAPIKey() (key, prefix string, hash []byte) {
	var p [6]byte
	var sec [32]byte
	_, _ = rand.Read(p[:])
	_, _ = rand.Read(sec[:])
	prefix = apiKeyTag + hex.EncodeToString(p[:])
	key = prefix + "_" + base64.RawURLEncoding.EncodeToString(sec[:])
	sum := sha256.Sum256([]byte(key))
	return key, prefix, sum[:]
}
