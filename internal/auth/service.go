package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/password"
	"github.com/voiceassist/gateway/internal/ratelimit"
	"github.com/voiceassist/gateway/internal/telemetry"
)

// Service holds accounts, sessions and credentials.
type Service struct {
	pool    *pgxpool.Pool
	q       *db.Queries
	rdb     redis.UniversalClient
	prefix  string
	tokens  *Tokens
	hasher  hashers
	limiter *ratelimit.Limiter
	limits  limits
	maxKeys int // API keys per user (MAX_API_KEYS_PER_USER; 0 = no cap)
	log     *slog.Logger
	now     func() time.Time
	// Metrics counts logins and registrations by outcome (nil: not counted).
	Metrics *telemetry.Business
	reload  sync.Mutex // one revocation reload at a time (revocation.go)
	reads   *readBatch // the revocation reads of concurrent requests, pipelined (batch.go)

	// Lifetimes of invitation and password reset tokens (admin.go).
	invitationTTL, resetTTL time.Duration
}

type limits struct {
	enabled                                   bool
	loginIP, loginFailures, register, refresh ratelimit.Rule
	// accountFailures counts one account's failures from every IP: past its first
	// accountThreshold hits, logins for it are delayed (up to maxDelay), never refused, so
	// nobody can lock another user out. loginFailures is keyed on (IP, account).
	accountFailures  ratelimit.Rule
	accountThreshold int
	maxDelay         time.Duration
	// adminAction is the limit of each admin user action per admin per 5 minutes; redeem
	// limits invitation and reset-token redemptions per client IP.
	adminAction int
	redeem      ratelimit.Rule
}

// delaySteps is how many failures past the account threshold the delay keeps doubling
// (from firstDelay); beyond them it stays at the maximum.
const (
	delaySteps = 16
	firstDelay = 250 * time.Millisecond
)

// NewService wires the account service. now is injectable for tests.
func NewService(cfg *config.Config, pool *pgxpool.Pool, rdb redis.UniversalClient, log *slog.Logger, now func() time.Time) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	tokens, err := NewTokens(cfg, now)
	if err != nil {
		return nil, err
	}
	return &Service{
		pool: pool, q: db.New(pool), rdb: rdb, reads: &readBatch{rdb: rdb}, prefix: cfg.RedisKeyPrefix,
		tokens: tokens, hasher: newHashers(), limiter: ratelimit.New(rdb, cfg.RedisKeyPrefix), log: log, now: now,
		maxKeys: cfg.MaxAPIKeysPerUser,

		invitationTTL: cfg.InvitationTTL, resetTTL: cfg.PasswordResetTTL,
		limits: limits{
			enabled:       cfg.RateLimitEnabled,
			loginIP:       ratelimit.Rule{Name: "login_ip", Limit: cfg.LoginPerMinute, Window: time.Minute},
			loginFailures: ratelimit.Rule{Name: "login_failures_ip", Limit: cfg.LoginFailures, Window: 15 * time.Minute},
			accountFailures: ratelimit.Rule{Name: "login_failures_account", Limit: cfg.LoginAccountFailures + delaySteps,
				Window: 15 * time.Minute},
			accountThreshold: cfg.LoginAccountFailures,
			maxDelay:         cfg.LoginMaxDelay,
			register:         ratelimit.Rule{Name: "register_ip", Limit: cfg.RegisterPerHour, Window: time.Hour},
			adminAction:      cfg.AdminUserActions,
			redeem:           ratelimit.Rule{Name: "token_redeem_ip", Limit: cfg.TokenRedeemPerHour, Window: time.Hour},
			refresh:          ratelimit.Rule{Name: "refresh_family", Limit: cfg.RefreshPerMinute, Window: time.Minute},
		},
	}, nil
}

// Tokens exposes the signer (JWKS, lifetimes).
func (s *Service) Tokens() *Tokens { return s.tokens }

// Pair is a freshly issued access + refresh token.
type Pair struct {
	Access, Refresh string
	AccessClaims    Claims
	RefreshClaims   Claims
}

// allow applies a rate-limit rule; Redis trouble fails closed (503).
func (s *Service) allow(ctx context.Context, r ratelimit.Rule, key string, count bool) error {
	if !s.limits.enabled {
		return nil
	}
	return s.limiter.Check(ctx, r, key, count, "Too many requests; retry later")
}

