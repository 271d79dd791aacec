package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
)

// User inserts an active account with the given role ("user" when empty) and a unique
// email, straight into the table (no password policy, no hashing: it cannot log in).
func User(t testing.TB, pool *pgxpool.Pool, role string) db.User {
	t.Helper()
	if role == "" {
		role = "user"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	u, err := db.New(pool).CreateUser(context.Background(), db.CreateUserParams{
		Email: "u" + hex.EncodeToString(b[:]) + "@example.org", FullName: "Test " + role, PasswordHash: new("not-a-hash"), Role: role,
	})
	if err != nil {
		t.Fatalf("dbtest: insert user: %v", err)
	}
	return u
}
