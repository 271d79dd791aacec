package session

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/voice"
	"github.com/voiceassist/gateway/internal/voice/emotion"
)

// chunkMS is the audio in one output frame: small enough to start playback at once, large
// enough that a long answer is not thousands of frames.
const chunkMS = 200

// turnInput is what starts a turn: an utterance or a typed message.
type turnInput struct {
	pcm       []int16
	text      string
	dictation bool         // appended to the dictation session instead of answered
	words     []voice.Word // the utterance's word timings (when the speech-to-text gave them)
}

// turn is one question and its answer. The fields after done are guarded by the
// session's outMu.
type turn struct {
	id     uuid.UUID
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	caps   voice.CapSet // the capabilities on for this turn (backend.voice_* flags)
	speed  float64      // factor on the user's speech speed (emotion); set by run before speak starts
	marks  turnMarks    // what analytics measures (analytics.go)

	stopped    bool   // barge-in, a newer turn, a client that did not come back, shutdown
	stopReason string // why
	speaking   bool
	spoken     []string // sentences whose audio was sent (to the client or the resume buffer)
	queued     int      // sentences handed to speech
	mute       bool     // speech failed or is unavailable: the answer was delivered as text only
	finished   bool
	repair     string // the repair strategy applied to this turn ("" when none; backend.voice_repair)
}

// startTurn stops the running turn (a newer question replaces it) and starts one.
func (s *Session) startTurn(in turnInput) {
	in.dictation = s.mode == modeDict
	// A conversation turn costs a transcription and a model answer: rate-limited like the
	// relay. Dictation costs a transcription only and comes in many short pieces.
	if !in.dictation {
		if err := s.h.cfg.Voice.AllowTurn(s.ctx, s.user.UserID); err != nil {
			s.failErr(err, "could not start the turn")
			return
		}
	}
	s.outMu.Lock()
	if s.following {
		s.outMu.Unlock()
		s.fail(codeBusy, "the answer from before the resume is still being delivered; wait for it or send barge_in")
		return
	}
	prev := s.turn
	if prev != nil && !prev.finished {
		s.stopLocked(prev, "new_turn")
	}
	ctx, cancel := context.WithCancel(s.ctx)
	t := &turn{id: uuid.New(), ctx: ctx, cancel: cancel, done: make(chan struct{}),
		caps: s.h.cfg.Switches.Evaluate(s.user.UserID, s.user.Email, s.user.Role), marks: turnMarks{start: s.h.cfg.Clock.Now()}}
	s.turn = t
	s.outMu.Unlock()
	s.h.wg.Add(1)
	go s.run(t, prev, in)
}

// bargeIn stops the answer being given: model and speech are cancelled, and once the
// acknowledgement (voice.state listening, reason barge_in) is queued no audio of the
// turn follows it, because every frame of a turn is queued under outMu after checking
// stopped.
func (s *Session) bargeIn(reason string) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if s.following {
		// Resumed: the turn is produced by another session (maybe on another replica).
		if other := s.h.local(s.id, s); other != nil {
			go other.stopCurrent(reason)
		}
	}
	t := s.turn
	if t == nil || t.finished {
		if reason == "barge_in" {
			s.emitLocked(false, func(seq uint32) any {
				return stateEvent{Type: evState, Seq: seq, State: stateListening, Reason: reason}
			})
		}
		return
	}
	if !t.stopped {
		s.stopLocked(t, reason)
	}
	s.emitLocked(false, func(seq uint32) any {
		return stateEvent{Type: evState, Seq: seq, State: stateListening, Reason: "barge_in"}
	})
}

func (s *Session) stopCurrent(reason string) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if t := s.turn; t != nil && !t.finished && !t.stopped {
		s.stopLocked(t, reason)
	}
}

func (s *Session) stop(t *turn, reason string) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if !t.stopped && !t.finished {
		s.stopLocked(t, reason)
	}
}

func (s *Session) stopLocked(t *turn, reason string) {
	t.stopped, t.stopReason = true, reason
	t.cancel()
}

