package openapi_test

import (
	"context"
	"encoding/json"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/openapi"
)

// The fast path must give the validator exactly the contract kin-openapi's own loader reads.
func TestLoadMatchesGetSwagger(t *testing.T) {
	fast, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	slow, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	if err := fast.Validate(context.Background()); err != nil {
		t.Fatalf("the loaded contract does not validate: %v", err)
	}
	a, err := json.Marshal(fast)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(slow)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatal("Load and api.GetSwagger render different documents")
	}
	// Same Go values too (an integer example stays an int, as the YAML parser reads it).
	if !reflect.DeepEqual(fast, slow) {
		t.Fatal("Load and api.GetSwagger decode different values")
	}
}

// go test ./openapi/ -run '^$' -bench . -benchtime 20x: cpu-ms/op is the process's CPU time
// per load, which a busy machine does not inflate as it does ns/op.
func BenchmarkLoad(b *testing.B) { benchCPU(b, openapi.Load) }

func BenchmarkGetSwagger(b *testing.B) { benchCPU(b, api.GetSwagger) }

func benchCPU(b *testing.B, load func() (*openapi3.T, error)) {
	start := cpuTime()
	for b.Loop() {
		if _, err := load(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

func cpuTime() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
