package tests

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/logging"
)

// Issue 16 (seed fidelity: Dockerfile.worker): a server with JOBS_ENABLED=false leaves a due
// scheduled change and a queued document alone; `voiceassist worker` (its entry code, run
// in-process on the same database) applies and indexes them, and answers /health.
func TestWorkerRunsTheJobsServeLeaves(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := startServer(t, map[string]string{"FLAG_POLL_INTERVAL_MS": "50", "JOBS_ENABLED": "false"}, app.WithClock(clock.Now))
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	f := checkoutFlag(t, s, admin)
	sch, err := s.Client.CreateScheduledChangeWithResponse(ctx, f.Key, client.ScheduledChangeInput{
		ScheduledAt: clock.Now().Add(time.Hour).Format(time.RFC3339),
		Changes:     client.WeightChanges{"control": 20, "variant_a": 40, "variant_b": 40},
	}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, sch.StatusCode(), "%s", sch.Body)
	id := sch.JSON201.Data.Id
	doc := s.addText(t, admin, "Worker note", "Metformin is a first-line therapy for type 2 diabetes.")
	clock.Advance(2 * time.Hour) // the change is due

	status := func() client.ScheduledChangeStatus {
		g, err := s.Client.GetScheduledChangeWithResponse(ctx, f.Key, id, bearerAuth(admin))
		require.NoError(t, err)
		return g.JSON200.Data.Status
	}
	docStatus := func() client.KbDocumentStatus {
		g, err := s.Client.GetKbDocumentWithResponse(ctx, doc.Id, bearerAuth(admin))
		require.NoError(t, err)
		return g.JSON200.Data.Status
	}
	// With its jobs on, the server would apply the change within one 50 ms poll and index
	// the document within about as long; over 20 polls it does neither.
	require.Never(t, func() bool { return status() != "pending" || docStatus() != client.KbDocumentStatusPending },
		time.Second, 50*time.Millisecond)

	// The worker: same database and Redis prefix, its own DATA_DIR, a health listener.
	env := map[string]string{}
	for k, v := range s.Env {
		env[k] = v
	}
	env["DATA_DIR"] = t.TempDir()
	env["JOBS_ENABLED"] = "false" // ignored by the worker: running jobs is what it is for
	env["WORKER_HEALTH_ADDR"] = "127.0.0.1:0"
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	logs := &apptest.LogBuffer{}
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	healthAddr := make(chan string, 1)
	go func() {
		done <- app.RunWorker(wctx, cfg, logging.New(logs, "json", "debug"), func(addr string) { healthAddr <- addr }, app.WithClock(clock.Now))
	}()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
		if t.Failed() {
			t.Logf("worker logs:\n%s", logs.String())
		}
	})
	var addr string
	select {
	case addr = <-healthAddr:
	case err := <-done:
		t.Fatalf("worker ended at start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not start within 30 s")
	}
	res, err := http.Get("http://" + addr + "/health")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	require.Eventually(t, func() bool { return status() == "applied" }, 30*time.Second, 20*time.Millisecond, "the worker applies the due change")
	require.Equal(t, client.KbDocumentStatusIndexed, s.waitIndexed(t, admin, doc.Id).Status, "the worker indexes the document")
	// The server learns of both through the database: the new weights and the new chunks.
	require.Eventually(t, func() bool {
		fl, ok := s.App.Flags.Snapshot().Flag(f.Key)
		return ok && fl.Variants[0].Weight == 20
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, 0.0, counterValue(t, s.App.Registry, "voiceassist_flag_scheduled_changes_total", "status", "applied"),
		"the server applied nothing itself")
}
