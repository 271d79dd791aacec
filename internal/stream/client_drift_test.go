package stream

import "testing"

// delivered (what version drift is measured from) advances when frames are written, and
// at once for events the client may not see while nothing waits; queued is not delivered.
func TestClientDelivered(t *testing.T) {
	c := newClient("c", 0, "ip", nil, 8)
	c.seen.Store(10)
	c.delivered.Store(10)

	c.skip(11) // not visible, nothing waiting: current
	if got := c.delivered.Load(); got != 11 {
		t.Fatalf("after a skip with an empty queue: delivered %d, want 11", got)
	}
	c.offer(Item{Frame: []byte("a"), ID: 12})
	c.offer(Item{Frame: []byte("b"), ID: 13})
	c.skip(14) // frames wait: not current yet
	if got := c.delivered.Load(); got != 11 {
		t.Fatalf("frames queued, not written: delivered %d, want 11", got)
	}
	batch := c.Drain(nil)
	c.offer(Item{Frame: []byte("c"), ID: 15}) // arrives while the batch is being written
	c.Written(batch[len(batch)-1].ID)
	if got := c.delivered.Load(); got != 13 {
		t.Fatalf("batch written, one frame waiting: delivered %d, want 13", got)
	}
	c.Written(c.Drain(nil)[0].ID)
	if got := c.delivered.Load(); got != 15 {
		t.Fatalf("all written: delivered %d, want 15", got)
	}
	c.offerHeartbeat(Item{Frame: []byte("hb")})
	c.skip(16)
	c.Drain(nil)
	c.Written(0) // a heartbeat alone: current up to the last event handled
	if got := c.delivered.Load(); got != 16 {
		t.Fatalf("after a heartbeat: delivered %d, want 16", got)
	}
}
