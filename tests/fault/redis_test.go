package fault

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFaultRevocationSurvivesRedisLoss: a logged-out access token stays refused after Redis
// restarts empty (issue 21 #20), on the replica that logged out and on another one.
func TestFaultRevocationSurvivesRedisLoss(t *testing.T) {
	c := newCluster(t, nil)
	r1 := c.start(nil)
	r2 := c.start(nil)
	ctx := context.Background()
	access, _ := r1.login(t, adminEmail, adminPassword)
	kept, _ := r1.login(t, adminEmail, adminPassword) // another session: must keep working

	res, err := r1.C.LogoutWithResponse(ctx, bearer(access))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, res.StatusCode(), "%s", res.Body)
	for _, r := range []*replica{r1, r2} {
		status, body, err := do(ctx, http.MethodGet, r.URL+"/api/auth/me", access, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, status, "%s before the Redis restart: %s", r.name, body)
	}

	env.redis.stop()
	require.NoError(t, env.redis.start())

	for _, r := range []*replica{r1, r2, r1} {
		status, body, err := do(ctx, http.MethodGet, r.URL+"/api/auth/me", access, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, status, "%s after the Redis restart accepted a logged-out token: %s", r.name, body)
		require.Contains(t, string(body), "TOKEN_REVOKED")
		status, body, err = do(ctx, http.MethodGet, r.URL+"/api/auth/me", kept, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "%s refused a live session: %s", r.name, body)
	}
	// A replica started after the loss knows the revocation too.
	env.redis.stop()
	require.NoError(t, env.redis.start())
	r3 := c.start(nil)
	status, body, err := do(ctx, http.MethodGet, r3.URL+"/api/auth/me", access, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, status, "%s", body)
}

