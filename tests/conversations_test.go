package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
	"github.com/voiceassist/gateway/internal/ssetest"
)

func (s *testServer) newConversation(t *testing.T, tok string, title *string) client.Conversation {
	t.Helper()
	res, err := s.Client.CreateConversationWithResponse(context.Background(), client.ConversationInput{Title: title}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 201, res.StatusCode(), string(res.Body))
	return res.JSON201.Data
}

func (s *testServer) ask(t *testing.T, tok string, conv uuid.UUID, q string) client.Exchange {
	t.Helper()
	res, err := s.Client.SendMessageWithResponse(context.Background(), conv, client.MessageInput{Content: q}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 201, res.StatusCode(), string(res.Body))
	return res.JSON201.Data
}

// chatEvent is one server-sent event.
type chatEvent struct {
	Name string
	Data map[string]any
}

// streamAsk posts a question to the streaming endpoint and calls each for every event until
// it returns false or the stream ends.
func (s *testServer) streamAsk(t *testing.T, ctx context.Context, tok string, conv uuid.UUID, q string, each func(chatEvent) bool) *http.Response {
	t.Helper()
	body := fmt.Sprintf(`{"content":%q}`, q)
	req, err := http.NewRequestWithContext(ctx, "POST", s.URL+"/conversations/"+conv.String()+"/messages/stream", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return res
	}
	defer res.Body.Close()
	r := ssetest.NewReader(res.Body)
	for {
		e, err := r.Next()
		if err != nil {
			return res
		}
		if e.Event == "" {
			continue
		}
		ev := chatEvent{Name: e.Event}
		if e.Data != "" {
			require.NoError(t, e.JSON(&ev.Data))
		}
		if !each(ev) {
			return res
		}
	}
}

func seedKB(t *testing.T, s *testServer) {
	t.Helper()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	d1 := s.addText(t, admin, "Hypertension", "# Hypertension\n\n## Treatment\n\nFirst-line drugs for hypertension are thiazide diuretics, ACE inhibitors and calcium channel blockers.\n\n## Targets\n\nThe blood pressure target for most adults is below 130/80 mmHg.")
	d2 := s.addText(t, admin, "Asthma", "# Asthma\n\nInhaled corticosteroids control persistent asthma. Salbutamol relieves acute bronchospasm.")
	s.waitIndexed(t, admin, d1.Id)
	s.waitIndexed(t, admin, d2.Id)
}

func TestConversationLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	seedKB(t, s)
	alice := s.token(t, s.account(t, auth.RoleUser))
	bob := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()

	c := s.newConversation(t, alice, nil)
	require.Equal(t, "New conversation", c.Title)
	ex := s.ask(t, alice, c.Id, "What are the first-line drugs for hypertension?")
	require.Equal(t, client.MessageRoleUser, ex.UserMessage.Role)
	a := ex.AssistantMessage
	require.Equal(t, client.MessageRoleAssistant, a.Role)
	require.Equal(t, "extractive", *a.Model)
	require.Contains(t, a.Content, "thiazide")
	require.NotEmpty(t, a.Citations)
	require.Contains(t, a.Content, fmt.Sprintf("[%d]", a.Citations[0].N))
	require.Equal(t, "Hypertension", a.Citations[0].Title)
	require.Equal(t, []string{"Hypertension", "Treatment"}, a.Citations[0].Heading)
	require.NotNil(t, a.Retrieval)
	require.NotEmpty(t, a.Retrieval.Queries)

	// The first question names the conversation.
	g, err := s.Client.GetConversationWithResponse(ctx, c.Id, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, "What are the first-line drugs for hypertension?", g.JSON200.Data.Title)
	require.Equal(t, 2, g.JSON200.Data.MessageCount)

	// Nothing relevant: the extractive model says so, without citations.
	none := s.ask(t, alice, c.Id, "Quantum chromodynamics of gluons?")
	require.Empty(t, none.AssistantMessage.Citations)
	require.Contains(t, strings.ToLower(none.AssistantMessage.Content), "could not find")

	// Messages page oldest first with a cursor.
	two := 2
	p1, err := s.Client.ListMessagesWithResponse(ctx, c.Id, &client.ListMessagesParams{Limit: &two}, bearerAuth(alice))
	require.NoError(t, err)
	require.Len(t, p1.JSON200.Data, 2)
	require.Equal(t, ex.UserMessage.Id, p1.JSON200.Data[0].Id)
	require.True(t, p1.JSON200.Metadata.Pagination.HasMore)
	p2, err := s.Client.ListMessagesWithResponse(ctx, c.Id, &client.ListMessagesParams{Limit: &two, Cursor: p1.JSON200.Metadata.Pagination.NextCursor}, bearerAuth(alice))
	require.NoError(t, err)
	require.Len(t, p2.JSON200.Data, 2)
	require.False(t, p2.JSON200.Metadata.Pagination.HasMore)
	require.Equal(t, none.AssistantMessage.Id, p2.JSON200.Data[1].Id)

	// Patch: rename, file, archive; lists filter by them.
	title, folder, yes := "Blood pressure", "cardiology", true
	u, err := s.Client.UpdateConversationWithResponse(ctx, c.Id, client.ConversationPatch{Title: &title, Folder: &folder, Archived: &yes}, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, 200, u.StatusCode(), string(u.Body))
	require.Equal(t, "Blood pressure", u.JSON200.Data.Title)
	require.Equal(t, "cardiology", *u.JSON200.Data.Folder)
	require.True(t, u.JSON200.Data.Archived)
	other := s.newConversation(t, alice, ptr("Other"))
	list, err := s.Client.ListConversationsWithResponse(ctx, &client.ListConversationsParams{Archived: &yes}, bearerAuth(alice))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 1)
	require.Equal(t, c.Id, list.JSON200.Data[0].Id)
	q := "blood"
	list, err = s.Client.ListConversationsWithResponse(ctx, &client.ListConversationsParams{Q: &q}, bearerAuth(alice))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 1)
	list, err = s.Client.ListConversationsWithResponse(ctx, &client.ListConversationsParams{Folder: &folder}, bearerAuth(alice))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 1)
	one := 1
	list, err = s.Client.ListConversationsWithResponse(ctx, &client.ListConversationsParams{Limit: &one}, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, other.Id, list.JSON200.Data[0].Id, "most recently active first")
	list, err = s.Client.ListConversationsWithResponse(ctx, &client.ListConversationsParams{Limit: &one, Cursor: list.JSON200.Metadata.Pagination.NextCursor}, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, c.Id, list.JSON200.Data[0].Id)
	empty := ""
	u, err = s.Client.UpdateConversationWithResponse(ctx, c.Id, client.ConversationPatch{Folder: &empty}, bearerAuth(alice))
	require.NoError(t, err)
	require.Nil(t, u.JSON200.Data.Folder)
	for name, body := range map[string]string{"empty patch": `{}`, "blank title": `{"title":"  "}`, "unknown": `{"colour":"red"}`, "archived string": `{"archived":"yes"}`} {
		r, err := s.Client.UpdateConversationWithBodyWithResponse(ctx, c.Id, "application/json", strings.NewReader(body), bearerAuth(alice))
		require.NoError(t, err)
		require.Equal(t, 422, r.StatusCode(), "%s: %s", name, r.Body)
	}

	// Branch from the first answer: a new conversation with the first two messages.
	b, err := s.Client.BranchConversationWithResponse(ctx, c.Id, a.Id, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, 201, b.StatusCode(), string(b.Body))
	require.Equal(t, 2, b.JSON201.Data.MessageCount)
	require.Equal(t, a.Id, *b.JSON201.Data.BranchedFrom)
	bm, err := s.Client.ListMessagesWithResponse(ctx, b.JSON201.Data.Id, nil, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, a.Content, bm.JSON200.Data[1].Content)
	require.Equal(t, a.Citations, bm.JSON200.Data[1].Citations)

	// Regenerate replaces the last answer.
	r, err := s.Client.RegenerateAnswerWithResponse(ctx, b.JSON201.Data.Id, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, 201, r.StatusCode(), string(r.Body))
	require.NotEqual(t, a.Id, r.JSON201.Data.Id)
	require.Equal(t, a.Content, r.JSON201.Data.Content, "the extractive model is deterministic")
	bm, err = s.Client.ListMessagesWithResponse(ctx, b.JSON201.Data.Id, nil, bearerAuth(alice))
	require.NoError(t, err)
	require.Len(t, bm.JSON200.Data, 2)
	empt := s.newConversation(t, alice, nil)
	r, err = s.Client.RegenerateAnswerWithResponse(ctx, empt.Id, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, 409, r.StatusCode())

	// Export as Markdown with sources.
	exp, err := s.Client.ExportConversationWithResponse(ctx, c.Id, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, 200, exp.StatusCode())
	require.Equal(t, "text/markdown", exp.HTTPResponse.Header.Get("Content-Type"))
	md := string(exp.Body)
	require.Contains(t, md, "# Blood pressure")
	require.Contains(t, md, "What are the first-line drugs for hypertension?")
	require.Contains(t, md, "**Sources**")
	require.Contains(t, md, "Hypertension — Hypertension › Treatment")

	// Ownership: Bob sees none of it.
	require.Equal(t, 404, status(t, func() (*http.Response, error) { return s.Client.GetConversation(ctx, c.Id, bearerAuth(bob)) }))
	require.Equal(t, 404, status(t, func() (*http.Response, error) {
		return s.Client.UpdateConversation(ctx, c.Id, client.ConversationPatch{Title: &title}, bearerAuth(bob))
	}))
	require.Equal(t, 404, status(t, func() (*http.Response, error) { return s.Client.ListMessages(ctx, c.Id, nil, bearerAuth(bob)) }))
	require.Equal(t, 404, status(t, func() (*http.Response, error) {
		return s.Client.SendMessage(ctx, c.Id, client.MessageInput{Content: "hi"}, bearerAuth(bob))
	}))
	require.Equal(t, 404, status(t, func() (*http.Response, error) { return s.Client.ExportConversation(ctx, c.Id, bearerAuth(bob)) }))
	require.Equal(t, 404, status(t, func() (*http.Response, error) { return s.Client.RegenerateAnswer(ctx, c.Id, bearerAuth(bob)) }))
	require.Equal(t, 404, status(t, func() (*http.Response, error) { return s.Client.BranchConversation(ctx, c.Id, a.Id, bearerAuth(bob)) }))
	require.Equal(t, 404, status(t, func() (*http.Response, error) { return s.Client.DeleteMessage(ctx, c.Id, a.Id, bearerAuth(bob)) }))
	require.Equal(t, 404, status(t, func() (*http.Response, error) { return s.Client.DeleteConversation(ctx, c.Id, bearerAuth(bob)) }))
	res := s.streamAsk(t, ctx, bob, c.Id, "hi", func(chatEvent) bool { return true })
	require.Equal(t, 404, res.StatusCode)
	bl, err := s.Client.ListConversationsWithResponse(ctx, nil, bearerAuth(bob))
	require.NoError(t, err)
	require.Empty(t, bl.JSON200.Data)

	// Bad input.
	for name, body := range map[string]string{"empty": `{"content":""}`, "too long": `{"content":"` + strings.Repeat("a", 8001) + `"}`, "missing": `{}`} {
		r, err := s.Client.SendMessageWithBodyWithResponse(ctx, c.Id, "application/json", strings.NewReader(body), bearerAuth(alice))
		require.NoError(t, err)
		require.Equal(t, 422, r.StatusCode(), "%s: %s", name, r.Body)
	}
	blank, err := s.Client.SendMessageWithResponse(ctx, c.Id, client.MessageInput{Content: "   "}, bearerAuth(alice))
	require.NoError(t, err)
	require.Equal(t, 422, blank.StatusCode())
	require.Equal(t, 404, status(t, func() (*http.Response, error) { return s.Client.GetConversation(ctx, uuid.New(), bearerAuth(alice)) }))
	bad := "not-a-cursor"
	require.Equal(t, 400, status(t, func() (*http.Response, error) {
		return s.Client.ListConversations(ctx, &client.ListConversationsParams{Cursor: &bad}, bearerAuth(alice))
	}))
	require.Equal(t, 400, status(t, func() (*http.Response, error) {
		return s.Client.ListMessages(ctx, c.Id, &client.ListMessagesParams{Cursor: &bad}, bearerAuth(alice))
	}))
	require.Equal(t, 401, status(t, func() (*http.Response, error) { return s.Client.ListConversations(ctx, nil) }))

	// Deleting a message and the conversation; both audited, exports too.
	require.Equal(t, 204, status(t, func() (*http.Response, error) {
		return s.Client.DeleteMessage(ctx, c.Id, none.AssistantMessage.Id, bearerAuth(alice))
	}))
	require.Equal(t, 404, status(t, func() (*http.Response, error) {
		return s.Client.DeleteMessage(ctx, c.Id, none.AssistantMessage.Id, bearerAuth(alice))
	}))
	require.Equal(t, 204, status(t, func() (*http.Response, error) { return s.Client.DeleteConversation(ctx, c.Id, bearerAuth(alice)) }))
	require.Equal(t, 404, status(t, func() (*http.Response, error) { return s.Client.GetConversation(ctx, c.Id, bearerAuth(alice)) }))
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	logs, err := s.Client.ListAuditLogsWithResponse(ctx, &client.ListAuditLogsParams{ResourceType: ptr("conversation")}, bearerAuth(admin))
	require.NoError(t, err)
	var actions []string
	for _, e := range logs.JSON200.Data {
		actions = append(actions, e.Action)
		require.NotContains(t, fmt.Sprint(e.Details), "hypertension", "no message content in the audit log")
	}
	require.Contains(t, actions, "conversations.deleted")
	require.Contains(t, actions, "conversations.exported")
	require.NotContains(t, s.Logs(), "first-line drugs", "no message content in the logs")
}

