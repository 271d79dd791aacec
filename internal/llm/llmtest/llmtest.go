// Package llmtest is the one fake OpenAI-compatible server for tests: chat completions
// (plain and streamed), embeddings, audio transcriptions and speech, with programmable
// failures and a record of every request for assertions.
package llmtest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/voice"
)

// Endpoints, as recorded in Request.Endpoint (the path after /v1/).
const (
	Chat           = "chat/completions"
	Embeddings     = "embeddings"
	Transcriptions = "audio/transcriptions"
	Speech         = "audio/speech"
)

// APIKey is the key the server expects unless Server.APIKey is changed.
const APIKey = "test-key"

// SpeechRate is the sample rate of the speech the server returns, as OpenAI's pcm format.
const SpeechRate = 24000

// Message is one chat message of a request.
type Message struct {
	Role    string
	Content string
}

// Request is one request as the server received it. Fields not used by its endpoint are
// zero.
type Request struct {
	N        int    // arrival order over all endpoints, 0-based
	Endpoint string // Chat, Embeddings, Transcriptions, Speech or the unknown path
	Time     time.Time
	Header   http.Header
	Body     []byte         // the raw body (JSON endpoints)
	JSON     map[string]any // the body decoded (JSON endpoints), for fields not listed here

	Model string
	// Chat.
	Messages    []Message
	Stream      bool
	MaxTokens   *int
	Temperature *float64
	// Embeddings: Input; speech: Input[0].
	Input          []string
	Dimensions     *int
	EncodingFormat string
	// Transcriptions (multipart form).
	File                   []byte
	Filename               string
	FileType               string // the file part's Content-Type
	Language               string
	Prompt                 string
	TimestampGranularities []string
	// Transcriptions and speech.
	ResponseFormat string
	// Speech.
	Voice string
	Speed *float64
}

// Fault is a failure the server plays instead of (or before) its answer.
type Fault struct {
	Status     int           // answer this status with an OpenAI error body (0: answer normally after Delay)
	Message    string        // the error message (default: the status text)
	RetryAfter string        // Retry-After header value, if not empty
	Delay      time.Duration // wait this long first (or until the client goes away)
	Hang       bool          // never answer: wait until the client goes away
	Drop       bool          // close the connection without an answer (a transport error)
	Times      int           // how many requests it applies to (0 = 1)
}

// Transcript is what the transcription endpoint answers; times are in seconds.
type Transcript struct {
	Text     string
	Language string // as verbose_json names it, e.g. "english"
	Duration float64
	Segments []Segment
	Words    []Word
}

// Segment is one segment of a verbose_json transcript.
type Segment struct {
	Start, End float64
	Text       string
	AvgLogprob float64
}

// Word is one word of a verbose_json transcript.
type Word struct {
	Word       string
	Start, End float64
}

// Server is the fake. Its Set* methods and Fail may be called at any time.
type Server struct {
	*httptest.Server
	t    testing.TB
	done chan struct{} // closed at cleanup: hung handlers return

	mu         sync.Mutex
	apiKey     string
	requests   []Request
	faults     map[string][]Fault // by endpoint; "" applies to any
	chat       func(Request) []string
	embed      func(text string, dim int) []float64
	transcript func(Request) Transcript
	speech     func(Request) []int16
	handler    func(http.ResponseWriter, *http.Request, Request) bool
}

// New starts a fake server, closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, done: make(chan struct{}), apiKey: APIKey, faults: map[string][]Fault{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.done) }) // runs first: hung handlers return, so Close does not wait for them
	return s
}

// BaseURL is the OpenAI-style base URL, ending in /v1.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// NewClient returns an llm.Client for this server: cfg with its base URL, key and HTTP
// client, and a 1 ms base delay unless cfg sets one.
func (s *Server) NewClient(cfg llm.Config) *llm.Client {
	cfg.BaseURL = s.BaseURL()
	s.mu.Lock()
	cfg.APIKey = s.apiKey
	s.mu.Unlock()
	cfg.HTTPClient = s.Server.Client()
	if cfg.BaseDelay == 0 {
		cfg.BaseDelay = time.Millisecond
	}
	return llm.New(cfg)
}

// Done is closed when the test ends: a handler that holds a request (SetHandler) should
// also return then, since the server's Close waits for it.
func (s *Server) Done() <-chan struct{} { return s.done }

// SetAPIKey changes the key the server expects ("" accepts any); other keys get a 401.
func (s *Server) SetAPIKey(key string) { s.mu.Lock(); s.apiKey = key; s.mu.Unlock() }