// say sends a frame of the turn unless it was stopped.
func (s *Session) say(t *turn, end bool, build func(seq uint32) any) bool {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if t.stopped {
		return false
	}
	s.emitLocked(end, build)
	return true
}

// run answers one turn: transcription, the chat pipeline, speech sentence by sentence.
func (s *Session) run(t *turn, prev *turn, in turnInput) {
	defer s.h.wg.Done()
	defer close(t.done)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("voice session: panic in turn", "panic", v, "stack", string(debug.Stack()))
			s.fail(codeInternal, "the turn failed")
		}
	}()
	if prev != nil {
		<-prev.done // answers are stored in the order they were asked
	}
	stopLease := s.lease()
	defer stopLease()
	defer t.cancel()
	if in.dictation {
		s.dictate(t, in)
		return
	}

	s.say(t, false, func(seq uint32) any { return stateEvent{Type: evState, Seq: seq, State: stateThinking} })
	s.beginTurn(t, in.pcm != nil)
	text, source := in.text, conversation.SourceChat
	confidence := -1.0 // the transcript's (repair); typed text has none
	if in.pcm != nil {
		source = conversation.SourceVoice
		s.mark(t, &t.marks.sttStart)
		tr, err := s.h.cfg.Voice.TranscribePCM(t.ctx, voice.PCM{Samples: in.pcm, Rate: voice.SampleRate},
			voice.TranscribeOptions{Language: s.language, Timestamps: true})
		if err != nil {
			if t.ctx.Err() == nil {
				s.fail(codeVoice, "speech recognition failed; try again or type the question")
				s.log.Warn("voice session: transcription failed", "err", err)
			}
			s.finishEarly(t)
			return
		}
		s.mark(t, &t.marks.sttEnd)
		text = strings.TrimSpace(tr.Text)
		in.words = emotion.Words(tr.Segments)
		confidence = voice.TranscriptConfidence(tr)
		if text == "" {
			s.fail(codeNoSpeech, "no words were recognised in the utterance")
			s.finishEarly(t)
			return
		}
		s.say(t, false, func(seq uint32) any {
			return transcriptEvent{Type: evTranscriptDel, Seq: seq, TurnID: t.id, Text: text}
		})
		var prosody *prosodyJSON
		if t.caps.On(voice.CapProsody) {
			prosody = s.learnProsody(t.ctx, tr, text, time.Duration(len(in.pcm))*time.Second/voice.SampleRate)
		}
		s.say(t, false, func(seq uint32) any {
			return transcriptEvent{Type: evTranscript, Seq: seq, TurnID: t.id, Text: text, Prosody: prosody}
		})
	}
	t.marks.userWords = voice.CountWords(text)
	// Memory is written beside the answer (its transaction's commit is milliseconds the first
	// audio need not wait for) and is stored by the time response.complete goes out.
	var remembered chan struct{}
	if m := s.h.cfg.Memory; m != nil && t.caps.On(voice.CapMemory) {
		remembered = make(chan struct{})
		mt := voice.Turn{User: s.user.UserID, Email: s.user.Email, Role: s.user.Role, Session: s.id, Text: text,
			SpeechLength: time.Duration(len(in.pcm)) * time.Second / voice.SampleRate}
		go func() {
			defer close(remembered)
			// A barge-in stops the answer, not what the user said.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), s.h.cfg.WriteWait)
			defer cancel()
			if _, err := m.Observe(ctx, mt); err != nil {
				s.log.Warn("voice session: memory not written", "err", err)
			}
		}()
	}

	style := s.readEmotion(t, in, text)
	t.speed = style.Speed // read by speak, started below
	rp := s.planRepair(t, text, confidence, in.pcm == nil)

	sentences := make(chan string, 16)
	spoken := make(chan struct{})
	go s.speak(t, sentences, spoken) // prepares the speaker while the model starts
	var stream voice.SentenceStream
	queue := func(ss []string) {
		for _, sentence := range ss {
			select {
			case sentences <- sentence:
				s.outMu.Lock()
				t.queued++
				s.outMu.Unlock()
			case <-t.ctx.Done():
				return
			}
		}
	}
	opt := conversation.SendOptions{Source: source}
	if m := s.h.cfg.Memory; m != nil && t.caps.On(voice.CapMemory) {
		c, err := m.PromptContext(t.ctx, s.user.UserID, s.user.Email, s.user.Role, text)
		if err != nil {
			s.log.Warn("voice session: memory not read", "err", err)
		}
		opt.Guidance = c
	}
	opt.Guidance, opt.Ask = joinBlocks(joinBlocks(opt.Guidance, style.Hint), rp.Instruction), rp.Ask
	send := sendFunc(s.h.cfg.Chats.SendWith)
	if rp.Reply != "" {
		send = s.replyWith(rp.Reply)
	}
	q, a, err := send(s.withStageMarks(t), s.user.UserID, s.conv, text, opt, func(ev conversation.Event) error {
		if ev.Chat == nil || ev.Chat.Type != chat.EventDelta {
			return nil
		}
		s.mark(t, &t.marks.firstToken)
		if !s.say(t, false, func(seq uint32) any {
			return deltaEvent{Type: evResponseDelta, Seq: seq, TurnID: t.id, Delta: ev.Chat.Delta}
		}) {
			return context.Canceled
		}
		queue(stream.Push(ev.Chat.Delta))
		return nil
	})
	if err == nil {
		queue(stream.Flush())
	}
	close(sentences)
	<-spoken
	_ = q
	s.noteRepair(t, text, rp, a, err)
	if remembered != nil {
		<-remembered
	}
	s.finish(t, a, err, source)
}

