package stream

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/voiceassist/gateway/internal/sse"
)

// The raw path (issue 17): an HTTP/1.1 stream is hijacked once its greeting is ready, and the
// handler returns. From then on the stream costs no goroutine of its own while it is idle and
// holds none of net/http's per-connection buffers: the hub's writer loops (one per CPU) write
// every ready client's frames with one non-blocking write(2) each, chunk-encoded by hand. Only a
// client whose socket is full (or whose credentials must be checked at a heartbeat) gets a
// goroutine, for as long as that lasts: it waits for the socket with the write deadline, as the
// per-client writer did, while the loop goes on with the others. A small goroutine per stream
// reads the connection so that a client that leaves is noticed at once.

// rawStream is the hijacked side of a Client. scheduled and busy are guarded by Client.mu.
type rawStream struct {
	conn    net.Conn
	sc      syscall.RawConn
	loop    *writeLoop
	recheck func(context.Context) error
	onClose func()
	expiry  *time.Timer

	scheduled bool // in its loop's ready list
	busy      bool // a goroutine of its own is writing (slow socket, or a credential check)
	once      sync.Once
}

// scheduleLocked reports whether the caller must add the client to its loop (c.mu held).
func (r *rawStream) scheduleLocked() bool {
	if r.scheduled || r.busy {
		return false
	}
	r.scheduled = true
	return true
}

// writeLoop writes the frames of the clients it is handed, in turn.
type writeLoop struct {
	h     *Hub
	mu    sync.Mutex
	ready []*Client
	wake  chan struct{}
	// scratch, owned by the loop goroutine
	items []Item
	buf   []byte
}

func (l *writeLoop) add(c *Client) {
	l.mu.Lock()
	l.ready = append(l.ready, c)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *writeLoop) run() {
	var batch []*Client
	for range l.wake {
		l.mu.Lock()
		batch, l.ready = l.ready, batch[:0]
		l.mu.Unlock()
		for i, c := range batch {
			l.serve(c)
			batch[i] = nil
		}
	}
}

// serve writes what c has waiting, or ends it.
func (l *writeLoop) serve(c *Client) {
	r := c.raw
	c.mu.Lock()
	r.scheduled = false
	if r.busy {
		c.mu.Unlock() // its goroutine takes what is waiting
		return
	}
	select {
	case <-c.done:
		c.mu.Unlock()
		l.h.endRaw(c, false)
		return
	default:
	}
	l.items = drainLocked(c, l.items[:0])
	if len(l.items) == 0 {
		c.mu.Unlock()
		return
	}
	if r.recheck != nil && hasHeartbeat(l.items) {
		r.busy = true // the check reads Redis and PostgreSQL: not in the loop
		items := append([]Item(nil), l.items...)
		c.mu.Unlock()
		go l.h.writeSlow(c, items, nil)
		return
	}
	c.mu.Unlock()
	l.buf = appendChunk(l.buf[:0], l.items)
	n, err := writeNow(r.sc, l.buf)
	switch {
	case err != nil:
		l.h.endRaw(c, true)
	case n < len(l.buf):
		// The socket is full: a goroutine waits for it (with the write deadline) and writes
		// what comes next until the client has caught up.
		c.mu.Lock()
		r.busy = true
		c.mu.Unlock()
		go l.h.writeSlow(c, append([]Item(nil), l.items...), bytes.Clone(l.buf[n:]))
	default:
		l.h.delivered(c, l.items)
	}
	clear(l.items)
}

// writeSlow writes rest (the unsent part of items' chunk; nil: all of it) with blocking
// writes, then whatever else arrives, until nothing waits; then the loop takes over again.
func (h *Hub) writeSlow(c *Client, items []Item, rest []byte) {
	r := c.raw
	for {
		if rest == nil && r.recheck != nil && hasHeartbeat(items) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := r.recheck(ctx)
			cancel()
			if err != nil {
				h.writeFinal(c, recheckFrame(err))
				h.endRaw(c, true)
				return
			}
		}
		if rest == nil {
			rest = appendChunk(nil, items)
		}
		_ = r.conn.SetWriteDeadline(time.Now().Add(sse.WriteTimeout))
		_, err := r.conn.Write(rest)
		_ = r.conn.SetWriteDeadline(time.Time{}) // an expired deadline would fail the loop's raw writes
		if err != nil {
			h.endRaw(c, true)
			return
		}
		h.delivered(c, items)
		c.mu.Lock()
		select {
		case <-c.done:
			r.busy = false
			c.mu.Unlock()
			h.endRaw(c, false)
			return
		default:
		}
		items = drainLocked(c, items[:0])
		if len(items) == 0 {
			r.busy = false
			c.mu.Unlock()
			return
		}
		rest = nil
		c.mu.Unlock()
	}
}

// delivered records the items as written (metrics, drift).
func (h *Hub) delivered(c *Client, items []Item) {
	var last int64
	now := time.Now()
	for _, it := range items {
		if !it.At.IsZero() {
			h.metrics.Delivery.WithLabelValues(it.Type).Observe(now.Sub(it.At).Seconds())
		}
		last = max(last, it.ID)
	}
	c.Written(last)
}