// status runs a generated-client call and returns its status code.
func status(t *testing.T, call func() (*http.Response, error)) int {
	t.Helper()
	res, err := call()
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func TestConversationStreamOffline(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	seedKB(t, s)
	tok := s.token(t, s.account(t, auth.RoleUser))
	c := s.newConversation(t, tok, nil)
	var names []string
	var deltas strings.Builder
	var done map[string]any
	res := s.streamAsk(t, context.Background(), tok, c.Id, "What relieves acute bronchospasm in asthma?", func(e chatEvent) bool {
		names = append(names, e.Name)
		switch e.Name {
		case "message.delta":
			deltas.WriteString(e.Data["delta"].(string))
		case "message.done":
			done = e.Data["message"].(map[string]any)
		}
		return true
	})
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "message.created", names[0])
	require.Equal(t, "message.done", names[len(names)-1])
	require.Contains(t, names, "message.delta")
	require.Contains(t, names, "citation")
	require.NotNil(t, done)
	require.Equal(t, done["content"], deltas.String(), "the deltas add up to the stored answer")
	require.Contains(t, deltas.String(), "Salbutamol")
	// The citations come after the text.
	last := 0
	for i, n := range names {
		if n == "message.delta" {
			last = i
		}
	}
	for i, n := range names {
		if n == "citation" {
			require.Greater(t, i, last)
		}
	}
	m, err := s.Client.ListMessagesWithResponse(context.Background(), c.Id, nil, bearerAuth(tok))
	require.NoError(t, err)
	require.Len(t, m.JSON200.Data, 2)
}

