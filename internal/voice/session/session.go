package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/realtime"
	"github.com/voiceassist/gateway/internal/voice"
)

const (
	featureBinary = "binary_audio"
	maxContent    = 8000 // characters of a typed turn
	prerollMS     = 300  // audio kept before the start of speech, so its onset is not clipped
)

// Session is one socket of the voice pipeline. The reader goroutine (the Conn's handlers)
// owns the input state; outMu guards what turns and the reader share: the output sequence,
// the running turn and whether a client is attached.
type Session struct {
	h      *Hub
	conn   *realtime.Conn
	connID uuid.UUID
	user   realtime.Principal
	token  string
	log    *slog.Logger
	ctx    context.Context // the session's work (turns); ends at server shutdown
	cancel context.CancelFunc
	closed chan struct{} // the socket ended

	// reader-owned
	started   bool
	vad       *VAD
	vadOn     bool
	preroll   []int16
	utter     []int16
	inUtter   bool
	inFrames  uint64
	inGaps    uint64
	lastInSeq uint32
	bc        backchannel // acknowledgements during long utterances (backchannel.go)

	// set once the session starts (init or resume), read-only afterwards
	id       uuid.UUID
	conv     uuid.UUID
	binary   bool
	features []string
	voiceID  string
	language string
	buf      *buffer

	// End-of-speech silence (prosody): the client's vad.silence_ms wins for the session
	// (silenceFixed, set at start); else a turn stores a learned one in silence and the reader
	// applies it to its VAD, whose current value is vadSilence (reader-owned). Milliseconds.
	silenceFixed bool
	silence      atomic.Int32
	vadSilence   int

	outMu     sync.Mutex
	seq       uint32
	attached  bool
	turn      *turn
	following bool // replaying a turn another socket's session is producing (after a resume)
	repair    voice.RepairState

	mode        string    // conversation (default) or dictation
	dictID      uuid.UUID // the dictation session of dictation mode
	dictVersion int32     // its version after our last append
}

// ServeHTTP is GET /api/voice/pipeline-ws.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	connID := uuid.New()
	a, ok := h.cfg.Gate.Accept(w, r, func(p realtime.Principal) (func(), *realtime.Refusal) {
		return h.admit(r.Context(), p.UserID, connID)
	})
	if !ok {
		return
	}
	defer a.Release()
	s := &Session{h: h, connID: connID, user: a.User, token: a.Token, closed: make(chan struct{}), attached: true,
		log: h.log.With("connection_id", connID, "user_id", a.User.UserID, "request_id", a.RequestID)}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(r.Context()))
	s.conn = realtime.NewConn(a.WS, realtime.ConnOptions{
		ReadLimit: h.cfg.MaxFrameBytes, QueueSize: h.cfg.SendQueue, PingInterval: h.cfg.PingInterval,
		WriteWait: h.cfg.WriteWait, Logger: s.log,
		OnText: s.onText, OnBinary: s.onBinary,
		OnSent: func(label string) { h.frames.WithLabelValues("out", label).Inc() },
	})
	if !h.register(s) {
		h.cfg.Gate.Reject(a.WS, websocket.CloseGoingAway, "server shutting down")
		return
	}
	h.sessions.Inc()
	go s.maintain()
	s.conn.Run()
	close(s.closed)
	h.sessions.Dec()
	s.outMu.Lock()
	s.attached = false
	t := s.turn
	s.outMu.Unlock()
	code, reason := s.conn.CloseStatus()
	s.log.Debug("voice session: socket closed", "code", code, "reason", reason)
	// The turn (if any) goes on without the client for a while; the session row ends after it.
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer h.unregister(s)
		s.afterSocket(t, endReason(code, reason))
	}()
}

func (h *Hub) register(s *Session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.live[s] = struct{}{}
	return true
}

func (h *Hub) unregister(s *Session) {
	h.mu.Lock()
	delete(h.live, s)
	h.mu.Unlock()
}

// local finds a session of this replica by id that is producing a turn (for barge-in after a
// resume on the same replica).
func (h *Hub) local(id uuid.UUID, except *Session) *Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.live {
		if s != except && s.id == id {
			return s
		}
	}
	return nil
}