// speak renders queued sentences and sends each one's audio whole, or not at all.
func (s *Session) speak(t *turn, sentences <-chan string, done chan<- struct{}) {
	defer close(done)
	sp, err := s.h.cfg.Voice.SpeakerAt(t.ctx, s.actor(), s.voiceID, t.speed)
	if err != nil && t.ctx.Err() == nil {
		s.fail(codeVoice, "speech output is unavailable; the answer comes as text")
	}
	n, failed := 0, sp == nil
	mute := func() {
		s.outMu.Lock()
		t.mute = true
		s.outMu.Unlock()
	}
	if failed {
		mute()
	}
	for sentence := range sentences {
		if failed || t.ctx.Err() != nil {
			continue
		}
		pcm, err := sp.Speak(t.ctx, sentence)
		if err != nil {
			if t.ctx.Err() == nil {
				s.log.Warn("voice session: speech failed", "err", err)
				s.fail(codeVoice, "speech output failed; the answer continues as text")
				mute()
			}
			failed = true
			continue
		}
		if pcm.Rate != s.h.cfg.OutputSampleRate {
			pcm = voice.Resample(pcm, s.h.cfg.OutputSampleRate)
		}
		n++
		if !s.speakSentence(t, n, sentence, pcm) {
			failed = true
			continue
		}
		s.h.cfg.Voice.Spoken(sp.Route(), pcm.Duration())
	}
}

// speakSentence queues one sentence's metadata and audio frames atomically with respect to
// barge-in.
func (s *Session) speakSentence(t *turn, n int, sentence string, pcm voice.PCM) bool {
	chunk := pcm.Rate * chunkMS / 1000
	frames := (len(pcm.Samples) + chunk - 1) / chunk
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if t.stopped {
		return false
	}
	if !t.speaking {
		t.speaking = true
		s.mark(t, &t.marks.firstAud)
		s.emitLocked(false, func(seq uint32) any { return stateEvent{Type: evState, Seq: seq, State: stateSpeaking} })
	}
	s.emitLocked(false, func(seq uint32) any {
		return audioMetaEvent{Type: evAudioMeta, Seq: seq, TurnID: t.id, Sentence: n, Text: sentence,
			SampleRate: pcm.Rate, Samples: len(pcm.Samples), Frames: frames}
	})
	for i := 0; i < len(pcm.Samples); i += chunk {
		s.audioLocked(pcm.Samples[i:min(i+chunk, len(pcm.Samples))])
	}
	t.spoken = append(t.spoken, sentence)
	return true
}

