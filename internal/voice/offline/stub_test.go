//go:build !offlinevoice || !cgo

package offline

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/voice"
)

func TestStubUnavailable(t *testing.T) {
	require.ErrorIs(t, Available(), voice.ErrUnavailable)
	require.Contains(t, Available().Error(), "offlinevoice")
	require.Contains(t, Available().Error(), "libpocketsphinx-dev")

	_, err := NewSTT(STTOptions{})
	require.ErrorIs(t, err, voice.ErrUnavailable)
	_, err = NewTTS()
	require.ErrorIs(t, err, voice.ErrUnavailable)

	var s *STT
	_, err = s.Transcribe(context.Background(), voice.PCM{}, voice.TranscribeOptions{})
	require.True(t, errors.Is(err, voice.ErrUnavailable))
	_, ok := Pronounce("metformin")
	require.False(t, ok)
}
