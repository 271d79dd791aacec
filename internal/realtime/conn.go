package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/voiceassist/gateway/internal/chat"
)

// typingRefresh is how often a repeated "typing start" is forwarded: often
// enough for receivers to expire indicators that stop being refreshed, rarely
// enough that key-repeat does not flood Redis.
const typingRefresh = 5 * time.Second

var errClosed = errors.New("realtime: connection closed")

type frame struct {
	typ  string // event type, for the metric
	data []byte
}

// conn is one client connection of the chat socket, served by a Conn. The reader (the
// Conn's OnText) owns joined and typing.
type conn struct {
	h     *Hub
	sock  *Conn
	id    uuid.UUID
	user  Principal
	token string // re-checked every ping interval
	reqID string
	log   *slog.Logger
	start time.Time // when it connected (the admin panel lists it)

	ctx    context.Context // cancelled when the connection closes: stops a running answer
	cancel context.CancelFunc

	busy    atomic.Bool    // an answer is in flight
	answers sync.WaitGroup // the answer goroutine

	joined map[uuid.UUID]bool
	typing map[uuid.UUID]time.Time // conversations we announced "start" in, and when
}

// newConn keeps the upgrade request's context values (request id, logger) for
// the backend, but not its deadline or cancellation: the connection outlives
// any request timeout and ends only through close.
func newConn(reqCtx context.Context, h *Hub, ws *websocket.Conn, p Principal, token, reqID string) *conn {
	id := uuid.New()
	ctx, cancel := context.WithCancel(context.WithoutCancel(reqCtx))
	c := &conn{
		h: h, id: id, user: p, token: token, reqID: reqID, start: time.Now().UTC(),
		log: h.log.With("connection_id", id, "user_id", p.UserID, "request_id", reqID),
		ctx: ctx, cancel: cancel,
		joined: map[uuid.UUID]bool{}, typing: map[uuid.UUID]time.Time{},
	}
	cfg := &h.cfg
	c.sock = NewConn(ws, ConnOptions{
		ReadLimit: cfg.ReadLimit, QueueSize: cfg.SendQueue, PingInterval: cfg.PingInterval,
		PongWait: cfg.PongWait, WriteWait: cfg.WriteWait, Logger: c.log,
		OnText: c.handle,
		OnBinary: func([]byte) {
			c.countIn("invalid")
			c.fail(codeValidation, "binary frames are not supported", "")
		},
		OnClose: func(int, string) { c.cancel() },
		OnSent:  func(typ string) { h.messages.WithLabelValues("out", typ).Inc() },
	})
	return c
}

// run serves the connection until it ends, then leaves every conversation.
func (c *conn) run() {
	c.sendEvent(connectedEvent{head: head{evConnected}, ConnectionID: c.id, UserID: c.user.UserID,
		ServerTime: time.Now().UTC()})
	c.sock.Run()
	c.answers.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), c.h.cfg.WriteWait)
	defer cancel()
	for conv := range c.joined {
		c.leave(ctx, conv)
	}
	code, reason := c.sock.CloseStatus()
	c.log.Debug("realtime: disconnected", "code", code, "reason", reason)
}

// close ends the connection with a close code; the first call wins.
func (c *conn) close(code int, reason string) { c.sock.Close(code, reason) }

// enqueue queues a frame for the writer without ever blocking: a client whose
// queue is full is closed (1013) rather than slowing its producers.
func (c *conn) enqueue(f frame) bool { return c.sock.SendText(f.typ, f.data) }

func (c *conn) sendEvent(ev event) bool {
	data, err := json.Marshal(ev)
	if err != nil {
		c.log.Error("realtime: marshal event", "err", err)
		return false
	}
	return c.enqueue(frame{typ: ev.eventType(), data: data})
}

func (c *conn) fail(code, message, clientID string) {
	c.sendEvent(errorEvent{head: head{evError}, Code: code, Message: message, RequestID: c.reqID, ClientID: clientID})
}

func (c *conn) countIn(typ string) { c.h.messages.WithLabelValues("in", typ).Inc() }

// handle serves one text frame (the Conn recovers its panics).
func (c *conn) handle(data []byte) {
	var in inbound
	if err := json.Unmarshal(data, &in); err != nil {
		c.countIn("invalid")
		c.fail(codeValidation, "the message is not a JSON object with fields of the right types", "")
		return
	}
	switch in.Type {
	case "ping", "join", "leave", "message", "typing":
		c.countIn(in.Type)
	default:
		c.countIn("unknown")
		c.fail(codeValidation, "unknown message type", "")
		return
	}
	if len(in.ClientID) > maxClientID {
		c.fail(codeValidation, "client_id is longer than 128 bytes", "")
		return
	}
	if in.Type == "ping" {
		c.sendEvent(pongEvent{head: head{evPong}, TS: in.TS})
		return
	}
	conv, err := uuid.Parse(in.ConversationID)
	if err != nil {
		c.fail(codeValidation, "conversation_id must be a UUID", in.ClientID)
		return
	}
	// Reading history and asking questions re-check the token first, so a logout, password
	// change or deactivation takes effect at once rather than at the next periodic re-check
	// (issue 21 #6).
	if (in.Type == "join" || in.Type == "message") && !c.stillValid() {
		return
	}
	switch in.Type {
	case "join":
		c.join(conv, in.ClientID)
	case "leave":
		c.leave(c.ctx, conv)
	case "message":
		c.message(conv, in)
	case "typing":
		c.setTypingRequest(conv, in)
	}
}

