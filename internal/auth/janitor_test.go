package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/dbtest"
)

// The sweep deletes refresh tokens more than a day past expiry and keeps the rest (a
// recently expired one still identifies a reused family).
func TestSweepRefreshTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	cfg, err := config.Load(func(string) string { return "" })
	require.NoError(t, err)
	svc, err := auth.NewService(cfg, pool, nil, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)

	q := db.New(pool)
	u, err := q.CreateUser(ctx, db.CreateUserParams{Email: "janitor@example.com", FullName: "J", PasswordHash: new("x"), Role: "user"})
	require.NoError(t, err)
	now := time.Now()
	insert := func(expiresAt time.Time) uuid.UUID {
		jti := uuid.New()
		require.NoError(t, q.InsertRefreshToken(ctx, db.InsertRefreshTokenParams{Jti: jti, FamilyID: uuid.New(), UserID: u.ID,
			IssuedAt: expiresAt.Add(-time.Hour), ExpiresAt: expiresAt}))
		return jti
	}
	old := insert(now.Add(-25 * time.Hour))
	recent := insert(now.Add(-23 * time.Hour))
	live := insert(now.Add(time.Hour))

	n, err := svc.SweepRefreshTokens(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	var left []uuid.UUID
	for _, jti := range []uuid.UUID{old, recent, live} {
		_, err := q.GetRefreshTokenForUpdate(ctx, jti)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		require.NoError(t, err)
		left = append(left, jti)
	}
	require.Equal(t, []uuid.UUID{recent, live}, left)

	n, err = svc.SweepRefreshTokens(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestSweepStaleAdminTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	cfg, err := config.Load(func(string) string { return "" })
	require.NoError(t, err)
	svc, err := auth.NewService(cfg, pool, nil, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	q := db.New(pool)
	u, err := q.CreateUser(ctx, db.CreateUserParams{Email: "tokens@example.com", FullName: "T", PasswordHash: new("x"), Role: "user"})
	require.NoError(t, err)
	now := time.Now()
	for i, exp := range []time.Time{now.Add(-31 * 24 * time.Hour), now.Add(-29 * 24 * time.Hour)} {
		h := make([]byte, 32)
		h[0] = byte(i)
		_, err := q.CreateInvitation(ctx, db.CreateInvitationParams{UserID: u.ID, TokenHash: h, ExpiresAt: exp})
		require.NoError(t, err)
		_, err = q.CreateResetToken(ctx, db.CreateResetTokenParams{UserID: u.ID, TokenHash: h, ExpiresAt: exp})
		require.NoError(t, err)
	}
	_, err = svc.SweepRefreshTokens(ctx)
	require.NoError(t, err)
	var inv, rst int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM invitations), (SELECT count(*) FROM password_reset_tokens)`).Scan(&inv, &rst))
	require.Equal(t, 1, inv, "only the invitation 30 days past expiry goes")
	require.Equal(t, 1, rst)
}
