package conversation_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr/apierrtest"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/dbtest"
)

// newService needs no chat pipeline: these tests never ask for an answer.
func newService(t *testing.T) (*conversation.Service, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	return conversation.New(pool, nil), pool
}

// newConversation creates a conversation of user with the default title and no folder.
func newConversation(t *testing.T, s *conversation.Service, user uuid.UUID) conversation.Conversation {
	t.Helper()
	c, err := s.Create(context.Background(), user, "", "")
	require.NoError(t, err)
	return c
}

// addMessage stores a message without citations as the service would.
func addMessage(t *testing.T, pool *pgxpool.Pool, conv uuid.UUID, role, content string) db.AddMessageRow {
	t.Helper()
	m, err := db.New(pool).AddMessage(context.Background(), db.AddMessageParams{ConversationID: conv, Role: role, Content: content, Citations: []byte("[]"), Source: conversation.SourceChat})
	require.NoError(t, err)
	return m
}

func TestCreateGetUpdate(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	alice, bob := dbtest.User(t, pool, "").ID, dbtest.User(t, pool, "").ID

	c, err := s.Create(ctx, alice, "", "cardiology")
	require.NoError(t, err)
	require.Equal(t, conversation.DefaultTitle, c.Title)
	require.True(t, c.DefaultTitle)
	require.Equal(t, "cardiology", *c.Folder)
	require.Equal(t, alice, c.UserID)

	got, err := s.Get(ctx, alice, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got)

	// Another user's conversation does not exist for the caller.
	_, err = s.Get(ctx, bob, c.ID)
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")

	title, archived := "Chest pain", true
	u, err := s.Update(ctx, alice, c.ID, conversation.Patch{Title: &title, Archived: &archived, SetFolder: true})
	require.NoError(t, err)
	require.Equal(t, "Chest pain", u.Title)
	require.True(t, u.Archived)
	require.Nil(t, u.Folder, "SetFolder without a folder removes it")

	_, err = s.Update(ctx, bob, c.ID, conversation.Patch{Title: &title})
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")

	require.NoError(t, s.Delete(ctx, audit.Actor{}, alice, c.ID))
	apierrtest.Require(t, s.Delete(ctx, audit.Actor{}, alice, c.ID), http.StatusNotFound, "NOT_FOUND", "")
}

func TestListPages(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	alice := dbtest.User(t, pool, "").ID
	want := map[uuid.UUID]bool{}
	for range 5 {
		want[newConversation(t, s, alice).ID] = true
	}
	newConversation(t, s, dbtest.User(t, pool, "").ID) // someone else's

	got := map[uuid.UUID]bool{}
	var last *conversation.Conversation
	cursor, pages := "", 0
	for {
		cs, next, err := s.List(ctx, alice, conversation.Filter{Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		for i := range cs {
			c := cs[i]
			require.False(t, got[c.ID], "a conversation on two pages")
			got[c.ID] = true
			if last != nil {
				require.False(t, c.UpdatedAt.After(last.UpdatedAt), "most recently active first")
			}
			last = &c
		}
		pages++
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, want, got)
	require.Equal(t, 3, pages)

	_, _, err := s.List(ctx, alice, conversation.Filter{Limit: 2, Cursor: "not-a-cursor"})
	apierrtest.Require(t, err, http.StatusBadRequest, "VALIDATION_ERROR", "cursor")
}

func TestMessagesPages(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	alice := dbtest.User(t, pool, "").ID
	c := newConversation(t, s, alice)
	var want []uuid.UUID
	for _, text := range []string{"q1", "a1", "q2", "a2", "q3"} {
		role := "user"
		if text[0] == 'a' {
			role = "assistant"
		}
		want = append(want, addMessage(t, pool, c.ID, role, text).ID)
	}

	var got []uuid.UUID
	cursor := ""
	for {
		ms, next, err := s.Messages(ctx, alice, c.ID, cursor, 2)
		require.NoError(t, err)
		for _, m := range ms {
			got = append(got, m.ID)
			require.Empty(t, conversation.Citations(m))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, want, got, "oldest first, each once")

	history, err := s.History(ctx, alice, c.ID, 2)
	require.NoError(t, err)
	require.Equal(t, want[3:], []uuid.UUID{history[0].ID, history[1].ID}, "the newest, oldest first")

	for _, bad := range []string{"x", "-1"} {
		_, _, err = s.Messages(ctx, alice, c.ID, bad, 2)
		apierrtest.Require(t, err, http.StatusBadRequest, "VALIDATION_ERROR", "cursor")
	}
	_, _, err = s.Messages(ctx, dbtest.User(t, pool, "").ID, c.ID, "", 2)
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")
}

func TestBranch(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	alice := dbtest.User(t, pool, "").ID
	c := newConversation(t, s, alice)
	q := addMessage(t, pool, c.ID, "user", "q1")
	addMessage(t, pool, c.ID, "assistant", "a1")

	b, err := s.Branch(ctx, alice, c.ID, q.ID)
	require.NoError(t, err)
	require.NotEqual(t, c.ID, b.ID)
	require.Equal(t, &q.ID, b.BranchedFrom)
	require.EqualValues(t, 1, b.MessageCount, "messages up to and including the branch point")

	_, err = s.Branch(ctx, alice, c.ID, uuid.New())
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")
}
