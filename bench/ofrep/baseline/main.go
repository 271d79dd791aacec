// Command baseline is the "bare net/http JSON server" of docs/benchmarks.md: it answers
// POST /ofrep/v1/evaluate/flags/{key} with a fixed OFREP success, after decoding the request's
// JSON body, with nothing else (no router library, middleware, validation, logging or metrics).
// bench/ofrep/run.sh measures it the same way as the gateway, to calibrate the machine.
//
// It is a module of its own so that the gateway's `go test ./...` and `go vet ./...` skip it.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
)

type request struct {
	Context map[string]any `json:"context"`
}

type response struct {
	Key      string         `json:"key"`
	Value    any            `json:"value"`
	Reason   string         `json:"reason"`
	Metadata map[string]any `json:"metadata"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags/{key}", func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"errorCode":"PARSE_ERROR"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(response{
			Key: r.PathValue("key"), Value: true, Reason: "STATIC",
			Metadata: map[string]any{"version": 1, "category": "ui"},
		})
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
