package session

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/conversation"
)

// Reasons of session.resume.nak.
const (
	nakNotFound  = "not_found" // no such session, or not the caller's
	nakExpired   = "expired"   // its resume buffer is gone (ResumeTTL after its last frame)
	nakTruncated = "truncated" // frames after last_seq were dropped (buffer cap or a Redis backlog)
	nakInvalid   = "invalid"   // session_id or last_seq missing or malformed
)

// resume continues a session on this socket: the frames after last_seq are replayed from
// the resume buffer; a turn still being produced (here or on another replica) is followed
// until it ends; a turn whose producer died is reported incomplete with the stored message.
func (s *Session) resume(in inbound) {
	ctx := s.ctx
	id, err := uuid.Parse(in.SessionID)
	if err != nil || in.LastSeq == nil {
		s.send(resumeNakEvent{Type: evResumeNak, Reason: nakInvalid})
		return
	}
	row, err := s.h.q.GetVoiceSession(ctx, id)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || err == nil && row.UserID != s.user.UserID:
		s.send(resumeNakEvent{Type: evResumeNak, Reason: nakNotFound})
		return
	case err != nil:
		s.failErr(err, "could not load the session")
		return
	}
	key := s.h.bufferKey(id)
	last, err := s.h.cfg.Redis.XRevRangeN(ctx, key, "+", "-", 1).Result()
	if err != nil {
		s.failErr(err, "could not read the resume buffer")
		return
	}
	expired := row.EndedAt != nil && s.h.cfg.Clock.Now().Sub(*row.EndedAt) > s.h.cfg.ResumeTTL
	if expired || len(last) == 0 {
		s.send(resumeNakEvent{Type: evResumeNak, Reason: nakExpired})
		return
	}
	after := *in.LastSeq
	entries, err := s.h.cfg.Redis.XRange(ctx, key, "("+streamID(after), "+").Result()
	if err != nil {
		s.failErr(err, "could not read the resume buffer")
		return
	}
	if len(entries) > 0 && seqOf(entries[0].ID) != after+1 {
		s.send(resumeNakEvent{Type: evResumeNak, Reason: nakTruncated})
		return
	}
	// Take the session over: an older socket of it (here, or elsewhere at its next
	// heartbeat) closes.
	if other := s.h.local(id, s); other != nil && other.conn != nil {
		other.conn.Close(websocket.CloseNormalClosure, "session resumed on another connection")
	}
	if err := s.h.q.ResumeVoiceSession(ctx, db.ResumeVoiceSessionParams{ID: id, Replica: s.h.cfg.Replica, ConnectionID: s.connID}); err != nil {
		s.failErr(err, "could not resume the session")
		return
	}
	s.id = id
	if row.ConversationID != nil {
		s.conv = *row.ConversationID
	}
	s.loadRepair(ctx)
	silence, _ := s.startSilence(ctx, defaultSilenceMS, false)
	s.vadOn, s.vad, s.vadSilence = true, NewVAD(silence, 50), silence
	s.silence.Store(int32(silence))
	s.features = negotiate(in.Features)
	s.binary = slices.Contains(s.features, featureBinary)
	// Frames appended between the two reads are in entries: the newest frame is the later one,
	// and following starts after it (starting from last would send those frames twice).
	newest := last[0]
	if n := len(entries); n > 0 && seqOf(entries[n-1].ID) > seqOf(newest.ID) {
		newest = entries[n-1]
	}
	lastSeq, lastEnd := seqOf(newest.ID), isEnd(newest)
	// A turn whose last frame is buffered is over, whatever its lease still says.
	producing := !lastEnd && s.h.cfg.Redis.Exists(ctx, s.h.leaseKey(id)).Val() == 1
	ack := resumeAckEvent{Type: evResumeAck, SessionID: id, ConversationID: row.ConversationID, LastSeq: lastSeq,
		Replayed: len(entries), Features: s.features, Incomplete: !producing && !lastEnd}
	if ack.Incomplete {
		ack.Message = s.latest(ctx)
	}
	s.outMu.Lock()
	s.following = producing
	s.outMu.Unlock()
	s.begin(lastSeq)
	s.send(ack)
	for _, e := range entries {
		if !s.replay(e) {
			return
		}
	}
	if producing {
		s.h.wg.Add(1)
		go s.follow(newest.ID)
	}
}