// fakeChat is the OpenAI-compatible chat server behind the gateway: answer n (1-based)
// streams "Answer n: thiazides are first-line [1]." in four chunks; while block is set it
// streams one chunk and waits for the client to leave, then closes cancelled.
type fakeChat struct {
	*llmtest.Server
	mu        sync.Mutex
	block     bool
	cancelled chan struct{}
}

func newFakeChat(t *testing.T) *fakeChat {
	f := &fakeChat{Server: llmtest.New(t), cancelled: make(chan struct{})}
	f.SetChat(func(r llmtest.Request) []string {
		// N counts requests to any endpoint; this server only gets chat ones.
		return []string{"Answer ", fmt.Sprint(r.N + 1), ": thiazides ", "are first-line [1]."}
	})
	f.SetHandler(func(w http.ResponseWriter, r *http.Request, _ llmtest.Request) bool {
		f.mu.Lock()
		block, cancelled := f.block, f.cancelled
		f.mu.Unlock()
		if !block {
			return false
		}
		llmtest.StartStream(w)
		llmtest.WriteEvent(w, llmtest.ChunkJSON("Thinking", ""))
		select {
		case <-r.Context().Done():
			f.mu.Lock() // two blocked requests may both be cancelled: close once
			select {
			case <-cancelled:
			default:
				close(cancelled)
			}
			f.mu.Unlock()
		case <-f.Done():
		}
		return true
	})
	return f
}