func endReason(code int, reason string) string {
	switch {
	case code == websocket.CloseNormalClosure && strings.Contains(reason, "resumed"):
		return "resumed_elsewhere"
	case code == websocket.CloseNormalClosure || code == websocket.CloseGoingAway && reason == "":
		return "client_closed"
	case code == websocket.CloseTryAgainLater:
		return "too_slow"
	case code == websocket.ClosePolicyViolation && strings.Contains(reason, "token"):
		return "token_expired"
	case code == websocket.ClosePolicyViolation && strings.Contains(reason, "time limit"):
		return "time_limit"
	case code == websocket.CloseGoingAway:
		return "server_shutdown"
	case code == websocket.CloseMessageTooBig:
		return "frame_too_big"
	default:
		return "closed"
	}
}

// afterSocket waits for the running turn (at most DetachGrace, then it is cut and stored),
// then closes the resume buffer and ends the session row.
func (s *Session) afterSocket(t *turn, reason string) {
	if t != nil {
		select {
		case <-t.done:
		case <-s.h.cfg.Clock.After(s.h.cfg.DetachGrace):
			s.stop(t, "client_gone")
			<-t.done
		}
	}
	if s.buf != nil {
		s.buf.close()
	}
	if s.id != uuid.Nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.h.cfg.WriteWait)
		defer cancel()
		if err := s.h.q.EndVoiceSession(ctx, db.EndVoiceSessionParams{ID: s.id, EndReason: &reason, ConnectionID: s.connID}); err != nil {
			s.log.Warn("voice session: end", "err", err)
		}
	}
	s.cancel()
}

// shutdown ends the session for a server shutdown: the running turn stops and is stored.
func (s *Session) shutdown() {
	s.outMu.Lock()
	t := s.turn
	s.outMu.Unlock()
	if t != nil {
		s.stop(t, "server_shutdown")
	}
	s.conn.Close(websocket.CloseGoingAway, "server shutting down")
}

func (s *Session) actor() audit.Actor {
	id := s.user.UserID
	return audit.Actor{ID: &id, Email: s.user.Email}
}

// send queues a frame that is not part of a turn (no sequence number, not kept for resume).
func (s *Session) send(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Error("voice session: marshal", "err", err)
		return
	}
	s.conn.SendText(typeOf(data), data)
}

func (s *Session) fail(code, message string) {
	s.send(errorEvent{Type: evError, Code: code, Message: message})
}

// emitLocked sends a frame of a turn (outMu held): the next sequence number, to the client
// if one is attached, and to the resume buffer. build gets the sequence number.
func (s *Session) emitLocked(end bool, build func(seq uint32) any) {
	s.seq++
	v := build(s.seq)
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Error("voice session: marshal", "err", err)
		return
	}
	if s.attached {
		s.conn.SendText(typeOf(data), data)
	}
	s.buf.add(entry{seq: s.seq, end: end, data: data})
}

// audioLocked sends one audio frame of a turn (outMu held).
func (s *Session) audioLocked(samples []int16) {
	s.seq++
	frame := audioFrame(s.seq, samples)
	if s.attached {
		if s.binary {
			s.conn.SendBinary(evAudio, frame)
		} else {
			s.conn.SendText(evAudio, audioJSON(frame))
		}
	}
	s.buf.add(entry{seq: s.seq, binary: true, data: frame})
}

// typeOf reads the type of an encoded event for metrics: every event struct has Type as its
// first field, so the JSON starts with {"type":"…".
func typeOf(data []byte) string {
	const prefix = `{"type":"`
	if !bytes.HasPrefix(data, []byte(prefix)) {
		return "unknown"
	}
	rest := data[len(prefix):]
	if i := bytes.IndexByte(rest, '"'); i >= 0 {
		return string(rest[:i])
	}
	return "unknown"
}