// endRaw ends a hijacked stream once: the final error event when the hub ended it (unless the
// connection already failed), then the connection, the subscription and the per-IP slot.
func (h *Hub) endRaw(c *Client, failed bool) {
	r := c.raw
	r.once.Do(func() {
		if reason := c.Reason(); reason != "" && !failed {
			h.writeFinal(c, ErrorFrame(reason))
		}
		if r.expiry != nil {
			r.expiry.Stop()
		}
		_ = r.conn.Close()
		h.Unsubscribe(c)
		if r.onClose != nil {
			go r.onClose() // releases a Redis slot: not in the loop
		}
		h.raws.Done()
	})
}

// writeFinal sends a last event and the end of the chunked body, without waiting for a full
// socket: a client that cannot take it now was being dropped anyway.
func (h *Hub) writeFinal(c *Client, fr []byte) {
	b := appendChunk(nil, []Item{{Frame: fr}})
	_, _ = writeNow(c.raw.sc, append(b, "0\r\n\r\n"...))
}

func hasHeartbeat(items []Item) bool {
	for _, it := range items {
		if it.Type == "heartbeat" {
			return true
		}
	}
	return false
}

// drainLocked moves c's waiting frames into buf (c.mu held).
func drainLocked(c *Client, buf []Item) []Item {
	buf = append(buf, c.pending...)
	clear(c.pending)
	c.pending = c.pending[:0]
	if cap(c.pending) > 64 {
		c.pending = nil // give a burst's memory back
	}
	return buf
}

// appendChunk appends the frames as one HTTP/1.1 chunk.
func appendChunk(b []byte, items []Item) []byte {
	n := 0
	for _, it := range items {
		n += len(it.Frame)
	}
	b = strconv.AppendInt(b, int64(n), 16)
	b = append(b, '\r', '\n')
	for _, it := range items {
		b = append(b, it.Frame...)
	}
	return append(b, '\r', '\n')
}

// hijack takes over an HTTP/1.1 connection and sends the response head and the greeting on
// it. ok is false when the connection cannot be taken over (HTTP/2, TLS, a test recorder):
// nothing was written then and the stream goes through net/http.
func hijack(w http.ResponseWriter, r *http.Request, greeting [][]byte) (conn net.Conn, sc syscall.RawConn, ok bool) {
	if !rawWrites || r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.TLS != nil {
		return nil, nil, false
	}
	hdr := w.Header().Clone()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, false
	}
	// From here the connection is ours: any failure closes it (the client reconnects).
	scn, isSC := conn.(syscall.Conn)
	if !isSC {
		_ = conn.Close()
		return nil, nil, true
	}
	if sc, err = scn.SyscallConn(); err != nil {
		_ = conn.Close()
		return nil, nil, true
	}
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no") // nginx must not buffer (nor gzip) the stream
	hdr.Set("Connection", "keep-alive")
	hdr.Set("Transfer-Encoding", "chunked")
	hdr.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	_ = hdr.Write(&b)
	b.WriteString("\r\n")
	if len(greeting) > 0 {
		items := make([]Item, len(greeting))
		for i, fr := range greeting {
			items[i].Frame = fr
		}
		b.Write(appendChunk(nil, items))
	}
	_ = conn.SetWriteDeadline(time.Now().Add(sse.WriteTimeout))
	if _, err := conn.Write(b.Bytes()); err != nil {
		_ = conn.Close()
		return nil, nil, true
	}
	// No deadline while idle: the loops' raw writes would fail on an expired one.
	_ = conn.SetWriteDeadline(time.Time{})
	return conn, sc, true
}

// attach hands a hijacked stream to a write loop and returns: the client is served from now on
// without its handler.
func (h *Hub) attach(c *Client, conn net.Conn, sc syscall.RawConn, s Session) {
	h.loopsOnce.Do(func() {
		h.loops = make([]*writeLoop, max(1, runtime.GOMAXPROCS(0)))
		for i := range h.loops {
			h.loops[i] = &writeLoop{h: h, wake: make(chan struct{}, 1)}
			go h.loops[i].run()
		}
	})
	r := &rawStream{conn: conn, sc: sc, recheck: s.Recheck, onClose: s.OnClose,
		loop: h.loops[h.nextLoop.Add(1)%uint32(len(h.loops))]}
	h.raws.Add(1)
	c.mu.Lock()
	c.raw = r
	sched := r.scheduleLocked() // frames that arrived during the greeting, or an end
	c.mu.Unlock()
	if sched {
		r.loop.add(c)
	}
	if !s.ExpiresAt.IsZero() {
		r.expiry = time.AfterFunc(time.Until(s.ExpiresAt), func() {
			c.kill("your token expired; reconnect with a fresh token and Last-Event-ID")
		})
	}
	go func() {
		// Nothing is expected from the client; a read ends when it leaves (or we close).
		var b [1]byte
		for {
			if _, err := conn.Read(b[:]); err != nil {
				break
			}
		}
		c.kill("")
	}()
}
