package ssetest_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/ssetest"
)

func TestReader(t *testing.T) {
	t.Parallel()
	stream := "retry: 1500\n\n" +
		": heartbeat\n\n" +
		"id: 7\r\nevent: flag_update\r\ndata: {\"flag\":\"ui.a\"}\r\n\r\n" +
		"\n" +
		"data:first\ndata: second\n: note\n\n" +
		"id: 9\nevent: cut"
	r := ssetest.NewReader(strings.NewReader(stream))

	ev, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, 1500*time.Millisecond, ev.Retry)
	require.False(t, ev.IsComment())

	ev, err = r.Next()
	require.NoError(t, err)
	require.True(t, ev.IsComment())
	require.Equal(t, []string{"heartbeat"}, ev.Comments)

	ev, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, "7", ev.ID)
	require.Equal(t, "flag_update", ev.Event)
	var data map[string]string
	require.NoError(t, ev.JSON(&data))
	require.Equal(t, "ui.a", data["flag"])
	require.Equal(t, []string{"id: 7", "event: flag_update", `data: {"flag":"ui.a"}`}, ev.Lines)

	ev, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, "", ev.Event, "unnamed")
	require.Equal(t, "first\nsecond", ev.Data)
	require.Equal(t, []string{"note"}, ev.Comments)

	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF, "a block cut off by the end is dropped")
}
