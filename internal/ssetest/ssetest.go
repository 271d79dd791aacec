// Package ssetest reads Server-Sent Events (text/event-stream) for tests and benchmarks:
// the one parser behind every test, the black-box suite and the bench drivers. It follows
// the WHATWG parsing rules that matter here: "field: value" lines (one space after the
// colon is dropped), lines starting with ":" are comments, data lines join with "\n",
// a blank line ends a block, LF or CRLF line ends.
package ssetest

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// Event is one block of the stream: an event, or comments only (a heartbeat).
type Event struct {
	ID       string        // the id: field of this block, "" when it has none
	Event    string        // the event: field, "" for an unnamed event
	Data     string        // the data: fields joined with "\n"
	Retry    time.Duration // the retry: field, 0 when absent
	Comments []string      // the comment lines, without the ":" and one space after it
	Lines    []string      // the field lines as sent (comments excluded), for wire-format checks
}

// IsComment tells whether the block had comments only (as heartbeats often are).
func (e Event) IsComment() bool { return len(e.Lines) == 0 }

// JSON decodes the data into v.
func (e Event) JSON(v any) error { return json.Unmarshal([]byte(e.Data), v) }

// Reader reads events from a stream.
type Reader struct {
	br *bufio.Reader
}

// NewReader reads the stream r (typically an http.Response body or a raw connection).
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReader(r)} }

// Next returns the next block that has a field or a comment. At the end of the stream it
// returns io.EOF (or the read error); a block cut off by the end is dropped, as a browser's
// EventSource drops it.
func (r *Reader) Next() (Event, error) {
	var ev Event
	var data []string
	hasData := false
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Event{}, io.EOF
			}
			return Event{}, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if len(ev.Lines) == 0 && len(ev.Comments) == 0 {
				continue // stray blank line
			}
			if hasData {
				ev.Data = strings.Join(data, "\n")
			}
			return ev, nil
		}
		if c, ok := strings.CutPrefix(line, ":"); ok {
			ev.Comments = append(ev.Comments, strings.TrimPrefix(c, " "))
			continue
		}
		ev.Lines = append(ev.Lines, line)
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Event = value
		case "data":
			data, hasData = append(data, value), true
		case "retry":
			if ms, err := strconv.ParseInt(value, 10, 64); err == nil {
				ev.Retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}