// TestFaultRedisStopStart: with Redis gone, authentication fails closed (503), open
// authenticated streams end telling the client to keep its token and come back, anonymous
// streams and flag evaluation keep serving, new anonymous streams are admitted without the
// per-IP limit (logged and counted), and the limits work again once Redis is back.
func TestFaultRedisStopStart(t *testing.T) {
	c := newCluster(t, map[string]string{"SSE_HEARTBEAT_SECONDS": "1", "SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE": "3"})
	r1 := c.start(nil)
	ctx := context.Background()
	admin, _ := r1.login(t, adminEmail, adminPassword)
	status, body, err := do(ctx, http.MethodPost, r1.URL+"/api/admin/feature-flags", admin,
		map[string]any{"key": "ui.redis_fault", "type": "boolean", "enabled": true, "visibility": "public"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, "%s", body)

	anon := openStream(t, r1, map[string]string{"X-Forwarded-For": "198.51.100.1"})
	require.Equal(t, http.StatusOK, anon.Status, anon.Body)
	authed := openStream(t, r1, map[string]string{"Authorization": "Bearer " + admin, "X-Forwarded-For": "198.51.100.2"})
	require.Equal(t, http.StatusOK, authed.Status, authed.Body)
	ev, ok := anon.next(t, 10*time.Second)
	require.True(t, ok)
	require.Equal(t, "connected", ev.Name)

	env.redis.stop()

	// Authentication fails closed.
	status, body, err = do(ctx, http.MethodGet, r1.URL+"/api/auth/me", admin, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, status, "%s", body)
	// Logged as what it is.
	eventually(t, 5*time.Second, func() error {
		if !strings.Contains(r1.logs.String(), `"status":503,"code":"SERVICE_UNAVAILABLE"`) {
			return fmt.Errorf("no 503 log line")
		}
		return nil
	})
	require.NotContains(t, r1.logs.String(), "code=400, message=invalid request")

	// The authenticated stream ends: temporarily unavailable, with a retry hint.
	for {
		ev, ok := authed.next(t, 15*time.Second)
		require.True(t, ok, "the authenticated stream ended without an error event")
		if ev.Name != "error" {
			continue
		}
		msg, _ := ev.Data["message"].(string)
		require.Contains(t, msg, "temporarily unavailable")
		require.NotContains(t, msg, "no longer valid")
		require.Greater(t, ev.Retry, time.Duration(0), "no retry: hint")
		break
	}

	// Anonymous streams and evaluation keep serving; new anonymous streams are admitted
	// beyond the per-IP limit (3) and counted.
	anon.heartbeat(t, 10*time.Second)
	for i := 0; i < 5; i++ {
		st := openStream(t, r1, map[string]string{"X-Forwarded-For": "198.51.100.3"})
		require.Equal(t, http.StatusOK, st.Status, "stream %d while Redis is down: %s", i, st.Body)
		ev, ok := st.next(t, 10*time.Second)
		require.True(t, ok)
		require.Equal(t, "connected", ev.Name)
	}
	status, body, err = do(ctx, http.MethodPost, r1.URL+"/api/flags/evaluate", "", map[string]any{"keys": []string{"ui.redis_fault"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Contains(t, string(body), `"value":true`)
	status, metrics, err := do(ctx, http.MethodGet, r1.URL+"/metrics", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(metrics), `voiceassist_ratelimit_bypassed_total{rule="sse_open_ip"} 5`)
	require.Contains(t, string(metrics), `voiceassist_ratelimit_bypassed_total{rule="flag_eval_anon_ip"} 1`)

	require.NoError(t, env.redis.start())

	// Authentication and the per-IP limit are back (three open streams from one IP, the
	// fourth refused with 429 and Retry-After).
	eventually(t, 20*time.Second, func() error {
		status, body, err := do(ctx, http.MethodGet, r1.URL+"/api/auth/me", admin, nil)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("me: %d %s %v", status, body, err)
		}
		return nil
	})
	var open []*stream
	for i := 0; i < 3; i++ {
		st := openStream(t, r1, map[string]string{"X-Forwarded-For": "198.51.100.4"})
		require.Equal(t, http.StatusOK, st.Status, st.Body)
		open = append(open, st)
	}
	over := openStream(t, r1, map[string]string{"X-Forwarded-For": "198.51.100.4"})
	require.Equal(t, http.StatusTooManyRequests, over.Status, over.Body)
	require.NotEmpty(t, over.Header.Get("Retry-After"))
	_ = open
}

// TestFaultOpenStreamsPerIPAcrossReplicas: SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE counts the
// open streams of one IP on every replica together; a closed stream gives its slot back.
func TestFaultOpenStreamsPerIPAcrossReplicas(t *testing.T) {
	c := newCluster(t, map[string]string{"SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE": "3"})
	r1 := c.start(nil)
	r2 := c.start(nil)
	ip := map[string]string{"X-Forwarded-For": "192.0.2.77"}
	a := openStream(t, r1, ip)
	b := openStream(t, r1, ip)
	d := openStream(t, r2, ip)
	for _, st := range []*stream{a, b, d} {
		require.Equal(t, http.StatusOK, st.Status, st.Body)
	}
	for _, r := range []*replica{r1, r2} {
		over := openStream(t, r, ip)
		require.Equal(t, http.StatusTooManyRequests, over.Status, "%s: %s", r.name, over.Body)
		require.Contains(t, over.Body, "RATE_LIMIT_EXCEEDED")
		secs, err := strconv.Atoi(over.Header.Get("Retry-After"))
		require.NoError(t, err)
		require.True(t, secs >= 1 && secs <= 60, "Retry-After %d", secs)
	}
	other := openStream(t, r2, map[string]string{"X-Forwarded-For": "192.0.2.78"})
	require.Equal(t, http.StatusOK, other.Status, "another IP is not affected: %s", other.Body)

	a.Close() // on r1: its slot is given back to the IP everywhere
	eventually(t, 10*time.Second, func() error {
		st := openStream(t, r2, ip)
		defer st.Close()
		if st.Status != http.StatusOK {
			return fmt.Errorf("still %d", st.Status)
		}
		return nil
	})
}
