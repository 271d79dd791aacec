package realtime

import (
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ConnOptions configures a Conn; zero values take the defaults noted.
type ConnOptions struct {
	ReadLimit    int64         // largest client frame in bytes (gorilla closes with 1009 beyond it); default 64 KiB
	QueueSize    int           // frames queued for the writer; default 256
	PingInterval time.Duration // server pings; default 30s
	PongWait     time.Duration // a connection silent this long is dead; default 60s (at least 2×PingInterval)
	WriteWait    time.Duration // limit for one write and for the closing handshake; default 10s
	Logger       *slog.Logger

	// OnText and OnBinary handle client frames, one at a time on the reader goroutine (a
	// slow handler delays the next frame, not the writer). A frame type without handler
	// closes the connection with 1003. A panic in a handler closes it with 1011.
	OnText   func(data []byte)
	OnBinary func(data []byte)
	// OnClose, when set, is called once when the connection starts closing, before the
	// writer sends the close frame (e.g. to cancel work done for the connection).
	OnClose func(code int, reason string)
	// OnSent, when set, is called after each data frame is written, with its label (metrics).
	OnSent func(label string)
}

func (o *ConnOptions) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	setDefault(&o.ReadLimit, 64<<10)
	setDefault(&o.QueueSize, 256)
	setDefault(&o.PingInterval, 30*time.Second)
	setDefault(&o.PongWait, 60*time.Second)
	setDefault(&o.WriteWait, 10*time.Second)
	if o.PongWait <= o.PingInterval {
		// A pong can only arrive after a ping: a shorter wait would drop healthy clients.
		o.PongWait = 2 * o.PingInterval
	}
}

type outFrame struct {
	label  string // for OnSent
	binary bool
	data   []byte
}

// Conn is the core of a server WebSocket: exactly one reader (Run's goroutine) and one
// writer goroutine, which owns every write except gorilla's control replies and the close
// frame (WriteControl may run concurrently). Others hand frames to the writer through a
// bounded queue without ever blocking: a client too slow to drain it is closed with 1013.
// The writer pings every PingInterval; a client silent for PongWait is dropped.
type Conn struct {
	ws  *websocket.Conn
	opt ConnOptions

	send     chan outFrame
	done     chan struct{} // closed by Close
	readDone chan struct{}

	closeOnce   sync.Once
	closeCode   int
	closeReason string
}

// NewConn wraps an upgraded connection; Run serves it.
func NewConn(ws *websocket.Conn, opt ConnOptions) *Conn {
	opt.defaults()
	return &Conn{ws: ws, opt: opt, send: make(chan outFrame, opt.QueueSize),
		done: make(chan struct{}), readDone: make(chan struct{})}
}

// Run starts the writer and reads until the connection ends; it returns once the writer
// has stopped and the socket is closed. Frames sent before Run are delivered first.
func (c *Conn) Run() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	c.Close(websocket.CloseGoingAway, "")
	<-writerDone
}

// Close ends the connection with a close code and reason; the first call wins. It does
// not wait: Run returns when the closing handshake is over.
func (c *Conn) Close(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		if c.opt.OnClose != nil {
			c.opt.OnClose(code, reason)
		}
		close(c.done)
	})
}

// Done is closed when the connection starts closing.
func (c *Conn) Done() <-chan struct{} { return c.done }

// CloseStatus is the code and reason the connection closed with (after Done).
func (c *Conn) CloseStatus() (int, string) {
	select {
	case <-c.done:
		return c.closeCode, c.closeReason
	default:
		return 0, ""
	}
}

// SendText queues a text frame; label names it for OnSent. False when the connection is
// closing or the queue was full (then it is closed with 1013).
func (c *Conn) SendText(label string, data []byte) bool {
	return c.enqueue(outFrame{label: label, data: data})
}

// SendBinary queues a binary frame, like SendText.
func (c *Conn) SendBinary(label string, data []byte) bool {
	return c.enqueue(outFrame{label: label, binary: true, data: data})
}

// SendWait queues a frame, waiting while the queue is full instead of closing: for a
// replay the caller has bounded in size. False when the connection closes first.
func (c *Conn) SendWait(label string, binary bool, data []byte) bool {
	select {
	case c.send <- outFrame{label: label, binary: binary, data: data}:
		return true
	case <-c.done:
		return false
	}
}

func (c *Conn) enqueue(f outFrame) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- f:
		return true
	default:
		c.opt.Logger.Info("realtime: send queue full; closing")
		c.Close(websocket.CloseTryAgainLater, "too slow")
		return false
	}
}

// Recover, deferred in a goroutine working for the connection, turns a panic into a 1011
// close instead of a crashed process.
func (c *Conn) Recover() {
	if v := recover(); v != nil {
		c.opt.Logger.Error("realtime: panic", "panic", v, "stack", string(debug.Stack()))
		c.Close(websocket.CloseInternalServerErr, "internal error")
	}
}

func (c *Conn) writeLoop() {
	ping := time.NewTicker(c.opt.PingInterval)
	defer ping.Stop()
	for {
		select {
		case f := <-c.send:
			typ := websocket.TextMessage
			if f.binary {
				typ = websocket.BinaryMessage
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.opt.WriteWait))
			if err := c.ws.WriteMessage(typ, f.data); err != nil {
				c.Close(websocket.CloseGoingAway, "")
				_ = c.ws.Close()
				return
			}
			if c.opt.OnSent != nil {
				c.opt.OnSent(f.label)
			}
		case <-ping.C:
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.opt.WriteWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.Close(websocket.CloseGoingAway, "")
				_ = c.ws.Close()
				return
			}
		case <-c.done:
			msg := websocket.FormatCloseMessage(c.closeCode, c.closeReason)
			_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.opt.WriteWait))
			// Wait for the client's close reply before dropping TCP: closing a
			// socket with unread input resets it, and the client may lose our frame.
			select {
			case <-c.readDone:
			case <-time.After(c.opt.WriteWait):
			}
			_ = c.ws.Close()
			return
		}
	}
}

func (c *Conn) readLoop() {
	defer close(c.readDone)
	alive := func() { _ = c.ws.SetReadDeadline(time.Now().Add(c.opt.PongWait)) }
	c.ws.SetReadLimit(c.opt.ReadLimit)
	alive()
	c.ws.SetPongHandler(func(string) error { alive(); return nil })
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.Close(websocket.CloseGoingAway, "")
			return
		}
		alive()
		select {
		case <-c.done: // closing: only wait for the client's close reply
			continue
		default:
		}
		c.dispatch(typ, data)
	}
}

func (c *Conn) dispatch(typ int, data []byte) {
	defer c.Recover()
	switch {
	case typ == websocket.TextMessage && c.opt.OnText != nil:
		c.opt.OnText(data)
	case typ == websocket.BinaryMessage && c.opt.OnBinary != nil:
		c.opt.OnBinary(data)
	default:
		c.Close(websocket.CloseUnsupportedData, "unsupported frame type")
	}
}
