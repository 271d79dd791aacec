// Package sse writes server-sent event streams (text/event-stream) over net/http: the
// headers, event framing, flushing and the write deadline that keeps a stuck client from
// holding its handler forever. The flag stream and chat streaming share it.
package sse

import (
	"bytes"
	"net/http"
	"time"
)

const (
	// WriteTimeout bounds each write: a client that stops reading only blocks itself.
	WriteTimeout = 30 * time.Second
	// rearmEvery is how much of its margin the deadline may lose before Rearm or Await moves
	// it: re-arming costs a runtime timer update, so it is not done per event.
	rearmEvery = 10 * time.Second
)

// Frame renders one event. The id and event lines are left out when empty; data must be
// one line (JSON has no raw newlines).
func Frame(id, event string, data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data) + len(id) + len(event) + 24)
	if id != "" {
		b.WriteString("id: ")
		b.WriteString(id)
		b.WriteByte('\n')
	}
	if event != "" {
		b.WriteString("event: ")
		b.WriteString(event)
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// Writer is one event stream. Nothing is sent before Start (or the first Send), so a
// handler can still answer with an ordinary error until then. Not safe for concurrent use.
type Writer struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	started  bool
	deadline time.Time // the write deadline last set
}

// NewWriter prepares a stream on w.
func NewWriter(w http.ResponseWriter) *Writer {
	return &Writer{w: w, rc: http.NewResponseController(w)}
}

// Header is the response header, for additions before Start.
func (s *Writer) Header() http.Header { return s.w.Header() }

// Started reports whether the response has begun.
func (s *Writer) Started() bool { return s.started }

// Start sends the stream's headers and status 200 and flushes them, so a stream whose first
// event comes later is open at once. Later calls do nothing.
func (s *Writer) Start() error {
	if s.started {
		return nil
	}
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx must not buffer (nor gzip) the stream
	s.w.WriteHeader(http.StatusOK)
	// The request has been read: no read deadline (the body's) may cut the stream.
	_ = s.rc.SetReadDeadline(time.Time{})
	s.arm(time.Now())
	return s.rc.Flush()
}

// Send writes pre-rendered frames (Frame) and flushes them, starting the stream if needed.
func (s *Writer) Send(frames ...[]byte) error {
	if err := s.Start(); err != nil {
		return err
	}
	s.Rearm()
	for _, fr := range frames {
		if err := s.Write(fr); err != nil {
			return err
		}
	}
	return s.Flush()
}

// Event frames and sends one event without id.
func (s *Writer) Event(event string, data []byte) error {
	return s.Send(Frame("", event, data))
}

// Write writes a frame without flushing (batches: Write each, then Flush once). The stream
// must be started.
func (s *Writer) Write(frame []byte) error {
	_, err := s.w.Write(frame)
	return err
}

// Flush sends what was written.
func (s *Writer) Flush() error { return s.rc.Flush() }

// Rearm gives the next write about WriteTimeout: it moves the deadline WriteTimeout ahead when
// less than WriteTimeout-10s is left. Called before writing (Send does).
func (s *Writer) Rearm() {
	s.extend(time.Now(), WriteTimeout)
}

// Await prepares for a wait of up to wait before the next write (a stream's heartbeat
// interval): the deadline must outlast the wait plus WriteTimeout. A deadline armed only for
// WriteTimeout before a wait as long as it would expire just as the next heartbeat is due,
// and with HTTP/2 (or a proxy) an expired deadline ends the stream although nothing was being
// written (issue 21 #18).
func (s *Writer) Await(wait time.Duration) {
	s.extend(time.Now(), wait+WriteTimeout)
}

// extend moves the deadline to now+d unless at least d-rearmEvery is left.
func (s *Writer) extend(now time.Time, d time.Duration) {
	if s.deadline.Sub(now) < d-rearmEvery {
		s.setDeadline(now.Add(d))
	}
}

func (s *Writer) arm(now time.Time) { s.setDeadline(now.Add(WriteTimeout)) }

func (s *Writer) setDeadline(d time.Time) {
	_ = s.rc.SetWriteDeadline(d)
	s.deadline = d
}