func (s *Session) onText(data []byte) {
	var in inbound
	if err := json.Unmarshal(data, &in); err != nil {
		s.count("invalid")
		s.fail(codeValidation, "the message is not a JSON object with fields of the right types")
		return
	}
	s.count(in.Type)
	if in.Type == inPing {
		s.send(pongEvent{Type: evPong, TS: in.TS, InputFrames: s.inFrames, LastInputSeq: s.lastInSeq, InputGaps: s.inGaps})
		return
	}
	if !s.started {
		switch in.Type {
		case inInit:
			s.init(in)
		case inResume:
			s.resume(in)
		default:
			s.fail(codeNotInitialized, "send session.init (or session.resume) first")
		}
		return
	}
	switch in.Type {
	case inInit, inResume:
		s.fail(codeInitialized, "the session has already started")
	case inAudio:
		pcm, err := base64.StdEncoding.DecodeString(in.Audio)
		switch {
		case err != nil:
			s.fail(codeValidation, "audio must be base64 PCM16 little-endian")
		case len(pcm)%2 != 0:
			s.fail(codeValidation, "audio must hold whole 16-bit samples")
		default:
			var seq uint32
			if in.Seq != nil {
				seq = *in.Seq
			}
			s.audio(seq, samplesLE(pcm))
		}
	case inAudioComplete:
		s.endUtterance()
	case inMessage:
		switch {
		case in.Content == nil || strings.TrimSpace(*in.Content) == "":
			s.fail(codeValidation, "content must not be empty")
		case utf8.RuneCountInString(*in.Content) > maxContent:
			s.fail(codeValidation, "content is longer than 8000 characters")
		default:
			s.startTurn(turnInput{text: *in.Content})
		}
	case inBargeIn:
		s.bargeIn("barge_in")
	case inMode:
		s.setMode(in)
	default:
		s.fail(codeValidation, "unknown message type")
	}
}

func (s *Session) count(typ string) {
	switch typ {
	case inInit, inResume, inAudio, inAudioComplete, inMessage, inBargeIn, inMode, inPing, "invalid", "binary":
	default:
		typ = "unknown"
	}
	s.h.frames.WithLabelValues("in", typ).Inc()
}

func (s *Session) onBinary(data []byte) {
	s.count("binary")
	switch {
	case !s.started:
		s.fail(codeNotInitialized, "send session.init (or session.resume) first")
	default:
		seq, samples, msg := parseAudioFrame(data)
		if msg != "" {
			s.fail(codeValidation, msg)
			return
		}
		s.audio(seq, samples)
	}
}

// parseAudioFrame reads a binary input frame; msg says what is wrong with a bad one.
func parseAudioFrame(data []byte) (seq uint32, samples []int16, msg string) {
	switch {
	case len(data) < frameHeader || data[0] != frameAudioIn:
		return 0, nil, "a binary frame is 0x01, a 4-byte big-endian sequence number, then PCM16 little-endian"
	case (len(data)-frameHeader)%2 != 0:
		return 0, nil, "audio must hold whole 16-bit samples"
	}
	return binary.BigEndian.Uint32(data[1:5]), samplesLE(data[frameHeader:]), ""
}

// audio takes one input frame: counts it (sequence gaps too), runs voice activity detection
// and collects the utterance.
func (s *Session) audio(seq uint32, samples []int16) {
	s.inFrames++
	if seq != 0 {
		if s.lastInSeq != 0 && seq != s.lastInSeq+1 {
			s.inGaps++
		}
		s.lastInSeq = seq
	}
	if !s.vadOn {
		s.collect(samples)
		return
	}
	s.adaptVAD()
	pos := 0
	base := s.backchannelInput(len(samples))
	for _, ev := range s.vad.Push(samples) {
		at := min(max(ev.At, pos), len(samples))
		if s.inUtter {
			s.collect(samples[pos:at])
		} else {
			s.keep(samples[pos:at])
		}
		pos = at
		s.backchannelEvent(ev, base+inputTime(ev.At))
		switch {
		case ev.Pause || ev.Resume: // inside speech: only backchannel acts on them
		case ev.Start:
			s.bargeIn("speech") // the user talks over the answer
			s.inUtter = true
			s.utter = append(s.utter[:0], s.preroll...)
			s.preroll = s.preroll[:0]
		default:
			s.endUtterance()
		}
	}
	if s.inUtter {
		s.collect(samples[pos:])
	} else {
		s.keep(samples[pos:])
	}
	s.backchannelDecided()
}