// finishEarly ends a turn that never reached the model.
func (s *Session) finishEarly(t *turn) {
	s.outMu.Lock()
	t.finished = true
	if !t.stopped {
		s.emitLocked(true, func(seq uint32) any { return stateEvent{Type: evState, Seq: seq, State: stateListening} })
	}
	s.outMu.Unlock()
	s.h.turns.WithLabelValues("failed").Inc()
	s.record(t, voice.OutcomeFailed, nil)
	s.buf.flush()
}

// finish stores the outcome and tells the client: the whole answer, or, when the turn was
// stopped before all of it was spoken, the sentences that were, marked interrupted.
func (s *Session) finish(t *turn, a conversation.Message, err error, source string) {
	s.outMu.Lock()
	stopped, spoken := t.stopped, strings.Join(t.spoken, " ")
	complete := err == nil && (t.mute || len(t.spoken) == t.queued)
	s.outMu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), s.h.cfg.WriteWait)
	defer cancel()
	var msg *conversation.Message
	outcome := "answered"
	switch {
	case err == nil && (!stopped || complete):
		msg = &a
	case stopped:
		var answer *conversation.Message
		if err == nil {
			answer = &a
		}
		m, ierr := s.h.cfg.Chats.Interrupted(ctx, s.conv, answer, spoken, source)
		if ierr != nil {
			s.log.Error("voice session: store interrupted answer", "err", ierr)
		}
		msg, outcome = m, "interrupted"
	default:
		outcome = "failed"
		if !errors.Is(err, context.Canceled) {
			s.failErr(err, "the answer failed; please retry")
		}
	}
	s.h.turns.WithLabelValues(outcome).Inc()
	if s.id != uuid.Nil {
		if cerr := s.h.q.CountVoiceTurn(ctx, s.id); cerr != nil {
			s.log.Warn("voice session: count turn", "err", cerr)
		}
	}

	s.outMu.Lock()
	t.finished = true
	if msg != nil || stopped {
		s.emitLocked(stopped, func(seq uint32) any {
			ev := responseEvent{Type: evResponse, Seq: seq, TurnID: t.id, Citations: []chat.CitationJSON{},
				Interrupted: outcome == "interrupted"}
			if msg != nil {
				id := msg.ID
				ev.MessageID, ev.Content, ev.Citations = &id, msg.Content, conversation.Citations(*msg)
			}
			return ev
		})
	}
	if !stopped {
		s.emitLocked(true, func(seq uint32) any { return stateEvent{Type: evState, Seq: seq, State: stateListening} })
	}
	s.outMu.Unlock()
	s.record(t, outcome, msg)
	s.buf.flush() // the turn's frames are in Redis before the lease goes
}

// lease claims the production of a turn for this replica until the returned func is
// called: a resuming client on another replica follows the turn while the claim lives, and
// knows the answer is lost when it lapses (this replica died).
func (s *Session) lease() func() {
	key := s.h.leaseKey(s.id)
	set := func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.h.cfg.WriteWait)
		defer cancel()
		if err := s.h.cfg.Redis.Set(ctx, key, s.h.cfg.Replica, s.h.cfg.Lease).Err(); err != nil {
			s.log.Warn("voice session: lease", "err", err)
		}
	}
	set()
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(s.h.cfg.Lease / 3):
				set()
			}
		}
	}()
	return func() {
		close(stop)
		ctx, cancel := context.WithTimeout(context.Background(), s.h.cfg.WriteWait)
		defer cancel()
		s.h.cfg.Redis.Del(ctx, key)
	}
}

func (h *Hub) bufferKey(id uuid.UUID) string { return h.cfg.Prefix + "voice:buf:" + id.String() }
func (h *Hub) leaseKey(id uuid.UUID) string  { return h.cfg.Prefix + "voice:lease:" + id.String() }
func (h *Hub) attachKey(id uuid.UUID) string { return h.cfg.Prefix + "voice:attach:" + id.String() }
func (h *Hub) repairKey(id uuid.UUID) string { return h.cfg.Prefix + "voice:repair:" + id.String() }
