package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// One sentence per identifier type, written for this test (not by the benchmark generator).
var phiPerType = []struct {
	typ  client.PhiType
	text string
	want string
}{
	{client.Name, "Follow-up with Mr. Okonkwo about his knee.", "Okonkwo"},
	{client.Geographic, "Lives at 42 Wallaby Way, Sydney, NY 10001.", "42 Wallaby Way"},
	{client.Date, "Admitted 03/07/2024 for heart failure.", "03/07/2024"},
	{client.Phone, "Cell (312) 555-0199 after 5 pm.", "(312) 555-0199"},
	{client.Fax, "Fax: 312-555-0100", "312-555-0100"},
	{client.Email, "Reach her at wei.zhang@example.org please.", "wei.zhang@example.org"},
	{client.Ssn, "SSN 078-05-1120 verified.", "078-05-1120"},
	{client.Mrn, "MRN: 0048213", "0048213"},
	{client.HealthPlan, "Aetna member ID XYZ889900112 on file.", "XYZ889900112"},
	{client.Account, "Billing acct # 5567-112233 is overdue.", "5567-112233"},
	{client.License, "Driver's license number G1234567 scanned.", "G1234567"},
	{client.Vehicle, "Car VIN 1FTFW1ET5DFC10312 involved.", "1FTFW1ET5DFC10312"},
	{client.Device, "Defibrillator serial no. PZR-448812 checked.", "PZR-448812"},
	{client.Url, "Photos at https://example.org/u/jdoe today.", "https://example.org/u/jdoe"},
	{client.Ip, "Accessed from 172.16.254.1 at night.", "172.16.254.1"},
	{client.Biometric, "Enrolled her left thumbprint for the cabinet.", "left thumbprint"},
	{client.Photo, "A full-face photograph was scanned.", "full-face photograph"},
	{client.AgeOver89, "A 93-year-old woman with dementia.", "93-year-old"},
	{client.OtherId, "Research participant ID 2020-447 consented.", "2020-447"},
}

