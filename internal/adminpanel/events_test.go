package adminpanel

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/realtime"
	"github.com/voiceassist/gateway/internal/redistest"
)

// An admin socket gets metrics_update on its interval, and is closed with 1008 once its token
// no longer holds at a re-check.
func TestAdminSocketMetricsAndRecheck(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	rdb := redistest.Client(t, nil)
	var revoked atomic.Bool
	user := uuid.New()
	p := New(Config{Pool: pool, Redis: rdb, Prefix: redistest.Prefix(t, rdb),
		MetricsEvery: 20 * time.Millisecond, RecheckEvery: 20 * time.Millisecond})
	p.Events().SetGate(&realtime.Gate{Auth: func(_ context.Context, tok string) (realtime.Principal, error) {
		if tok != "good" || revoked.Load() {
			return realtime.Principal{}, errors.New("token revoked")
		}
		return realtime.Principal{UserID: user, Role: "viewer"}, nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(p.Events())
	t.Cleanup(srv.Close)

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"?token=good", nil)
	require.NoError(t, err)
	defer c.Close()
	read := func() map[string]any {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var ev map[string]any
		require.NoError(t, c.ReadJSON(&ev))
		return ev
	}
	require.Equal(t, "connected", read()["type"])
	for {
		ev := read()
		if ev["type"] == "metrics_update" {
			sum := ev["summary"].(map[string]any)
			require.Contains(t, sum, "users")
			require.Contains(t, sum, "generated_at")
			break
		}
	}

	revoked.Store(true)
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := c.ReadMessage()
		if err == nil {
			continue // a metrics_update sent before the re-check
		}
		var ce *websocket.CloseError
		require.True(t, errors.As(err, &ce), "%v", err)
		require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
		break
	}
}
