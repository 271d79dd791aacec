package auth

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/config"
)

// Token types, carried in the "typ" claim so a refresh token never passes as an access token.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// ScopePasswordChange restricts an access token to POST /api/auth/password: the one a login
// with an admin's temporary password gets. Tokens without a scope are unrestricted.
const ScopePasswordChange = "password_change"

// Claims are what our tokens carry beyond the registered ones.
type Claims struct {
	Subject   uuid.UUID
	Email     string // access tokens since issue 17; "" in older ones
	Role      Role
	ID        uuid.UUID // jti
	Family    uuid.UUID // the login session the token descends from
	Epoch     int32     // the user's auth epoch at issue time
	Type      string
	Scope     string // "" or ScopePasswordChange
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Tokens signs and verifies JWTs with one pinned algorithm.
type Tokens struct {
	alg        jwa.SignatureAlgorithm
	signKey    jwk.Key
	verifyKey  jwk.Key
	public     jwk.Set
	issuer     string
	audience   string
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
	verified   verifiedCache // access tokens whose signature and claims were checked
}

// NewTokens builds the signer from configuration: HS256 with JWT_SECRET_KEY, or EdDSA/RS256
// with the PEM private key in JWT_PRIVATE_KEY_FILE (its public half is published as JWKS).
func NewTokens(cfg *config.Config, now func() time.Time) (*Tokens, error) {
	t := &Tokens{
		issuer: cfg.JWTIssuer, audience: cfg.JWTAudience,
		accessTTL: cfg.AccessTokenTTL, refreshTTL: cfg.RefreshTokenTTL,
		now: now, public: jwk.NewSet(),
	}
	switch cfg.JWTAlgorithm {
	case "HS256":
		k, err := jwk.FromRaw(cfg.JWTSecret)
		if err != nil {
			return nil, fmt.Errorf("auth: JWT_SECRET_KEY: %w", err)
		}
		t.alg, t.signKey, t.verifyKey = jwa.HS256, k, k
	case "EdDSA", "RS256":
		pem, err := os.ReadFile(cfg.JWTPrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("auth: JWT_PRIVATE_KEY_FILE: %w", err)
		}
		priv, err := jwk.ParseKey(pem, jwk.WithPEM(true))
		if err != nil {
			return nil, fmt.Errorf("auth: JWT_PRIVATE_KEY_FILE: %w", err)
		}
		t.alg = jwa.SignatureAlgorithm(cfg.JWTAlgorithm)
		wantKty := jwa.OKP
		if t.alg == jwa.RS256 {
			wantKty = jwa.RSA
		}
		if priv.KeyType() != wantKty {
			return nil, fmt.Errorf("auth: JWT_PRIVATE_KEY_FILE holds a %s key, %s needs %s", priv.KeyType(), t.alg, wantKty)
		}
		if err := jwk.AssignKeyID(priv); err != nil {
			return nil, err
		}
		pub, err := jwk.PublicKeyOf(priv)
		if err != nil {
			return nil, err
		}
		_ = pub.Set(jwk.AlgorithmKey, t.alg)
		_ = pub.Set(jwk.KeyUsageKey, "sig")
		t.signKey, t.verifyKey = priv, pub
		if err := t.public.AddKey(pub); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("auth: unsupported JWT_ALGORITHM %q", cfg.JWTAlgorithm)
	}
	return t, nil
}

// JWKS is the public key set (empty for HS256).
func (t *Tokens) JWKS() jwk.Set { return t.public }

// AccessTTL and RefreshTTL are the configured lifetimes.
func (t *Tokens) AccessTTL() time.Duration  { return t.accessTTL }
func (t *Tokens) RefreshTTL() time.Duration { return t.refreshTTL }

// Issue signs a token of the given type.
func (t *Tokens) Issue(typ string, user uuid.UUID, email string, role Role, epoch int32, family uuid.UUID) (string, Claims, error) {
	return t.issue(typ, user, email, role, epoch, family, "")
}

// IssueScoped signs an access token restricted to scope.
func (t *Tokens) IssueScoped(scope string, user uuid.UUID, email string, role Role, epoch int32, family uuid.UUID) (string, Claims, error) {
	return t.issue(TypeAccess, user, email, role, epoch, family, scope)
}

func (t *Tokens) issue(typ string, user uuid.UUID, email string, role Role, epoch int32, family uuid.UUID, scope string) (string, Claims, error) {
	ttl := t.accessTTL
	if typ == TypeRefresh {
		ttl = t.refreshTTL
	}
	now := t.now().UTC().Truncate(time.Second)
	c := Claims{Subject: user, Role: role, ID: uuid.New(), Family: family, Epoch: epoch, Type: typ, Scope: scope, IssuedAt: now, ExpiresAt: now.Add(ttl)}
	b := jwt.NewBuilder()
	if typ == TypeAccess {
		// Authentication then needs no database read for the caller's email (the role is
		// here already; both change only with an epoch bump, which ends the token).
		c.Email = email
		b = b.Claim("email", email)
	}
	if scope != "" {
		b = b.Claim("scp", scope)
	}
	tok, err := b.
		Subject(user.String()).
		JwtID(c.ID.String()).
		Issuer(t.issuer).
		Audience([]string{t.audience}).
		IssuedAt(now).
		NotBefore(now).
		Expiration(c.ExpiresAt).
		Claim("role", string(role)).
		Claim("typ", typ).
		Claim("fam", family.String()).
		Claim("ver", epoch).
		Build()
	if err != nil {
		return "", Claims{}, err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(t.alg, t.signKey))
	if err != nil {
		return "", Claims{}, err
	}
	return string(signed), c, nil
}

var (
	errExpired = apierr.Unauthorized("TOKEN_EXPIRED", "The token has expired")
	errInvalid = apierr.Unauthorized("TOKEN_INVALID", "The token is invalid")
)

// Parse verifies signature (with the pinned algorithm only), issuer, audience, time claims
// and the token type. Any failure is a 401 that says no more than expired or invalid.
func (t *Tokens) Parse(raw, typ string) (Claims, error) {
	if typ == TypeAccess {
		if c, ok := t.verified.get(raw); ok {
			if t.now().After(c.ExpiresAt.Add(tokenSkew)) {
				return Claims{}, errExpired
			}
			return c, nil
		}
	}
	c, err := t.parse(raw, typ)
	if err == nil && typ == TypeAccess {
		t.verified.put(raw, c)
	}
	return c, err
}

// tokenSkew is the clock difference tolerated on time claims.
const tokenSkew = 30 * time.Second

func (t *Tokens) parse(raw, typ string) (Claims, error) {
	tok, err := jwt.ParseString(raw,
		jwt.WithKey(t.alg, t.verifyKey),
		jwt.WithValidate(true),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithAcceptableSkew(tokenSkew),
		jwt.WithClock(jwt.ClockFunc(t.now)),
		jwt.WithRequiredClaim("jti"),
		jwt.WithRequiredClaim("exp"),
		jwt.WithRequiredClaim("iat"),
	)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired()) {
			return Claims{}, errExpired
		}
		return Claims{}, errInvalid
	}
	c := Claims{IssuedAt: tok.IssuedAt(), ExpiresAt: tok.Expiration()}
	var ok bool
	if c.Subject, err = uuid.Parse(tok.Subject()); err != nil {
		return Claims{}, errInvalid
	}
	if c.ID, err = uuid.Parse(tok.JwtID()); err != nil {
		return Claims{}, errInvalid
	}
	priv := tok.PrivateClaims()
	if c.Type, ok = priv["typ"].(string); !ok || c.Type != typ {
		return Claims{}, errInvalid
	}
	fam, _ := priv["fam"].(string)
	if c.Family, err = uuid.Parse(fam); err != nil {
		return Claims{}, errInvalid
	}
	role, _ := priv["role"].(string)
	if c.Role = Role(role); !c.Role.Valid() {
		return Claims{}, errInvalid
	}
	ver, ok := priv["ver"].(float64)
	if !ok {
		return Claims{}, errInvalid
	}
	c.Epoch = int32(ver)
	c.Email, _ = priv["email"].(string)
	if scp, present := priv["scp"]; present {
		if c.Scope, ok = scp.(string); !ok || c.Scope != ScopePasswordChange {
			return Claims{}, errInvalid
		}
	}
	return c, nil
}

// bearer extracts the token of an "Authorization: Bearer ..." header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) <= len(p) || !equalFoldASCII(h[:len(p)], p) {
		return "", false
	}
	return h[len(p):], true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}