// Register creates a user account after the password policy passes. An email that already
// has an account gets the same answer as a new one (a user that was not stored, with a fresh
// id), after the same work, so registration cannot tell which emails have accounts; the
// existing account is untouched and the attempt is audited.
func (s *Service) Register(ctx context.Context, email, pw, fullName, ip string) (User, error) {
	if err := s.allow(ctx, s.limits.register, ip, true); err != nil {
		s.Metrics.Registration(err)
		return User{}, err
	}
	u, err := s.CreateUser(ctx, email, pw, fullName, RoleUser, nil)
	s.Metrics.Registration(err) // an existing email counts as such, though answered as new
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != codeEmailExists {
		return u, err
	}
	email = NormalizeEmail(email)
	if err := audit.RecordNow(ctx, s.pool, audit.Entry{
		Actor: audit.Actor{Email: email}, Action: "auth.register_existing_email", ResourceType: "user", Success: false,
	}); err != nil {
		s.log.ErrorContext(ctx, "audit registration of an existing email", "error", err)
	}
	now := s.now().Truncate(time.Microsecond) // PostgreSQL's precision, as a stored account has
	return User{ID: uuid.New(), Email: email, FullName: strings.TrimSpace(fullName), Role: RoleUser, IsActive: true, CreatedAt: now, UpdatedAt: now}, nil
}

const codeEmailExists = "EMAIL_ALREADY_EXISTS"

// CreateUser makes an account with a role (the bootstrap and the CLI use it for superadmins).
func (s *Service) CreateUser(ctx context.Context, email, pw, fullName string, role Role, actor *Principal) (User, error) {
	email, err := CleanEmail(email)
	if err != nil {
		return User{}, err
	}
	if fullName, err = CleanName("full_name", fullName); err != nil {
		return User{}, err
	}
	if vs := password.Check("password", pw, email); len(vs) > 0 {
		return User{}, policyError(vs)
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return User{}, fmt.Errorf("auth: hash password: %w", err)
	}
	var u db.User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		u, err = db.New(tx).CreateUser(ctx, db.CreateUserParams{Email: email, FullName: fullName, PasswordHash: &hash, Role: string(role)})
		if err != nil {
			if ae := apierr.From(err); ae.Status == http.StatusConflict {
				return apierr.Conflict(codeEmailExists, "An account with this email already exists").WithField("email")
			}
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(actor, &u), Action: "users.created", ResourceType: "user", ResourceID: u.ID.String(),
			Success: true, Details: map[string]any{"role": u.Role, "email": u.Email},
		})
	})
	if err != nil {
		return User{}, err
	}
	return userOf(u), nil
}

func policyError(vs []password.Violation) *apierr.Error {
	fes := make([]apierr.FieldError, len(vs))
	for i, v := range vs {
		fes[i] = apierr.FieldError{Field: v.Field, Message: v.Message}
	}
	e := apierr.Validation(http.StatusUnprocessableEntity, fes...)
	e.Code = "WEAK_PASSWORD"
	return e
}

// actorOf names who did something: the principal, or the subject itself (self-service).
func actorOf(p *Principal, self *db.User) audit.Actor {
	if p != nil {
		id := p.UserID
		return audit.Actor{ID: &id, Email: p.Email, Role: string(p.Role)}
	}
	if self != nil {
		id := self.ID
		return audit.Actor{ID: &id, Email: self.Email, Role: self.Role}
	}
	return audit.Actor{}
}

var errBadCredentials = apierr.Unauthorized("INVALID_CREDENTIALS", "Email or password is incorrect")

// failureKey is the (client IP, account) pair failed logins are counted against; an IP
// holds no '|', so pairs cannot collide.
func failureKey(ip, email string) string { return ip + "|" + email }