// SetChat sets the answer to a chat request, in pieces (streamed one chunk each, joined
// otherwise); by default "Hello", " world".
func (s *Server) SetChat(f func(Request) []string) { s.mu.Lock(); s.chat = f; s.mu.Unlock() }

// SetEmbed sets the vector of a text; dim is the request's dimensions, else 4. By default
// FakeVector.
func (s *Server) SetEmbed(f func(text string, dim int) []float64) {
	s.mu.Lock()
	s.embed = f
	s.mu.Unlock()
}

// SetTranscript sets the transcription answer; by default "hello world" in one segment
// over the uploaded WAV's duration.
func (s *Server) SetTranscript(f func(Request) Transcript) {
	s.mu.Lock()
	s.transcript = f
	s.mu.Unlock()
}

// SetSpeech sets the speech answer, as samples at SpeechRate; by default FakeSpeech.
func (s *Server) SetSpeech(f func(Request) []int16) { s.mu.Lock(); s.speech = f; s.mu.Unlock() }

// SetHandler installs a handler that runs after recording and faults; if it returns true
// it has answered (custom streams, dropped connections), else the default answer follows.
func (s *Server) SetHandler(f func(w http.ResponseWriter, r *http.Request, req Request) bool) {
	s.mu.Lock()
	s.handler = f
	s.mu.Unlock()
}

// Fail queues f for the next f.Times requests to endpoint ("" = any endpoint); faults
// queued for one endpoint play in order.
func (s *Server) Fail(endpoint string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = append(s.faults[endpoint], f)
}

// Requests returns the requests received so far, to endpoint or to any if endpoint is "".
func (s *Server) Requests(endpoint string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if endpoint == "" || r.Endpoint == endpoint {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	endpoint := strings.TrimPrefix(r.URL.Path, "/")
	if i := strings.Index(r.URL.Path, "/v1/"); i >= 0 {
		endpoint = r.URL.Path[i+len("/v1/"):]
	}
	req, err := parse(endpoint, r)
	s.mu.Lock()
	req.N = len(s.requests)
	s.requests = append(s.requests, req)
	key := s.apiKey
	s.mu.Unlock()
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || r.Context().Err() != nil {
			return // the client went away while sending (a killed process): no fault of its request
		}
		// 418 is no status a client retries, so the failing check shows in the test.
		s.t.Errorf("llmtest: %s: %v", endpoint, err)
		WriteError(w, http.StatusTeapot, err.Error())
		return
	}
	if r.Method != http.MethodPost {
		WriteError(w, http.StatusMethodNotAllowed, "POST only")
		return
	}
	if key != "" && r.Header.Get("Authorization") != "Bearer "+key {
		WriteError(w, http.StatusUnauthorized, "Incorrect API key provided.")
		return
	}
	if f, ok := s.nextFault(endpoint); ok && s.play(w, r, f) {
		return
	}
	s.mu.Lock()
	handler := s.handler
	s.mu.Unlock()
	if handler != nil && handler(w, r, req) {
		return
	}
	switch endpoint {
	case Chat:
		s.answerChat(w, req)
	case Embeddings:
		s.answerEmbeddings(w, req)
	case Transcriptions:
		s.answerTranscription(w, req)
	case Speech:
		s.answerSpeech(w, req)
	default:
		WriteError(w, http.StatusNotFound, "Unknown endpoint "+r.URL.Path)
	}
}

func (s *Server) nextFault(endpoint string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{endpoint, ""} {
		q := s.faults[key]
		if len(q) == 0 {
			continue
		}
		f := q[0]
		if q[0].Times--; q[0].Times <= 0 {
			s.faults[key] = q[1:]
		}
		return f, true
	}
	return Fault{}, false
}

