// Command bare is the fixed yardstick of `make bench-compare` (docs/benchmarks.md): the
// smallest plain net/http server that answers what the gateway's benchmarks ask, doing none
// of the gateway's work (no router library, middleware, validation, flag evaluation, logging
// or metrics). Every gateway figure is published as a ratio to this server's, measured in the
// same run, so that a slow or busy day moves both.
//
//   - POST /ofrep/v1/evaluate/flags/{key}: decodes the JSON body, answers a fixed OFREP success.
//   - POST /ofrep/v1/evaluate/flags: decodes the body, answers the flags of -flags (the same
//     10 flags the gateway serves in the benchmark), their answers computed once at start.
//   - GET /api/flags/stream: an SSE stream ("connected", then one "flag_update" per change),
//     written through net/http with Flush, one goroutine per client.
//   - POST /api/admin/feature-flags/{key}/toggle: a change, fanned out to every stream.
//
// It changes only in a commit of its own that re-measures the "before" column
// (docs/benchmarks.md). A module of its own, so `go test ./...` and `go vet ./...` skip it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	_ "net/http/pprof" // served on -pprof only (the default mux), for the RSS reading after a GC
	"os"
	"strconv"
	"sync"
)

type request struct {
	Context map[string]any `json:"context"`
}

type answer struct {
	Key      string         `json:"key"`
	Value    any            `json:"value"`
	Reason   string         `json:"reason"`
	Variant  string         `json:"variant,omitempty"`
	Metadata map[string]any `json:"metadata"`
}

// flagDef is the part of bench/ofrep/flags.json the answers need.
type flagDef struct {
	Key      string `json:"key"`
	Enabled  bool   `json:"enabled"`
	Value    any    `json:"value"`
	Default  any    `json:"default_value"`
	Variants []struct {
		ID    string `json:"id"`
		Value any    `json:"value"`
	} `json:"variants"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flagsPath := flag.String("flags", "bench/ofrep/flags.json", "flags answered by the bulk evaluation")
	pprof := flag.String("pprof", "", "pprof listen address (empty: none)")
	flag.Parse()

	bulk, err := answers(*flagsPath)
	if err != nil {
		log.Fatal(err)
	}
	if *pprof != "" {
		go func() { log.Println(http.ListenAndServe(*pprof, nil)) }()
	}
	hub := &hub{clients: map[chan []byte]struct{}{}}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags/{key}", func(w http.ResponseWriter, r *http.Request) {
		if !decode(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer{
			Key: r.PathValue("key"), Value: true, Reason: "STATIC",
			Metadata: map[string]any{"version": 1, "category": "ui"},
		})
	})
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags", func(w http.ResponseWriter, r *http.Request) {
		if !decode(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"flags": bulk})
	})
	mux.HandleFunc("GET /api/flags/stream", hub.serve)
	mux.HandleFunc("POST /api/admin/feature-flags/{key}/toggle", hub.toggle)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func decode(w http.ResponseWriter, r *http.Request) bool {
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"errorCode":"PARSE_ERROR"}`, http.StatusBadRequest)
		return false
	}
	return true
}

// answers computes each flag's answer once: enabled flags answer their value (or first
// variant), disabled ones their default.
func answers(path string) ([]answer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var defs []flagDef
	if err := json.Unmarshal(b, &defs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]answer, 0, len(defs))
	for _, d := range defs {
		a := answer{Key: d.Key, Value: d.Default, Reason: "DISABLED", Metadata: map[string]any{"version": 1}}
		switch {
		case d.Enabled && len(d.Variants) > 0:
			a.Value, a.Variant, a.Reason = d.Variants[0].Value, d.Variants[0].ID, "SPLIT"
		case d.Enabled:
			a.Value, a.Reason = d.Value, "STATIC"
		}
		out = append(out, a)
	}
	return out, nil
}

// hub fans each change out to every open stream.
type hub struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
	version int
	on      bool
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no flush", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, 16)
	h.mu.Lock()
	h.clients[ch] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.clients, ch)
		h.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	if _, err := w.Write([]byte("event: connected\ndata: {}\n\n")); err != nil {
		return
	}
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case frame := <-ch:
			if _, err := w.Write(frame); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

func (h *hub) toggle(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.version++
	h.on = !h.on
	frame := []byte("id: " + strconv.Itoa(h.version) + "\nevent: flag_update\ndata: " +
		`{"flag":"` + r.PathValue("key") + `","value":` + strconv.FormatBool(h.on) +
		`,"version":` + strconv.Itoa(h.version) + "}\n\n")
	for ch := range h.clients {
		select {
		case ch <- frame:
		default: // a client 16 changes behind is not measured anyway
		}
	}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"version":` + strconv.Itoa(h.version) + "}\n"))
}