// throttleLogin refuses a password check for email from ip after too many failures of that
// pair, and delays it (never refuses it) after too many failures of the account from
// everywhere: an attacker can exhaust their own IPs' allowance, not the owner's.
func (s *Service) throttleLogin(ctx context.Context, email, ip string) error {
	if !s.limits.enabled {
		return nil
	}
	if err := s.allow(ctx, s.limits.loginFailures, failureKey(ip, email), false); err != nil {
		return err
	}
	res, err := s.limiter.Peek(ctx, s.limits.accountFailures, email)
	if err != nil {
		return apierr.Unavailable("Rate limiting is unavailable; try again shortly", err)
	}
	d := loginDelay(res.Limit-res.Remaining-s.limits.accountThreshold, s.limits.maxDelay)
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loginDelay is the wait before a login after excess account-wide failures past the
// threshold: 0, then doubling from firstDelay up to max.
func loginDelay(excess int, ceiling time.Duration) time.Duration {
	if excess <= 0 {
		return 0
	}
	return min(firstDelay<<min(excess-1, delaySteps), ceiling)
}

// Login checks the credentials and starts a session (a new refresh-token family).
func (s *Service) Login(ctx context.Context, email, pw, ip string) (_ Pair, _ User, err error) {
	defer func() { s.Metrics.Login(err) }()
	email = NormalizeEmail(email)
	if err := s.allow(ctx, s.limits.loginIP, ip, true); err != nil {
		return Pair{}, User{}, err
	}
	if err := s.throttleLogin(ctx, email, ip); err != nil {
		return Pair{}, User{}, err
	}
	u, err := s.q.GetUserByEmail(ctx, email)
	if errors.Is(err, pgx.ErrNoRows) {
		s.hasher.VerifyDummy(ctx, pw) // same time as a real check: no enumeration by timing
		s.failedLogin(ctx, email, ip, nil, "unknown_email")
		return Pair{}, User{}, errBadCredentials
	}
	if err != nil {
		return Pair{}, User{}, err
	}
	if u.PasswordHash == nil {
		// An invited account that has not set a password: the answer and the time of a
		// wrong password.
		s.hasher.VerifyDummy(ctx, pw)
		s.failedLogin(ctx, email, ip, &u, "no_password")
		return Pair{}, User{}, errBadCredentials
	}
	ok, err := s.hasher.Verify(ctx, pw, *u.PasswordHash)
	if err != nil {
		return Pair{}, User{}, fmt.Errorf("auth: verify password of %s: %w", u.ID, err)
	}
	if !ok {
		s.failedLogin(ctx, email, ip, &u, "wrong_password")
		return Pair{}, User{}, errBadCredentials
	}
	if !u.IsActive {
		// The same answer as a wrong password (after the same work): a distinct one would
		// confirm the password of a deactivated account.
		s.failedLogin(ctx, email, ip, &u, "inactive")
		return Pair{}, User{}, errBadCredentials
	}
	if s.limits.enabled {
		// Only this pair's count: the account-wide one decays by itself, so a login by the
		// owner does not hand an attacker a fresh allowance.
		if err := s.limiter.Reset(ctx, s.limits.loginFailures, failureKey(ip, email)); err != nil {
			s.log.WarnContext(ctx, "reset login failures", "error", err)
		}
	}
	var pair Pair
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if s.hasher.NeedsRehash(*u.PasswordHash) {
			if h, err := s.hasher.Hash(ctx, pw); err == nil {
				if err := q.RehashPassword(ctx, db.RehashPasswordParams{ID: u.ID, PasswordHash: &h}); err != nil {
					return err
				}
			}
		}
		if u.MustChangePassword {
			// A temporary password from an admin: no session, only a token for
			// POST /api/auth/password.
			return s.passwordChangeRequired(ctx, tx, u)
		}
		if err := q.TouchLogin(ctx, u.ID); err != nil {
			return err
		}
		var err error
		if pair, err = s.issue(ctx, q, userOf(u), uuid.New()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(nil, &u), Action: "auth.login_success", ResourceType: "user", ResourceID: u.ID.String(),
			Success: true, Details: map[string]any{"session": pair.RefreshClaims.Family.String()},
		})
	})
	if err != nil {
		return Pair{}, User{}, err
	}
	now := s.now()
	u.LastLoginAt = &now
	return pair, userOf(u), nil
}