// play plays f and reports whether it answered.
func (s *Server) play(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Hang {
		s.wait(r.Context(), nil)
		return true
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		if !s.wait(r.Context(), t.C) {
			return true
		}
	}
	if f.Drop {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return true
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	WriteError(w, f.Status, f.Message)
	return true
}

// wait blocks until c fires (true), the client goes away or the server is closed.
func (s *Server) wait(ctx context.Context, c <-chan time.Time) bool {
	select {
	case <-c:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// WriteError answers code with an OpenAI error body (message defaults to the status text).
func WriteError(w http.ResponseWriter, code int, message string) {
	if message == "" {
		message = http.StatusText(code)
	}
	typ := "invalid_request_error"
	if code >= 500 {
		typ = "server_error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": message, "type": typ, "param": nil, "code": strconv.Itoa(code),
	}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// parse reads the request body into a Request.
func parse(endpoint string, r *http.Request) (Request, error) {
	req := Request{Endpoint: endpoint, Time: time.Now(), Header: r.Header.Clone()}
	if r.Method != http.MethodPost {
		return req, nil
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		return req, parseForm(&req, r)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return req, fmt.Errorf("read body: %w", err)
	}
	req.Body = body
	if err := json.Unmarshal(body, &req.JSON); err != nil {
		return req, fmt.Errorf("decode JSON: %w", err)
	}
	var b struct {
		Model       string   `json:"model"`
		Stream      bool     `json:"stream"`
		MaxTokens   *int     `json:"max_tokens"`
		Temperature *float64 `json:"temperature"`
		Messages    []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Input          json.RawMessage `json:"input"`
		Dimensions     *int            `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
		ResponseFormat string          `json:"response_format"`
		Voice          string          `json:"voice"`
		Speed          *float64        `json:"speed"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return req, fmt.Errorf("decode JSON: %w", err)
	}
	req.Model, req.Stream, req.MaxTokens, req.Temperature = b.Model, b.Stream, b.MaxTokens, b.Temperature
	req.Dimensions, req.EncodingFormat = b.Dimensions, b.EncodingFormat
	req.ResponseFormat, req.Voice, req.Speed = b.ResponseFormat, b.Voice, b.Speed
	for _, m := range b.Messages {
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: text(m.Content)})
	}
	if len(b.Input) > 0 {
		var one string
		if json.Unmarshal(b.Input, &one) == nil {
			req.Input = []string{one}
		} else if err := json.Unmarshal(b.Input, &req.Input); err != nil {
			return req, fmt.Errorf("input is neither a string nor strings: %s", b.Input)
		}
	}
	return req, nil
}

// text is a message content: a string, or the text of its parts.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func parseForm(req *Request, r *http.Request) error {
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		return fmt.Errorf("multipart form: %w", err)
	}
	form := r.MultipartForm
	files := form.File["file"]
	if len(files) != 1 {
		return fmt.Errorf("%d file parts named \"file\", want 1", len(files))
	}
	f, err := files[0].Open()
	if err != nil {
		return err
	}
	defer f.Close()
	if req.File, err = io.ReadAll(f); err != nil {
		return err
	}
	req.Filename, req.FileType = files[0].Filename, files[0].Header.Get("Content-Type")
	get := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	req.Model, req.Language, req.Prompt, req.ResponseFormat = get("model"), get("language"), get("prompt"), get("response_format")
	req.TimestampGranularities = append(form.Value["timestamp_granularities[]"], form.Value["timestamp_granularities"]...)
	return nil
}

// Chat answers.

func (s *Server) answerChat(w http.ResponseWriter, req Request) {
	s.mu.Lock()
	f := s.chat
	s.mu.Unlock()
	pieces := []string{"Hello", " world"}
	if f != nil {
		pieces = f(req)
	}
	if req.Stream {
		WriteStream(w, pieces...)
		return
	}
	writeJSON(w, map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": req.Model,
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": strings.Join(pieces, "")},
		}},
		"usage": map[string]int{"prompt_tokens": 1, "completion_tokens": len(pieces), "total_tokens": 1 + len(pieces)},
	})
}

// ChunkJSON is one chat.completion.chunk carrying content (and a finish reason if not
// empty).
func ChunkJSON(content, finish string) string {
	delta := map[string]any{}
	if content != "" {
		delta["content"] = content
	}
	var fr any
	if finish != "" {
		fr = finish
	}
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": "fake",
		"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": fr}},
	})
	return string(b)
}

// StartStream writes the headers of an SSE answer.
func StartStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
}

// WriteEvent writes one SSE data event and flushes it.
func WriteEvent(w http.ResponseWriter, data string) {
	_, _ = fmt.Fprintf(w, "data: %s\n\n", data)
	_ = http.NewResponseController(w).Flush()
}

