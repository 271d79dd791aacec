package tests

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// Issue 21 #4: chat answers (send, stream, regenerate) and knowledge-base searches are
// limited per user; the limit is the user's, not the conversation's.
func TestChatAndSearchRateLimitedPerUser(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"RATE_LIMIT_CHAT_PER_MINUTE": "2", "RATE_LIMIT_KB_SEARCH_PER_MINUTE": "2"})
	seedKB(t, s)
	tok := s.token(t, s.account(t, auth.RoleUser))
	c := s.newConversation(t, tok, nil)
	ctx := context.Background()

	s.ask(t, tok, c.Id, "What are the first-line drugs for hypertension?")
	res, err := s.Client.RegenerateAnswerWithResponse(ctx, c.Id, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 201, res.StatusCode(), string(res.Body))

	// A third answer, in any form and any conversation, is refused with a retry hint.
	other := s.newConversation(t, tok, nil)
	send, err := s.Client.SendMessageWithResponse(ctx, other.Id, client.MessageInput{Content: "And the target?"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 429, send.StatusCode(), string(send.Body))
	require.Equal(t, "RATE_LIMIT_EXCEEDED", errorOf(t, send.Body).Error.Code)
	retry, err := strconv.Atoi(send.HTTPResponse.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, retry)
	regen, err := s.Client.RegenerateAnswerWithResponse(ctx, c.Id, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 429, regen.StatusCode(), string(regen.Body))
	stream := s.streamAsk(t, ctx, tok, c.Id, "And the target?", func(chatEvent) bool { return true })
	require.Equal(t, 429, stream.StatusCode)
	require.NotEmpty(t, stream.Header.Get("Retry-After"))

	// Another user is not affected.
	tok2 := s.token(t, s.account(t, auth.RoleUser))
	s.ask(t, tok2, s.newConversation(t, tok2, nil).Id, "What are the first-line drugs for hypertension?")

	for i := range 3 {
		r, err := s.Client.SearchKnowledgeBaseWithResponse(ctx, client.KbSearchRequest{Query: "hypertension"}, bearerAuth(tok))
		require.NoError(t, err)
		if i < 2 {
			require.Equal(t, 200, r.StatusCode(), string(r.Body))
			continue
		}
		require.Equal(t, 429, r.StatusCode(), string(r.Body))
		require.Equal(t, "RATE_LIMIT_EXCEEDED", errorOf(t, r.Body).Error.Code)
		require.NotEmpty(t, r.HTTPResponse.Header.Get("Retry-After"))
	}
}

// Issue 21 #4: a user holds at most CHAT_MAX_STREAMS_PER_USER streamed answers at once.
func TestChatConcurrentStreamsCapped(t *testing.T) {
	t.Parallel()
	fake := newFakeChat(t)
	fake.block = true // each answer streams one chunk, then waits for the client to leave
	s := startServer(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline", "CHAT_MAX_STREAMS_PER_USER": "1"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	c := s.newConversation(t, tok, nil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streaming := make(chan struct{})
	done := make(chan int)
	go func() {
		once := false
		res := s.streamAsk(t, ctx, tok, c.Id, "First?", func(e chatEvent) bool {
			if e.Name == "message.delta" && !once {
				once = true
				close(streaming)
			}
			return true
		})
		done <- res.StatusCode
	}()
	<-streaming // the first stream holds the only slot

	res := s.streamAsk(t, context.Background(), tok, c.Id, "Second?", func(chatEvent) bool { return true })
	require.Equal(t, 429, res.StatusCode)
	require.Equal(t, "1", res.Header.Get("Retry-After"))

	// Another user has slots of their own.
	tok2 := s.token(t, s.account(t, auth.RoleUser))
	c2 := s.newConversation(t, tok2, nil)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	got := false
	res2 := s.streamAsk(t, ctx2, tok2, c2.Id, "Mine?", func(e chatEvent) bool {
		got = got || e.Name == "message.delta"
		return !got
	})
	require.Equal(t, 200, res2.StatusCode)
	require.True(t, got)
	cancel()
	require.Equal(t, 200, <-done)
}

// Issue 21 #4: with a paid model and CHAT_DAILY_TOKEN_QUOTA, answers stop for the day once the
// user's estimated tokens reach it.
func TestChatDailyTokenQuota(t *testing.T) {
	t.Parallel()
	fake := newFakeChat(t)
	s := startServer(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline", "CHAT_DAILY_TOKEN_QUOTA": "1"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	c := s.newConversation(t, tok, nil)
	s.ask(t, tok, c.Id, "What are the first-line drugs for hypertension?")

	res, err := s.Client.SendMessageWithResponse(context.Background(), c.Id, client.MessageInput{Content: "And the target?"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 429, res.StatusCode(), string(res.Body))
	require.Equal(t, "TOKEN_QUOTA_EXCEEDED", errorOf(t, res.Body).Error.Code)
	retry, err := strconv.Atoi(res.HTTPResponse.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 43200, retry, 43201, "until the next UTC midnight")
}

// Issue 21 #15: API keys and conversations are capped per user, and the key list pages.
func TestAPIKeyAndConversationCaps(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"MAX_API_KEYS_PER_USER": "3", "MAX_CONVERSATIONS_PER_USER": "2"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()

	var ids []string
	for i := range 3 {
		r, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: fmt.Sprintf("k%d", i)}, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, 201, r.StatusCode(), string(r.Body))
		ids = append(ids, r.JSON201.Data.ApiKey.Id.String())
	}
	r, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "one too many"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 409, r.StatusCode(), string(r.Body))
	require.Equal(t, "API_KEY_LIMIT", errorOf(t, r.Body).Error.Code)

	// The list pages newest first, two at a time.
	limit := 2
	p1, err := s.Client.ListApiKeysWithResponse(ctx, &client.ListApiKeysParams{Limit: &limit}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, p1.StatusCode(), string(p1.Body))
	require.Len(t, p1.JSON200.Data, 2)
	require.Equal(t, ids[2], p1.JSON200.Data[0].Id.String())
	next := p1.JSON200.Metadata.Pagination.NextCursor
	require.NotNil(t, next)
	p2, err := s.Client.ListApiKeysWithResponse(ctx, &client.ListApiKeysParams{Limit: &limit, Cursor: next}, bearerAuth(tok))
	require.NoError(t, err)
	require.Len(t, p2.JSON200.Data, 1)
	require.Equal(t, ids[0], p2.JSON200.Data[0].Id.String())
	require.Nil(t, p2.JSON200.Metadata.Pagination.NextCursor)
	bad := "not-a-cursor"
	p3, err := s.Client.ListApiKeysWithResponse(ctx, &client.ListApiKeysParams{Cursor: &bad}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 400, p3.StatusCode(), string(p3.Body))

	// A revoked key frees its place.
	rv, err := s.Client.RevokeApiKeyWithResponse(ctx, p1.JSON200.Data[0].Id, bearerAuth(tok))
	require.NoError(t, err)
	require.Less(t, rv.StatusCode(), 300, string(rv.Body))
	r, err = s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "replacement"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 201, r.StatusCode(), string(r.Body))

	c := s.newConversation(t, tok, nil)
	s.newConversation(t, tok, nil)
	cr, err := s.Client.CreateConversationWithResponse(ctx, client.ConversationInput{}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 409, cr.StatusCode(), string(cr.Body))
	require.Equal(t, "CONVERSATION_LIMIT", errorOf(t, cr.Body).Error.Code)
	del, err := s.Client.DeleteConversationWithResponse(ctx, c.Id, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 204, del.StatusCode())
	s.newConversation(t, tok, nil)
}