// failedLogin counts the failure against the (IP, account) pair and the account, and audits
// it. Neither may fail the request: the client gets 401 whatever happens here.
func (s *Service) failedLogin(ctx context.Context, email, ip string, u *db.User, reason string) {
	if s.limits.enabled {
		if _, err := s.limiter.Hit(ctx, s.limits.loginFailures, failureKey(ip, email)); err != nil {
			s.log.WarnContext(ctx, "count failed login", "error", err)
		}
		if _, err := s.limiter.Hit(ctx, s.limits.accountFailures, email); err != nil {
			s.log.WarnContext(ctx, "count failed login of the account", "error", err)
		}
	}
	e := audit.Entry{Action: "auth.login_failed", ResourceType: "user", Success: false, Details: map[string]any{"reason": reason}}
	if u != nil {
		e.Actor, e.ResourceID = actorOf(nil, u), u.ID.String()
	} else {
		e.Actor = audit.Actor{Email: email}
	}
	if err := audit.RecordNow(ctx, s.pool, e); err != nil {
		s.log.ErrorContext(ctx, "audit failed login", "error", err)
	}
}

// issue signs a pair in family and records the refresh token.
func (s *Service) issue(ctx context.Context, q *db.Queries, u User, family uuid.UUID) (Pair, error) {
	role := u.Role
	access, ac, err := s.tokens.Issue(TypeAccess, u.ID, u.Email, role, u.AuthEpoch, family)
	if err != nil {
		return Pair{}, err
	}
	refresh, rc, err := s.tokens.Issue(TypeRefresh, u.ID, u.Email, role, u.AuthEpoch, family)
	if err != nil {
		return Pair{}, err
	}
	if err := q.InsertRefreshToken(ctx, db.InsertRefreshTokenParams{
		Jti: rc.ID, FamilyID: family, UserID: u.ID, IssuedAt: rc.IssuedAt, ExpiresAt: rc.ExpiresAt,
	}); err != nil {
		return Pair{}, err
	}
	return Pair{Access: access, Refresh: refresh, AccessClaims: ac, RefreshClaims: rc}, nil
}

// IssueFor starts a session for u without a password (tests and the CLI).
func (s *Service) IssueFor(ctx context.Context, u User) (Pair, error) {
	return s.issue(ctx, s.q, u, uuid.New())
}

// Refresh rotates a refresh token. A token that was already used means it leaked (or was
// replayed): the whole family is revoked, in Postgres and for its access tokens in Redis.
func (s *Service) Refresh(ctx context.Context, raw string) (Pair, User, error) {
	c, err := s.tokens.Parse(raw, TypeRefresh)
	if err != nil {
		return Pair{}, User{}, err
	}
	if err := s.allow(ctx, s.limits.refresh, c.Family.String(), true); err != nil {
		return Pair{}, User{}, err
	}
	var pair Pair
	var user db.User
	var reused bool
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		rt, err := q.GetRefreshTokenForUpdate(ctx, c.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errInvalid
		}
		if err != nil {
			return err
		}
		if rt.RevokedAt != nil {
			return errRevoked
		}
		u, err := q.GetUser(ctx, rt.UserID)
		if err != nil {
			return err
		}
		if rt.UsedAt != nil {
			reused = true
			if _, err := q.RevokeFamily(ctx, rt.FamilyID); err != nil {
				return err
			}
			if err := s.recordRevoked(ctx, q, rt.FamilyID); err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Entry{
				Actor: actorOf(nil, &u), Action: "auth.refresh_token_reused", ResourceType: "session",
				ResourceID: rt.FamilyID.String(), Success: false,
				Details: map[string]any{"detail": "a rotated refresh token was presented again; the session was revoked"},
			})
		}
		if !u.IsActive || u.AuthEpoch != c.Epoch {
			return errRevoked
		}
		if err := q.MarkRefreshTokenUsed(ctx, rt.Jti); err != nil {
			return err
		}
		user = u
		pair, err = s.issue(ctx, q, userOf(u), rt.FamilyID)
		return err
	})
	if reused {
		// The family's live access tokens die too; the Postgres revocation above is committed.
		if err := s.revokeFamilyAccess(ctx, c.Family); err != nil {
			s.log.ErrorContext(ctx, "revoke reused family in redis", "error", err)
		}
		return Pair{}, User{}, errRevoked
	}
	if err != nil {
		return Pair{}, User{}, err
	}
	return pair, userOf(user), nil
}

var errRevoked = apierr.Unauthorized("TOKEN_REVOKED", "The token has been revoked")