// WriteStream streams a chat answer as OpenAI does: a role-only chunk, one chunk per
// piece, a finish chunk and [DONE].
func WriteStream(w http.ResponseWriter, pieces ...string) {
	StartStream(w)
	WriteEvent(w, `{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1,"model":"fake",`+
		`"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
	for _, p := range pieces {
		WriteEvent(w, ChunkJSON(p, ""))
	}
	WriteEvent(w, ChunkJSON("", "stop"))
	WriteEvent(w, "[DONE]")
}

// Embeddings.

// FakeVector is the default vector of a text: (len(text), 3, 0, ...), not normalised, so
// that a client's normalisation is visible.
func FakeVector(text string, dim int) []float64 {
	v := make([]float64, dim)
	if dim > 0 {
		v[0] = float64(len(text))
	}
	if dim > 1 {
		v[1] = 3
	}
	return v
}

func (s *Server) answerEmbeddings(w http.ResponseWriter, req Request) {
	s.mu.Lock()
	f := s.embed
	s.mu.Unlock()
	if f == nil {
		f = FakeVector
	}
	dim := 4
	if req.Dimensions != nil {
		dim = *req.Dimensions
	}
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float64 `json:"embedding"`
	}
	data := make([]item, 0, len(req.Input))
	for i := len(req.Input) - 1; i >= 0; i-- { // reversed: clients must use "index"
		data = append(data, item{Object: "embedding", Index: i, Embedding: f(req.Input[i], dim)})
	}
	writeJSON(w, map[string]any{
		"object": "list", "model": req.Model, "data": data,
		"usage": map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)},
	})
}

// Audio.

func (s *Server) answerTranscription(w http.ResponseWriter, req Request) {
	s.mu.Lock()
	f := s.transcript
	s.mu.Unlock()
	var tr Transcript
	if f != nil {
		tr = f(req)
	} else {
		d := wavSeconds(req.File)
		tr = Transcript{
			Text: "hello world", Language: "english", Duration: d,
			Segments: []Segment{{Start: 0, End: d, Text: " hello world", AvgLogprob: -0.1}},
			Words:    []Word{{Word: "hello", Start: 0, End: d / 2}, {Word: "world", Start: d / 2, End: d}},
		}
	}
	switch req.ResponseFormat {
	case "", "json":
		writeJSON(w, map[string]any{"text": tr.Text, "usage": map[string]any{"type": "duration", "seconds": tr.Duration}})
	case "verbose_json":
		out := map[string]any{"task": "transcribe", "language": tr.Language, "duration": tr.Duration, "text": tr.Text}
		// As OpenAI: segments unless only words were asked for, words only when asked for.
		g := req.TimestampGranularities
		if len(g) == 0 || slices.Contains(g, "segment") {
			segs := make([]map[string]any, len(tr.Segments))
			for i, sg := range tr.Segments {
				segs[i] = map[string]any{"id": i, "seek": 0, "start": sg.Start, "end": sg.End, "text": sg.Text,
					"tokens": []int{}, "temperature": 0, "avg_logprob": sg.AvgLogprob, "compression_ratio": 1, "no_speech_prob": 0}
			}
			out["segments"] = segs
		}
		if slices.Contains(g, "word") {
			words := make([]map[string]any, len(tr.Words))
			for i, wd := range tr.Words {
				words[i] = map[string]any{"word": wd.Word, "start": wd.Start, "end": wd.End}
			}
			out["words"] = words
		}
		writeJSON(w, out)
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, tr.Text+"\n")
	default:
		WriteError(w, http.StatusBadRequest, "llmtest: unsupported response_format "+req.ResponseFormat)
	}
}

// wavSeconds is the duration of a canonical 16-bit mono WAV, 0 if b is none.
func wavSeconds(b []byte) float64 {
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0
	}
	rate := binary.LittleEndian.Uint32(b[24:28])
	if rate == 0 {
		return 0
	}
	return float64(len(b)-44) / 2 / float64(rate)
}

// FakeSpeech is the default speech: 100 samples of a sawtooth per input character.
func FakeSpeech(req Request) []int16 {
	n := 0
	if len(req.Input) > 0 {
		n = 100 * len(req.Input[0])
	}
	out := make([]int16, n)
	for i := range out {
		out[i] = int16((i%100)*200 - 10000)
	}
	return out
}

func (s *Server) answerSpeech(w http.ResponseWriter, req Request) {
	s.mu.Lock()
	f := s.speech
	s.mu.Unlock()
	if f == nil {
		f = FakeSpeech
	}
	p := voice.PCM{Samples: f(req), Rate: SpeechRate}
	switch req.ResponseFormat {
	case "pcm":
		w.Header().Set("Content-Type", "audio/pcm")
		_, _ = w.Write(voice.PCMBytes(p))
	case "wav":
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write(voice.EncodeWAV(p))
	default: // "" is mp3 at OpenAI, which the fake cannot make
		WriteError(w, http.StatusBadRequest, "llmtest: unsupported response_format "+strconv.Quote(req.ResponseFormat))
	}
}