// keep remembers the last prerollMS of audio before speech.
func (s *Session) keep(samples []int16) {
	limit := voice.SampleRate * prerollMS / 1000
	s.preroll = append(s.preroll, samples...)
	if n := len(s.preroll); n > limit {
		s.preroll = append(s.preroll[:0], s.preroll[n-limit:]...)
	}
}

func (s *Session) collect(samples []int16) {
	s.inUtter = true
	s.utter = append(s.utter, samples...)
	if len(s.utter) >= int(s.h.cfg.MaxUtterance.Seconds()*voice.SampleRate) {
		s.endUtterance() // a very long utterance is answered as it stands
	}
}

// endUtterance hands the collected speech to a new turn.
func (s *Session) endUtterance() {
	s.backchannelEnd()
	if !s.inUtter || len(s.utter) == 0 {
		s.inUtter = false
		return
	}
	pcm := s.utter
	s.utter, s.inUtter = nil, false
	s.startTurn(turnInput{pcm: pcm})
}

// init starts a new session.
func (s *Session) init(in inbound) {
	ctx := s.ctx
	silence, sensitivity, vadOn := 500, 50, true
	if v := in.VAD; v != nil {
		if v.Enabled != nil {
			vadOn = *v.Enabled
		}
		if v.SilenceMS != nil {
			silence = *v.SilenceMS
		}
		if v.Sensitivity != nil {
			sensitivity = *v.Sensitivity
		}
	}
	switch {
	case silence < 200 || silence > 800:
		s.fail(codeValidation, "vad.silence_ms must be between 200 and 800")
		return
	case sensitivity < 0 || sensitivity > 100:
		s.fail(codeValidation, "vad.sensitivity must be between 0 and 100")
		return
	case len(in.Language) > 16:
		s.fail(codeValidation, "language is a BCP 47 tag such as \"en\"")
		return
	case len(in.Features) > 16:
		s.fail(codeValidation, "features lists at most 16 names")
		return
	case in.Voice != "" && !s.hasVoice(in.Voice):
		s.fail(codeValidation, "voice is not a voice of the configured providers (GET /api/voice/voices)")
		return
	}
	var conv uuid.UUID
	if in.ConversationID != nil {
		id, err := uuid.Parse(*in.ConversationID)
		if err != nil {
			s.fail(codeValidation, "conversation_id must be a UUID")
			return
		}
		if _, err := s.h.cfg.Chats.Get(ctx, s.user.UserID, id); err != nil {
			s.failErr(err, "could not load the conversation")
			return
		}
		conv = id
	} else {
		c, err := s.h.cfg.Chats.Create(ctx, s.user.UserID, "Voice conversation", "")
		if err != nil {
			s.failErr(err, "could not start a conversation")
			return
		}
		conv = c.ID
	}
	explicit := in.VAD != nil && in.VAD.SilenceMS != nil
	silence, silenceSource := s.startSilence(ctx, silence, explicit)
	id := uuid.New()
	if _, err := s.h.q.CreateVoiceSession(ctx, db.CreateVoiceSessionParams{ID: id, UserID: s.user.UserID,
		ConversationID: &conv, Replica: s.h.cfg.Replica, ConnectionID: s.connID}); err != nil {
		s.failErr(err, "could not start the session")
		return
	}
	s.id, s.conv, s.voiceID, s.language = id, conv, in.Voice, in.Language
	s.vadOn, s.vad, s.vadSilence, s.silenceFixed = vadOn, NewVAD(silence, sensitivity), silence, explicit
	s.silence.Store(int32(silence))
	s.features = negotiate(in.Features)
	s.binary = slices.Contains(s.features, featureBinary)
	s.begin(0)
	ready := readyEvent{Type: evReady, SessionID: id, ConversationID: conv,
		InputSampleRate: voice.SampleRate, OutputSampleRate: s.h.cfg.OutputSampleRate}
	if silenceSource != "" {
		ready.VADSilenceMS, ready.VADSilenceSource = &silence, silenceSource
	}
	s.send(ready)
	s.send(initAckEvent{Type: evInitAck, Features: s.features})
	s.outMu.Lock()
	s.emitLocked(true, func(seq uint32) any { return stateEvent{Type: evState, Seq: seq, State: stateListening} })
	s.outMu.Unlock()
}

