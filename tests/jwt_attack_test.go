package tests

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/auth"
)

// forge signs claims the way an attacker (or a misconfigured peer) would.
type claims map[string]any

func (s *testServer) baseClaims(t *testing.T, a account) claims {
	now := time.Now()
	return claims{
		"sub": a.User.ID.String(), "jti": uuid.NewString(), "iss": "voiceassist", "aud": []string{"voiceassist-api"},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"role": a.User.Role, "typ": "access", "fam": uuid.NewString(), "ver": a.User.AuthEpoch,
	}
}

func sign(t *testing.T, c claims, alg jwa.SignatureAlgorithm, key any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range c {
		require.NoError(t, tok.Set(k, v))
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	require.NoError(t, err)
	return string(b)
}

// unsigned builds an "alg":"none" token by hand (jwx refuses to make one).
func unsigned(t *testing.T, c claims) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	p, err := json.Marshal(c)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

func TestJWTAttacks(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	a := s.account(t, auth.RoleUser)
	secret := []byte(s.Env["JWT_SECRET_KEY"])
	ctx := context.Background()

	// Sanity: a token forged with the real secret and correct claims is accepted, so each
	// refusal below is caused by the one thing the case changes.
	valid := sign(t, s.baseClaims(t, a), jwa.HS256, secret)
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(valid))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode(), "%s", me.Body)

	with := func(k string, v any) claims { c := s.baseClaims(t, a); c[k] = v; return c }
	without := func(k string) claims { c := s.baseClaims(t, a); delete(c, k); return c }
	pair := s.login(t, a.Email, a.Password).JSON200.Data

	cases := map[string]struct {
		token string
		code  string
	}{
		"alg none":                {unsigned(t, s.baseClaims(t, a)), "TOKEN_INVALID"},
		"wrong key":               {sign(t, s.baseClaims(t, a), jwa.HS256, []byte("another-secret-that-is-long-enough-000000")), "TOKEN_INVALID"},
		"HS512 with the secret":   {sign(t, s.baseClaims(t, a), jwa.HS512, secret), "TOKEN_INVALID"},
		"expired":                 {sign(t, with("exp", time.Now().Add(-time.Hour).Unix()), jwa.HS256, secret), "TOKEN_EXPIRED"},
		"not yet valid":           {sign(t, with("nbf", time.Now().Add(time.Hour).Unix()), jwa.HS256, secret), "TOKEN_INVALID"},
		"wrong audience":          {sign(t, with("aud", []string{"someone-else"}), jwa.HS256, secret), "TOKEN_INVALID"},
		"wrong issuer":            {sign(t, with("iss", "evil"), jwa.HS256, secret), "TOKEN_INVALID"},
		"no jti":                  {sign(t, without("jti"), jwa.HS256, secret), "TOKEN_INVALID"},
		"refresh used as access":  {pair.RefreshToken, "TOKEN_INVALID"},
		"role escalated in claim": {sign(t, with("role", "superadmin"), jwa.HS256, secret), ""},
		"stale epoch":             {sign(t, with("ver", a.User.AuthEpoch-1), jwa.HS256, secret), "TOKEN_REVOKED"},
		"unknown user":            {sign(t, with("sub", uuid.NewString()), jwa.HS256, secret), "TOKEN_INVALID"},
		"garbage":                 {"not.a.jwt", "TOKEN_INVALID"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.code == "" {
				// The role comes from the database, never from the token: still only a user.
				r, err := s.Client.ListUsersWithResponse(ctx, nil, bearerAuth(tc.token))
				require.NoError(t, err)
				require.Equal(t, http.StatusForbidden, r.StatusCode())
				return
			}
			r, err := s.Client.GetMeWithResponse(ctx, bearerAuth(tc.token))
			require.NoError(t, err)
			require.Equal(t, http.StatusUnauthorized, r.StatusCode(), "%s", r.Body)
			require.Equal(t, tc.code, errorOf(t, r.Body).Error.Code)
		})
	}
}

// TestAsymmetricKeysAndConfusion runs the gateway with RS256 and EdDSA keys: tokens verify,
// the JWKS publishes the public key, and an HS256 token "signed" with the public key (the
// classic algorithm-confusion attack) is refused.
func TestAsymmetricKeysAndConfusion(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	for alg, key := range map[string]any{"RS256": rsaKey, "EdDSA": edKey} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			der, err := x509.MarshalPKCS8PrivateKey(key)
			require.NoError(t, err)
			file := filepath.Join(t.TempDir(), "key.pem")
			require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
			s := startServer(t, map[string]string{"JWT_ALGORITHM": alg, "JWT_PRIVATE_KEY_FILE": file})
			ctx := context.Background()
			a := s.account(t, auth.RoleUser)

			pair := s.login(t, a.Email, a.Password).JSON200.Data
			me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(pair.AccessToken))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, me.StatusCode())

			jwks, err := s.Client.GetJWKSWithResponse(ctx)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, jwks.StatusCode())
			require.Len(t, jwks.JSON200.Keys, 1)
			k := jwks.JSON200.Keys[0]
			require.Equal(t, alg, *k.Alg)
			require.NotContains(t, string(jwks.Body), `"d"`, "the private part is never published")

			// Algorithm confusion: HS256 keyed with the public key's PEM.
			pub, err := x509.MarshalPKIXPublicKey(publicOf(key))
			require.NoError(t, err)
			pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
			forged := sign(t, s.baseClaims(t, a), jwa.HS256, pubPEM)
			r, err := s.Client.GetMeWithResponse(ctx, bearerAuth(forged))
			require.NoError(t, err)
			require.Equal(t, http.StatusUnauthorized, r.StatusCode())
			require.Equal(t, "TOKEN_INVALID", errorOf(t, r.Body).Error.Code)
		})
	}
}

func publicOf(k any) any {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	}
	return nil
}

func TestJWKSEmptyForHS256(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	r, err := s.Client.GetJWKSWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode())
	require.Empty(t, r.JSON200.Keys)
}