// messages are the messages of chat request i, as sent.
func (f *fakeChat) messages(i int) []map[string]any {
	var out []map[string]any
	for _, m := range f.Requests(llmtest.Chat)[i].JSON["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func TestConversationWithOpenAICompatibleModel(t *testing.T) {
	t.Parallel()
	fake := newFakeChat(t)
	s := startServer(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey, "OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline"})
	seedKB(t, s)
	tok := s.token(t, s.account(t, auth.RoleUser))
	c := s.newConversation(t, tok, nil)

	first := s.ask(t, tok, c.Id, "What are the first-line drugs for hypertension?")
	require.Equal(t, "Answer 1: thiazides are first-line [1].", first.AssistantMessage.Content)
	require.Equal(t, "fake-model", *first.AssistantMessage.Model)
	require.Len(t, first.AssistantMessage.Citations, 1)
	require.Equal(t, 1, first.AssistantMessage.Citations[0].N)

	// The second question streams, and the model receives the history.
	var deltas []string
	res := s.streamAsk(t, context.Background(), tok, c.Id, "And what is the blood pressure target?", func(e chatEvent) bool {
		if e.Name == "message.delta" {
			deltas = append(deltas, e.Data["delta"].(string))
		}
		return true
	})
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, []string{"Answer ", "2", ": thiazides ", "are first-line [1]."}, deltas, "chunks arrive in order")
	msgs := fake.messages(1)
	require.Equal(t, "system", msgs[0]["role"])
	require.Equal(t, "user", msgs[1]["role"])
	require.Equal(t, "What are the first-line drugs for hypertension?", msgs[1]["content"])
	require.Equal(t, "assistant", msgs[2]["role"])
	require.Equal(t, "Answer 1: thiazides are first-line [1].", msgs[2]["content"])
	require.Equal(t, "user", msgs[3]["role"])
	require.Contains(t, msgs[3]["content"], "And what is the blood pressure target?")
	require.Contains(t, msgs[3]["content"], "130/80", "the retrieved sources reach the model")

	// The same over the WebSocket: chunks in order.
	ws := dialWS(t, s, tok)
	ws.send(map[string]any{"type": "join", "conversation_id": c.Id})
	ws.until("history")
	ws.send(map[string]any{"type": "message", "conversation_id": c.Id, "content": "Which calcium channel blockers?"})
	_, before := ws.until("message.done")
	var wsDeltas []string
	for _, ev := range before {
		if ev["type"] == "message.delta" {
			wsDeltas = append(wsDeltas, ev["delta"].(string))
		}
	}
	require.Equal(t, []string{"Answer ", "3", ": thiazides ", "are first-line [1]."}, wsDeltas)
	require.Len(t, fake.messages(2), 1+4+1, "system, two earlier exchanges, the question")

	// Disconnecting mid-answer cancels the upstream call: first the WebSocket...
	fake.mu.Lock()
	fake.block = true
	fake.mu.Unlock()
	ws.send(map[string]any{"type": "message", "conversation_id": c.Id, "content": "And diuretics?"})
	ws.until("message.delta")
	require.NoError(t, ws.conn.Close())
	select {
	case <-fake.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was not cancelled when the WebSocket closed")
	}
	fake.mu.Lock()
	fake.cancelled = make(chan struct{})
	fake.mu.Unlock()

	// ...then the SSE stream.
	ctx, cancel := context.WithCancel(context.Background())
	s.streamAsk(t, ctx, tok, c.Id, "Tell me more about ACE inhibitors", func(e chatEvent) bool {
		if e.Name == "message.delta" {
			cancel()
			return false
		}
		return true
	})
	cancel()
	fake.mu.Lock()
	cancelled := fake.cancelled
	fake.mu.Unlock()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was not cancelled when the client left")
	}
}

