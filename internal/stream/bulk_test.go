package stream

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/flagstore"
)

func ev(id int64, batch string) Event {
	return Event{ID: id, Key: "ui.f" + string(rune('a'+id)), Batch: flagstore.Batch{ID: batch, Reason: "import"}}
}

func ids(g []Event) []int64 {
	var out []int64
	for _, e := range g {
		out = append(out, e.ID)
	}
	return out
}

func TestGroupsKeepBatchesTogether(t *testing.T) {
	evs := []Event{ev(1, ""), ev(2, "x"), ev(3, "x"), ev(4, ""), ev(5, "y"), ev(6, "z"), ev(7, "z")}
	var got [][]int64
	for _, g := range groups(evs) {
		got = append(got, ids(g))
	}
	require.Equal(t, [][]int64{{1}, {2, 3}, {4}, {5}, {6, 7}}, got)
	require.Equal(t, typeBulk, eventType(groups(evs)[1]))
	require.Equal(t, typeUpdate, eventType(groups(evs)[3]), "a batch of one is an ordinary update")
}

func TestSplitOpenBatchHoldsBackTheTail(t *testing.T) {
	ready, open := splitOpenBatch([]Event{ev(1, ""), ev(2, "x"), ev(3, "x")})
	require.Equal(t, []int64{1}, ids(ready))
	require.Equal(t, []int64{2, 3}, ids(open))
	ready, open = splitOpenBatch([]Event{ev(1, "x"), ev(2, "")})
	require.Equal(t, []int64{1, 2}, ids(ready))
	require.Empty(t, open)
}

func TestBulkFrameFiltersByLevelAndKeys(t *testing.T) {
	a, b := ev(1, "x"), ev(2, "x")
	a.Level, a.PrevLevel = 0, 0
	b.Level, b.PrevLevel = 2, 2 // above a level-0 client
	c := newClient("c", 0, "ip", nil, 8)
	fr := string(frameForGroup([]Event{a, b}, c, false))
	require.Contains(t, fr, "event: flags_bulk_update")
	require.Contains(t, fr, "id: 2\n")
	require.Contains(t, fr, a.Key)
	require.NotContains(t, fr, b.Key)
	only := newClient("d", 0, "ip", map[string]bool{b.Key: true}, 8)
	require.Nil(t, frameForGroup([]Event{a, b}, only, false), "nothing visible: no event")
}