// join checks ownership through History, sends the history and registers
// presence. Joining again only resends the history.
func (c *conn) join(conv uuid.UUID, clientID string) bool {
	if !c.joined[conv] && len(c.joined) >= maxJoined {
		c.fail(codeValidation, "too many joined conversations; leave one first", clientID)
		return false
	}
	msgs, err := c.h.cfg.Chat.History(c.ctx, c.user.UserID, conv, c.h.cfg.HistoryLimit)
	switch {
	case errors.Is(err, ErrNotFound):
		c.fail(codeNotFound, "conversation not found", clientID)
		return false
	case err != nil:
		if c.ctx.Err() == nil {
			c.log.Error("realtime: history", "conversation_id", conv, "err", err)
			c.fail(codeInternal, "could not load the conversation", clientID)
		}
		return false
	}
	c.sendEvent(historyEvent{head: head{evHistory}, ConversationID: conv, Messages: toWireMessages(msgs)})
	if !c.joined[conv] {
		c.joined[conv] = true
		c.h.joinRoom(conv, c)
		c.h.presenceAdd(c.ctx, conv, c)
	}
	return true
}

func (c *conn) leave(ctx context.Context, conv uuid.UUID) {
	if !c.joined[conv] {
		return
	}
	c.setTyping(ctx, conv, typingStop)
	delete(c.joined, conv)
	c.h.leaveRoom(conv, c)
	c.h.presenceRemove(ctx, conv, c)
}

func (c *conn) message(conv uuid.UUID, in inbound) {
	switch {
	case strings.TrimSpace(in.Content) == "":
		c.fail(codeValidation, "content must not be empty", in.ClientID)
		return
	case utf8.RuneCountInString(in.Content) > maxContent:
		c.fail(codeValidation, "content is longer than 8000 characters", in.ClientID)
		return
	}
	if !c.busy.CompareAndSwap(false, true) {
		c.fail(codeBusy, "an answer is already being streamed on this connection", in.ClientID)
		return
	}
	if !c.joined[conv] && !c.join(conv, in.ClientID) {
		c.busy.Store(false)
		return
	}
	c.setTyping(c.ctx, conv, typingStop)
	c.answers.Add(1)
	go c.answer(conv, in.Content, in.ClientID)
}

// answer runs Send and relays its events; the reader keeps serving pings,
// typing and BUSY replies meanwhile.
func (c *conn) answer(conv uuid.UUID, content, clientID string) {
	defer c.answers.Done()
	defer c.sock.Recover()
	done, err := c.h.cfg.Chat.Send(c.ctx, c.user.UserID, conv, content, func(ev ChatEvent) error {
		var ok bool
		switch {
		case ev.Type == chat.EventDelta:
			ok = c.sendEvent(deltaEvent{head: head{evDelta}, ConversationID: conv, Delta: ev.Delta, ClientID: clientID})
		case ev.Type == chat.EventCitation && ev.Citation != nil:
			ok = c.sendEvent(citationEvent{head: head{evCitation}, ConversationID: conv,
				Citation: ev.Citation.JSON(), ClientID: clientID})
		default:
			return nil
		}
		if !ok {
			return errClosed
		}
		return nil
	})
	// Free the slot before the final event: a client that sends its next
	// message as soon as it sees message.done must not get BUSY.
	c.busy.Store(false)
	switch {
	case err == nil:
		c.sendEvent(doneEvent{head: head{evDone}, ConversationID: conv, MessageID: done.MessageID,
			UserMessageID: done.UserMessageID, Content: done.Content,
			Citations: toWireCitations(done.Citations), ClientID: clientID})
	case c.ctx.Err() != nil:
		// The connection is gone; nobody to tell.
	case errors.Is(err, ErrNotFound):
		c.fail(codeNotFound, "conversation not found", clientID)
	default:
		c.log.Error("realtime: answer failed", "conversation_id", conv, "err", err)
		c.fail(codeInternal, "the answer failed; please retry", clientID)
	}
}

func (c *conn) setTypingRequest(conv uuid.UUID, in inbound) {
	if in.State != typingStart && in.State != typingStop {
		c.fail(codeValidation, `state must be "start" or "stop"`, in.ClientID)
		return
	}
	if !c.joined[conv] {
		c.fail(codeValidation, "join the conversation first", in.ClientID)
		return
	}
	c.setTyping(c.ctx, conv, in.State)
}

// setTyping publishes a typing change: a stop only after a start, a repeated
// start at most every typingRefresh.
func (c *conn) setTyping(ctx context.Context, conv uuid.UUID, state string) {
	last, typing := c.typing[conv]
	if state == typingStart {
		if typing && time.Since(last) < typingRefresh {
			return
		}
		c.typing[conv] = time.Now()
	} else {
		if !typing {
			return
		}
		delete(c.typing, conv)
	}
	c.h.publish(ctx, busMsg{Kind: kindTyping, ConversationID: conv, UserID: c.user.UserID,
		ConnectionID: c.id, State: state})
}

// stillValid re-authenticates the connection's token; when it no longer holds the socket is
// closed as the periodic re-check would close it.
func (c *conn) stillValid() bool {
	ctx, cancel := context.WithTimeout(c.ctx, c.h.cfg.WriteWait)
	defer cancel()
	if _, err := c.h.cfg.Auth(ctx, c.token); err != nil {
		if c.ctx.Err() == nil {
			c.log.Info("realtime: token re-check failed", "err", err)
			c.close(RecheckClose(err))
		}
		return false
	}
	return true
}