func TestCacheSearchResultsAndAdmin(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	seedKB(t, s)
	ctx := context.Background()
	tok := s.token(t, s.account(t, auth.RoleUser))
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	c := s.newConversation(t, tok, nil)

	hits := func() int64 {
		st, err := s.Client.GetCacheStatsWithResponse(ctx, bearerAuth(viewer))
		require.NoError(t, err)
		require.Equal(t, 200, st.StatusCode(), string(st.Body))
		var n int64
		for _, l := range st.JSON200.Data.Layers {
			if l.Namespaces != nil {
				n += (*l.Namespaces)["kb.search"].Hits
			}
		}
		return n
	}
	q := "What are the first-line drugs for hypertension?"
	s.ask(t, tok, c.Id, q)
	h0 := hits()
	s.ask(t, tok, c.Id, q)
	h1 := hits()
	require.Greater(t, h1, h0, "a repeated question is served from the cache")

	// A knowledge-base change invalidates cached results: the next ask misses, then hits again.
	d := s.addText(t, admin, "Hypertension in pregnancy", "# Hypertension in pregnancy\n\nLabetalol and nifedipine are first-line drugs for hypertension in pregnancy.")
	s.waitIndexed(t, admin, d.Id)
	ex := s.ask(t, tok, c.Id, q)
	require.Equal(t, h1, hits(), "no hit right after the knowledge base changed")
	var titles []string
	for _, ct := range ex.AssistantMessage.Citations {
		titles = append(titles, ct.Title)
	}
	require.Contains(t, titles, "Hypertension in pregnancy", "the fresh answer sees the new document")

	// Admin operations: viewers read, admins clear and invalidate (audited).
	require.Equal(t, 403, status(t, func() (*http.Response, error) {
		return s.Client.ClearCache(ctx, client.CacheClearRequest{}, bearerAuth(viewer))
	}))
	require.Equal(t, 403, status(t, func() (*http.Response, error) { return s.Client.GetCacheStats(ctx, bearerAuth(tok)) }))
	inv, err := s.Client.InvalidateCacheWithResponse(ctx, client.CacheInvalidateRequest{Pattern: "kb.search:*"}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 200, inv.StatusCode(), string(inv.Body))
	require.Positive(t, inv.JSON200.Data.Removed)
	ns := "kb.search"
	clr, err := s.Client.ClearCacheWithResponse(ctx, client.CacheClearRequest{Namespace: &ns}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 200, clr.StatusCode())
	all, err := s.Client.ClearCacheWithResponse(ctx, client.CacheClearRequest{}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 200, all.StatusCode())
	bad, err := s.Client.ClearCacheWithBodyWithResponse(ctx, "application/json", strings.NewReader(`{"namespace":"Bad NS"}`), bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 422, bad.StatusCode())
	bad2, err := s.Client.InvalidateCacheWithBodyWithResponse(ctx, "application/json", strings.NewReader(`{"pattern":""}`), bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 422, bad2.StatusCode())
	logs, err := s.Client.ListAuditLogsWithResponse(ctx, &client.ListAuditLogsParams{ResourceType: ptr("cache")}, bearerAuth(admin))
	require.NoError(t, err)
	require.Len(t, logs.JSON200.Data, 3)
}