// Issue 21 #2: a flag stream opened with an API key ends with an `error` event when the key's
// owner is demoted or deactivated, as a JWT stream does when its session ends.
func TestAPIKeyStreamEndsWithItsOwner(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"SSE_HEARTBEAT_SECONDS": "1"})
	super := s.token(t, s.account(t, auth.RoleSuperadmin))
	ctx := context.Background()
	for name, change := range map[string]func(owner account){
		"demoted": func(owner account) {
			r, err := s.Client.SetUserRoleWithResponse(ctx, owner.User.ID, client.SetRoleRequest{Role: client.RoleViewer}, bearerAuth(super))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		},
		"deactivated": func(owner account) {
			r, err := s.Client.DeactivateUserWithResponse(ctx, owner.User.ID, bearerAuth(super))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		},
	} {
		t.Run(name, func(t *testing.T) {
			owner := s.account(t, auth.RoleAdmin)
			key, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "svc"}, bearerAuth(s.token(t, owner)))
			require.NoError(t, err)
			require.Equal(t, 201, key.StatusCode(), string(key.Body))
			st := s.openStream(t, "", map[string]string{"X-API-Key": key.JSON201.Data.Key})
			require.Equal(t, "connected", st.next(t, true).Name)
			change(owner)
			for {
				ev := st.next(t, true)
				if ev.Name == "heartbeat" {
					continue // one may already be queued before the change
				}
				require.Equal(t, "error", ev.Name)
				break
			}
			_, open := <-st.Events
			for open {
				_, open = <-st.Events
			}
		})
	}
}

// Issue 21 #6: an open /ws socket stops working at once after logout or deactivation: the next
// join or message closes it (1008) instead of being served until the periodic re-check.
func TestRealtimeSocketRevokedAtOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil) // the periodic re-check runs every 30 s, far beyond this test
	super := s.token(t, s.account(t, auth.RoleSuperadmin))
	ctx := context.Background()
	for name, revoke := range map[string]func(u account, tok string){
		"logout": func(_ account, tok string) {
			r, err := s.Client.LogoutWithResponse(ctx, bearerAuth(tok))
			require.NoError(t, err)
			require.Equal(t, http.StatusNoContent, r.StatusCode())
		},
		"deactivated": func(u account, _ string) {
			r, err := s.Client.DeactivateUserWithResponse(ctx, u.User.ID, bearerAuth(super))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		},
	} {
		t.Run(name, func(t *testing.T) {
			u := s.account(t, auth.RoleUser)
			tok := s.login(t, u.Email, u.Password).JSON200.Data.AccessToken
			c := s.newConversation(t, tok, nil)
			ws := dialWS(t, s, tok)
			ws.send(map[string]any{"type": "join", "conversation_id": c.Id})
			ws.until("history")
			revoke(u, tok)
			ws.send(map[string]any{"type": "message", "conversation_id": c.Id, "content": "still there?"})
			_ = ws.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				var ev map[string]any
				err := ws.conn.ReadJSON(&ev)
				if err == nil {
					require.NotEqual(t, "message.created", ev["type"], "a revoked socket must not be answered")
					continue
				}
				var ce *websocket.CloseError
				require.True(t, errors.As(err, &ce), "%v", err)
				require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
				break
			}
		})
	}
}