func TestPhiDetectEachType(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()
	for _, c := range phiPerType {
		res, err := s.Client.DetectPhiWithResponse(ctx, client.PhiInput{Text: c.text}, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
		var hit *client.PhiFinding
		for i, f := range res.JSON200.Data.Findings {
			if f.Type == c.typ && f.Text == c.want {
				hit = &res.JSON200.Data.Findings[i]
			}
		}
		require.NotNil(t, hit, "%s %q in %q: %s", c.typ, c.want, c.text, res.Body)
		require.Equal(t, c.want, string([]rune(c.text)[hit.Start:hit.End]), "spans are code points")
		require.Greater(t, hit.Confidence, 0.0)
		require.LessOrEqual(t, hit.Confidence, 1.0)
		require.GreaterOrEqual(t, res.JSON200.Data.Counts[string(c.typ)], 1)

		// Filtered to this type only, and redacted.
		red, err := s.Client.RedactPhiWithResponse(ctx, client.PhiInput{Text: c.text, Types: &[]client.PhiType{c.typ}}, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, red.StatusCode(), "%s", red.Body)
		require.NotContains(t, red.JSON200.Data.Text, c.want)
		require.Contains(t, red.JSON200.Data.Text, "["+strings.ToUpper(string(c.typ))+"]")
		for _, f := range red.JSON200.Data.Findings {
			require.Equal(t, c.typ, f.Type, "types filter")
		}
	}
}

func TestPhiRedactWholeNote(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	note := "Pätiënt: Mr. Okonkwo — MRN 12345678, call 312-555-0199. BP 138/84, metformin 500 mg BID."
	res, err := s.Client.RedactPhiWithResponse(context.Background(), client.PhiInput{Text: note}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	require.Equal(t, "Pätiënt: Mr. [NAME] — MRN [MRN], call [PHONE]. BP 138/84, metformin 500 mg BID.", res.JSON200.Data.Text)
	require.Len(t, res.JSON200.Data.Findings, 3)
	require.Equal(t, "Okonkwo", res.JSON200.Data.Findings[0].Text)

	// Nothing to find: the text comes back as it was, with an empty list.
	clean, err := s.Client.DetectPhiWithResponse(context.Background(), client.PhiInput{Text: "BP 138/84, HR 72."}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, clean.StatusCode(), "%s", clean.Body)
	require.Empty(t, clean.JSON200.Data.Findings)
	require.Empty(t, clean.JSON200.Data.Counts)
	require.NotContains(t, s.Logs(), "Okonkwo", "no text in logs")
}

func TestPhiFailureModes(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"RATE_LIMIT_PHI_PER_MINUTE": "5"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()

	empty, err := s.Client.DetectPhiWithResponse(ctx, client.PhiInput{Text: ""}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, empty.StatusCode(), "%s", empty.Body)
	require.Equal(t, "text", errField(t, empty.Body))

	long, err := s.Client.RedactPhiWithResponse(ctx, client.PhiInput{Text: strings.Repeat("é", 100_001)}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, long.StatusCode(), "%s", long.Body)
	require.Equal(t, "text", errField(t, long.Body))

	// Exactly the limit, in code points, is accepted.
	max, err := s.Client.DetectPhiWithResponse(ctx, client.PhiInput{Text: strings.Repeat("é", 100_000)}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, max.StatusCode(), "%s", max.Body)

	unknown, err := s.Client.DetectPhiWithBodyWithResponse(ctx, "application/json",
		strings.NewReader(`{"text":"Mr. Okonkwo","types":["zip_code"]}`), bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, unknown.StatusCode(), "%s", unknown.Body)
	require.Contains(t, errField(t, unknown.Body), "types")

	noTok, err := s.Client.DetectPhiWithResponse(ctx, client.PhiInput{Text: "Mr. Okonkwo"})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, noTok.StatusCode(), "%s", noTok.Body)
	noTok2, err := s.Client.RedactPhiWithResponse(ctx, client.PhiInput{Text: "Mr. Okonkwo"})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, noTok2.StatusCode(), "%s", noTok2.Body)

	// The limit counts detect and redact together, per user; requests the contract refuses
	// never reach it (1 counted above, 4 here).
	for i := 0; i < 4; i++ {
		ok, err := s.Client.RedactPhiWithResponse(ctx, client.PhiInput{Text: "Mr. Okonkwo"}, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, ok.StatusCode(), "%s", ok.Body)
	}
	lim, err := s.Client.DetectPhiWithResponse(ctx, client.PhiInput{Text: "Mr. Okonkwo"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, lim.StatusCode(), "%s", lim.Body)
	require.Equal(t, "RATE_LIMIT_EXCEEDED", errorOf(t, lim.Body).Error.Code)
	other := s.token(t, s.account(t, auth.RoleUser))
	fresh, err := s.Client.DetectPhiWithResponse(ctx, client.PhiInput{Text: "Mr. Okonkwo"}, bearerAuth(other))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, fresh.StatusCode(), "%s", fresh.Body)
}

// A service API key works like a token.
func TestPhiWithAPIKey(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()
	key, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "phi"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, key.StatusCode(), "%s", key.Body)
	withKey := func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-API-Key", key.JSON201.Data.Key)
		return nil
	}
	res, err := s.Client.RedactPhiWithResponse(ctx, client.PhiInput{Text: "Call 312-555-0199."}, withKey)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	require.Equal(t, "Call [PHONE].", res.JSON200.Data.Text)
}

// policyServer runs the gateway in front of the fake OpenAI-compatible chat server with env
// added, and a knowledge base whose text names a person and a phone number.
func policyServer(t *testing.T, env map[string]string) (*testServer, *fakeChat, string) {
	t.Helper()
	fake := newFakeChat(t)
	base := map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey, "OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline"}
	for k, v := range env {
		base[k] = v
	}
	s := startServer(t, base)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	doc := s.addText(t, admin, "Warfarin clinic", "# Warfarin clinic\n\nWarfarin dosing questions go to Dr. Okonkwo at the anticoagulation clinic, phone 312-555-0142.")
	s.waitIndexed(t, admin, doc.Id)
	return s, fake, s.token(t, s.account(t, auth.RoleUser))
}