// Logout revokes the caller's access token and its whole session.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	if p.APIKeyID != nil {
		return apierr.New(http.StatusBadRequest, "BAD_REQUEST", "API keys are revoked with DELETE /api/auth/api-keys/{id}")
	}
	// PostgreSQL first: a Redis that forgets (restart, flush) is reloaded from it, and a
	// reload racing this logout either sees the committed row or precedes the Redis write.
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := q.RevokeFamily(ctx, p.Family); err != nil {
			return err
		}
		if err := s.recordRevoked(ctx, q, p.Family); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(p, nil), Action: "auth.logout", ResourceType: "session", ResourceID: p.Family.String(), Success: true,
		})
	})
	if err != nil {
		return err
	}
	ttl := time.Until(p.ExpiresAt) + time.Minute
	pipe := s.rdb.TxPipeline()
	pipe.Set(ctx, s.prefix+"revoked:jti:"+p.TokenID.String(), "1", ttl)
	pipe.Set(ctx, s.prefix+"revoked:fam:"+p.Family.String(), "1", s.tokens.refreshTTL+time.Minute)
	if _, err := pipe.Exec(ctx); err != nil {
		// Stored durably, but not yet on the fast path: the client should log out again.
		return apierr.Unavailable("Token revocation is unavailable; try again shortly", err)
	}
	return nil
}

func (s *Service) revokeFamilyAccess(ctx context.Context, families ...uuid.UUID) error {
	if len(families) == 0 {
		return nil
	}
	pipe := s.rdb.TxPipeline()
	s.setRevokedFamilies(ctx, pipe, families)
	_, err := pipe.Exec(ctx)
	return err
}

// endSessions revokes every session of a user in tx, with the epoch bump that accompanies
// it; after the commit, sessionsEnded puts both on Redis' fast path.
func (s *Service) endSessions(ctx context.Context, q *db.Queries, user uuid.UUID) ([]uuid.UUID, error) {
	return q.RevokeUserFamilies(ctx, user)
}

// ChangePassword checks the current password, applies the policy, ends every session and
// starts a new one for the caller.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next string) (Pair, User, error) {
	u, err := s.q.GetUser(ctx, p.UserID)
	if err != nil {
		return Pair{}, User{}, err
	}
	ip := audit.RequestFrom(ctx).IP
	if err := s.throttleLogin(ctx, u.Email, ip); err != nil {
		return Pair{}, User{}, err
	}
	ok := false
	if u.PasswordHash != nil {
		if ok, err = s.hasher.Verify(ctx, current, *u.PasswordHash); err != nil {
			return Pair{}, User{}, err
		}
	}
	if !ok {
		s.failedLogin(ctx, u.Email, ip, &u, "wrong_current_password")
		return Pair{}, User{}, apierr.Invalid("current_password", "is incorrect")
	}
	if vs := password.Check("new_password", next, u.Email); len(vs) > 0 {
		return Pair{}, User{}, policyError(vs)
	}
	if current == next {
		return Pair{}, User{}, apierr.Invalid("new_password", "must differ from the current password")
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return Pair{}, User{}, err
	}
	var pair Pair
	var families []uuid.UUID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		var err error
		if u, err = q.UpdatePassword(ctx, db.UpdatePasswordParams{ID: u.ID, PasswordHash: &hash}); err != nil {
			return err
		}
		if families, err = s.endSessions(ctx, q, u.ID); err != nil {
			return err
		}
		if pair, err = s.issue(ctx, q, userOf(u), uuid.New()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(p, nil), Action: "auth.password_changed", ResourceType: "user", ResourceID: u.ID.String(),
			Success: true, Details: map[string]any{"sessions_ended": len(families)},
		})
	})
	if err != nil {
		return Pair{}, User{}, err
	}
	if err := s.sessionsEnded(ctx, u.ID, u.AuthEpoch, families...); err != nil {
		s.log.ErrorContext(ctx, "end sessions in redis: tokens of the old epoch pass until Redis is reloaded", "error", err)
	}
	return pair, userOf(u), nil
}

// Bootstrap creates the first superadmin from ADMIN_EMAIL/ADMIN_PASSWORD unless an account
// with that email exists (a restart never resets its password). It reports whether it made one.
func (s *Service) Bootstrap(ctx context.Context, email, pw string) (bool, error) {
	_, err := s.q.GetUserByEmail(ctx, NormalizeEmail(email))
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, err
	}
	if _, err := s.CreateUser(ctx, email, pw, "Administrator", RoleSuperadmin, nil); err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			return false, nil // another replica made it first
		}
		return false, err
	}
	return true, nil
}