// follow relays the frames another session appends to the buffer until its turn ends (its
// last frame is marked) or its producer's lease lapses (then the turn is reported
// incomplete). New turns wait for it (BUSY).
func (s *Session) follow(after string) {
	defer s.h.wg.Done()
	key := s.h.bufferKey(s.id)
	lastSeq := seqOf(after)
	// The session is this socket's again before the last frame goes out: a client that
	// answers that frame at once must not be told BUSY.
	release := func(seq uint32) {
		s.outMu.Lock()
		s.following = false
		s.seq = max(s.seq, seq)
		s.outMu.Unlock()
	}
	defer func() { release(lastSeq) }()
	for {
		select {
		case <-s.closed:
			return
		default:
		}
		res, err := s.h.cfg.Redis.XRead(s.ctx, &redis.XReadArgs{Streams: []string{key, after}, Block: time.Second, Count: 256}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			if s.ctx.Err() != nil {
				return
			}
			s.log.Warn("voice session: follow", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for _, st := range res {
			for _, e := range st.Messages {
				if isEnd(e) {
					release(seqOf(e.ID))
					s.replay(e)
					return // the turn is over: the session is this socket's from here
				}
				if !s.replay(e) {
					return
				}
				after, lastSeq = e.ID, seqOf(e.ID)
			}
		}
		if len(res) > 0 {
			continue
		}
		if s.h.cfg.Redis.Exists(s.ctx, s.h.leaseKey(s.id)).Val() == 1 {
			continue
		}
		// The producer is done or dead; take what it wrote last, then decide.
		rest, _ := s.h.cfg.Redis.XRange(s.ctx, key, "("+after, "+").Result()
		for _, e := range rest {
			if isEnd(e) {
				release(seqOf(e.ID))
				s.replay(e)
				return
			}
			if !s.replay(e) {
				return
			}
			lastSeq = seqOf(e.ID)
		}
		msg := s.latest(s.ctx)
		release(lastSeq)
		s.send(resumeAckEvent{Type: evResumeAck, SessionID: s.id, ConversationID: &s.conv, LastSeq: lastSeq,
			Incomplete: true, Message: msg, Features: s.features})
		return
	}
}

// replay sends one buffered frame in the client's encoding; false when the socket closed.
func (s *Session) replay(e redis.XMessage) bool {
	flags, _ := e.Values["f"].(string)
	data := []byte(stringOf(e.Values["d"]))
	if strings.HasPrefix(flags, "b") {
		if s.binary {
			return s.conn.SendWait(evAudio, true, data)
		}
		return s.conn.SendWait(evAudio, false, audioJSON(data))
	}
	return s.conn.SendWait("replay", false, data)
}

// latest is the newest stored message of the session's conversation (the question when the
// answer was lost with its replica).
func (s *Session) latest(ctx context.Context) *storedMessage {
	if s.conv == uuid.Nil {
		return nil
	}
	msgs, err := s.h.cfg.Chats.History(ctx, s.user.UserID, s.conv, 1)
	if err != nil || len(msgs) == 0 {
		return nil
	}
	m := msgs[len(msgs)-1]
	return &storedMessage{ID: m.ID, Role: m.Role, Content: m.Content, Citations: conversation.Citations(m),
		Interrupted: m.Interrupted, CreatedAt: m.CreatedAt}
}

func streamID(seq uint32) string { return "0-" + strconv.FormatUint(uint64(seq), 10) }

func seqOf(id string) uint32 {
	n, _ := strconv.ParseUint(id[strings.IndexByte(id, '-')+1:], 10, 32)
	return uint32(n)
}

func isEnd(e redis.XMessage) bool {
	flags, _ := e.Values["f"].(string)
	return strings.HasSuffix(flags, "e")
}

func stringOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}