const phiQuestion = "Mr. Zebulon Quarrington, MRN 12345678, takes warfarin: who answers dosing questions?"

// redact (the default): the external model receives the question redacted; the knowledge-base
// passage, which names a doctor and a phone number, reaches it unchanged; the stored message
// is what the user wrote.
func TestPhiPolicyRedactsWhatTheModelReceives(t *testing.T) {
	t.Parallel()
	s, fake, tok := policyServer(t, nil)
	c := s.newConversation(t, tok, nil)
	ex := s.ask(t, tok, c.Id, phiQuestion)
	require.Equal(t, phiQuestion, ex.UserMessage.Content)

	msgs := fake.messages(0)
	last := msgs[len(msgs)-1]["content"].(string)
	require.Contains(t, last, "Question: Mr. [NAME], MRN [MRN], takes warfarin: who answers dosing questions?")
	require.NotContains(t, last, "Quarrington")
	require.NotContains(t, last, "12345678")
	require.Contains(t, last, "Dr. Okonkwo at the anticoagulation clinic, phone 312-555-0142", "knowledge-base text is never redacted")

	// The history sent with the next question is redacted too.
	s.ask(t, tok, c.Id, "And what if Mr. Quarrington misses a dose?")
	msgs = fake.messages(1)
	require.Equal(t, "user", msgs[1]["role"])
	require.Equal(t, "Mr. [NAME], MRN [MRN], takes warfarin: who answers dosing questions?", msgs[1]["content"])
	require.Contains(t, msgs[len(msgs)-1]["content"], "And what if Mr. [NAME] misses a dose?")
	require.NotContains(t, s.Logs(), "Quarrington", "no PHI in logs")
}

// block: 422 PHI_BLOCKED naming the types, and nothing reaches the model; text without PHI
// still goes through.
func TestPhiPolicyBlock(t *testing.T) {
	t.Parallel()
	s, fake, tok := policyServer(t, map[string]string{"PHI_POLICY": "block"})
	c := s.newConversation(t, tok, nil)
	res, err := s.Client.SendMessageWithResponse(context.Background(), c.Id, client.MessageInput{Content: phiQuestion}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode(), "%s", res.Body)
	e := errorOf(t, res.Body).Error
	require.Equal(t, "PHI_BLOCKED", e.Code)
	require.Contains(t, e.Message, "mrn, name")
	require.NotContains(t, string(res.Body), "Quarrington")
	require.Empty(t, fake.Requests(llmtest.Chat), "nothing was sent")
	require.NotContains(t, s.Logs(), "Quarrington", "no PHI in logs")
	// The question is stored as written, without an answer.
	list, err := s.Client.ListMessagesWithResponse(context.Background(), c.Id, nil, bearerAuth(tok))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 1)
	require.Equal(t, phiQuestion, list.JSON200.Data[0].Content)

	clean := s.newConversation(t, tok, nil)
	ok := s.ask(t, tok, clean.Id, "Who answers warfarin dosing questions?")
	require.Contains(t, ok.AssistantMessage.Content, "Answer")
	require.Len(t, fake.Requests(llmtest.Chat), 1)
}

// allow, and a trusted endpoint under the default policy: the model gets the text as written.
func TestPhiPolicyAllowAndTrusted(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{{"PHI_POLICY": "allow"}, {"PROVIDERS_TRUSTED": "true"}} {
		s, fake, tok := policyServer(t, env)
		c := s.newConversation(t, tok, nil)
		s.ask(t, tok, c.Id, phiQuestion)
		msgs := fake.messages(0)
		require.Contains(t, msgs[len(msgs)-1]["content"], "Question: "+phiQuestion, "%v", env)
	}
}