// begin makes the session live from output sequence number seq on: the resume buffer, the
// attach claim and the registry entry.
func (s *Session) begin(seq uint32) {
	s.started = true
	s.seq = seq
	s.buf = newBuffer(s.h.cfg.Redis, s.h.bufferKey(s.id), s.h.cfg.ResumeTTL, s.h.cfg.ResumeBufferBytes, s.log)
	ctx, cancel := context.WithTimeout(s.ctx, s.h.cfg.WriteWait)
	defer cancel()
	s.h.cfg.Redis.Set(ctx, s.h.attachKey(s.id), s.connID.String(), s.h.cfg.ResumeTTL)
	s.refresh(ctx)
}

func (s *Session) refresh(ctx context.Context) {
	ls := LiveSocket{ConnectionID: s.connID, UserID: s.user.UserID, Replica: s.h.cfg.Replica}
	if s.id != uuid.Nil {
		id, conv := s.id, s.conv
		ls.SessionID, ls.ConversationID = &id, &conv
	}
	if err := s.h.registry.update(ctx, ls); err != nil && ctx.Err() == nil {
		s.log.Warn("voice session: registry update", "err", err)
	}
}

func negotiate(asked []string) []string {
	out := []string{}
	if slices.Contains(asked, featureBinary) {
		out = append(out, featureBinary)
	}
	return out
}

func (s *Session) hasVoice(id string) bool {
	voices, _ := s.h.cfg.Voice.Voices()
	for _, v := range voices {
		if v.ID == id {
			return true
		}
	}
	return false
}

// failErr reports a domain error: its code when it is an API error the client can act on
// (NOT_FOUND, RATE_LIMIT_EXCEEDED, SERVICE_UNAVAILABLE, ...), else an internal error with a
// generic message (the details go to the log).
func (s *Session) failErr(err error, what string) {
	var ae *apierr.Error
	if errors.As(err, &ae) && (ae.Status < 500 || ae.Status == http.StatusServiceUnavailable) {
		s.fail(ae.Code, ae.Message)
		return
	}
	if s.ctx.Err() == nil {
		s.log.Error("voice session: "+what, "err", err)
	}
	s.fail(codeInternal, what)
}

// maintain runs the session's timers until the socket ends: heartbeats with the token
// re-check and the registry renewal every PingInterval, and the session time limit.
func (s *Session) maintain() {
	clock := s.h.cfg.Clock
	limit := clock.After(s.h.cfg.MaxSession)
	for {
		select {
		case <-s.closed:
			return
		case <-limit:
			s.fail(codeTimeLimit, "the session reached its time limit; start a new one")
			s.conn.Close(websocket.ClosePolicyViolation, "session time limit reached")
			return
		case <-clock.After(s.h.cfg.PingInterval):
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.h.cfg.WriteWait)
		if _, err := s.h.cfg.Gate.Auth(ctx, s.token); err != nil && ctx.Err() == nil {
			cancel()
			if realtime.Unavailable(err) {
				s.fail(codeUnavailable, "authentication is temporarily unavailable; keep your token and resume the session shortly")
			} else {
				s.fail(codeTokenExpired, "the access token expired or was revoked; reconnect with a new one")
			}
			s.conn.Close(realtime.RecheckClose(err))
			return
		}
		if s.id != uuid.Nil {
			if owner, err := s.h.cfg.Redis.Get(ctx, s.h.attachKey(s.id)).Result(); err == nil && owner != s.connID.String() {
				cancel()
				s.conn.Close(websocket.CloseNormalClosure, "session resumed on another connection")
				return
			}
		}
		s.refresh(ctx)
		cancel()
		s.send(heartbeatEvent{Type: evHeartbeat, TS: clock.Now().UTC()})
	}
}
