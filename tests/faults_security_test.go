package tests

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// Issue 21 #17: concurrent readiness probes with a disabled dependency (the vector store is
// not configured here) must not race on the result map: before the fix this could kill the
// process with "concurrent map writes"; `make test-race` checks the health package itself.
func TestReadyUnderConcurrentProbes(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				res, err := s.Client.GetReadyWithResponse(context.Background())
				if err != nil {
					errs <- err
					return
				}
				if res.StatusCode() != http.StatusOK {
					errs <- fmt.Errorf("GET /ready: status %d", res.StatusCode())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
