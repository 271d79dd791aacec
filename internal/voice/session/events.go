package session

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/chat"
)

// Binary frame types: byte 0 of a binary frame, then a big-endian uint32 sequence number,
// then PCM16 little-endian mono.
const (
	frameAudioIn  = 0x01
	frameAudioOut = 0x02
	frameHeader   = 5
)

// Client → server message types.
const (
	inInit          = "session.init"
	inResume        = "session.resume"
	inAudio         = "audio.input"
	inAudioComplete = "audio.input.complete"
	inMessage       = "message"
	inBargeIn       = "barge_in"
	inMode          = "voice.mode"
	inPing          = "ping"
)

// Server → client event types. Of the last four, emotion and repair are reserved for the
// issues that add them (backchannel: backchannel.go).
const (
	evReady         = "session.ready"
	evInitAck       = "session.init.ack"
	evState         = "voice.state"
	evTranscriptDel = "transcript.delta"
	evTranscript    = "transcript.complete"
	evResponseDelta = "response.delta"
	evResponse      = "response.complete"
	evAudio         = "audio.output"
	evAudioMeta     = "audio.output.meta"
	evHeartbeat     = "heartbeat"
	evPong          = "pong"
	evError         = "error"
	evResumeAck     = "session.resume.ack"
	evResumeNak     = "session.resume.nak"
	evModeActivated = "voice.mode.activated"

	EvEmotion     = "emotion.detected"
	EvRepair      = "repair.strategy"
	EvBackchannel = "backchannel.trigger"
	EvPHIAlert    = "phi.alert"
)

// Voice states.
const (
	stateListening = "listening"
	stateThinking  = "thinking"
	stateSpeaking  = "speaking"
	stateIdle      = "idle"
)

// Error codes of error events (upper case, like the REST envelope's).
const (
	codeValidation     = "VALIDATION_ERROR"
	codeNotInitialized = "SESSION_NOT_INITIALIZED"
	codeInitialized    = "SESSION_ALREADY_INITIALIZED"
	codeNotFound       = "NOT_FOUND"
	codeBusy           = "BUSY"
	codeNoSpeech       = "NO_SPEECH"
	codeVoice          = "VOICE_UNAVAILABLE"
	codeTokenExpired   = "TOKEN_EXPIRED"
	codeUnavailable    = "SERVICE_UNAVAILABLE"
	codeTimeLimit      = "SESSION_TIME_LIMIT"
	codeNotAvailable   = "NOT_AVAILABLE"
	codeInternal       = "INTERNAL_ERROR"
	codeTurnLost       = "TURN_LOST"
)

// inbound is any client message; each type reads its own fields.
type inbound struct {
	Type           string          `json:"type"`
	ConversationID *string         `json:"conversation_id"`
	Voice          string          `json:"voice"`
	Language       string          `json:"language"`
	Features       []string        `json:"features"`
	VAD            *vadSettings    `json:"vad"`
	Audio          string          `json:"audio"`
	Seq            *uint32         `json:"seq"`
	Content        *string         `json:"content"`
	Mode           string          `json:"mode"`
	SessionID      string          `json:"session_id"`
	LastSeq        *uint32         `json:"last_seq"`
	DictationID    *string         `json:"dictation_session_id"`
	NoteType       string          `json:"note_type"`
	TS             json.RawMessage `json:"ts,omitempty"`
}

type vadSettings struct {
	Enabled     *bool `json:"enabled"`
	SilenceMS   *int  `json:"silence_ms"`
	Sensitivity *int  `json:"sensitivity"`
}

type readyEvent struct {
	Type             string    `json:"type"`
	SessionID        uuid.UUID `json:"session_id"`
	ConversationID   uuid.UUID `json:"conversation_id"`
	InputSampleRate  int       `json:"input_sample_rate"`
	OutputSampleRate int       `json:"output_sample_rate"`
	// With backend.voice_prosody on: the VAD's end-of-speech silence and where it came from.
	VADSilenceMS     *int   `json:"vad_silence_ms,omitempty"`
	VADSilenceSource string `json:"vad_silence_source,omitempty"`
}

type initAckEvent struct {
	Type     string   `json:"type"`
	Features []string `json:"features"`
}

type stateEvent struct {
	Type   string `json:"type"`
	Seq    uint32 `json:"seq"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

type transcriptEvent struct {
	Type   string    `json:"type"`
	Seq    uint32    `json:"seq"`
	TurnID uuid.UUID `json:"turn_id"`
	Text   string    `json:"text"`
	// Prosody of a spoken turn on transcript.complete, with backend.voice_prosody on.
	Prosody *prosodyJSON `json:"prosody,omitempty"`
}

type deltaEvent struct {
	Type   string    `json:"type"`
	Seq    uint32    `json:"seq"`
	TurnID uuid.UUID `json:"turn_id"`
	Delta  string    `json:"delta"`
}

type responseEvent struct {
	Type        string              `json:"type"`
	Seq         uint32              `json:"seq"`
	TurnID      uuid.UUID           `json:"turn_id"`
	MessageID   *uuid.UUID          `json:"message_id"`
	Content     string              `json:"content"`
	Citations   []chat.CitationJSON `json:"citations"`
	Interrupted bool                `json:"interrupted"`
}

type audioMetaEvent struct {
	Type       string    `json:"type"`
	Seq        uint32    `json:"seq"`
	TurnID     uuid.UUID `json:"turn_id"`
	Sentence   int       `json:"sentence"`
	Text       string    `json:"text"`
	SampleRate int       `json:"sample_rate"`
	Samples    int       `json:"samples"`
	Frames     int       `json:"frames"`
}

type audioEvent struct {
	Type  string `json:"type"`
	Seq   uint32 `json:"seq"`
	Audio string `json:"audio"`
}

type heartbeatEvent struct {
	Type string    `json:"type"`
	TS   time.Time `json:"ts"`
}

type pongEvent struct {
	Type         string          `json:"type"`
	TS           json.RawMessage `json:"ts,omitempty"`
	InputFrames  uint64          `json:"input_frames"`
	LastInputSeq uint32          `json:"last_input_seq"`
	InputGaps    uint64          `json:"input_gaps"`
}

type errorEvent struct {
	Type    string `json:"type"`
	Seq     uint32 `json:"seq,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

type resumeAckEvent struct {
	Type           string         `json:"type"`
	SessionID      uuid.UUID      `json:"session_id"`
	ConversationID *uuid.UUID     `json:"conversation_id"`
	LastSeq        uint32         `json:"last_seq"`
	Incomplete     bool           `json:"incomplete"`
	Message        *storedMessage `json:"message,omitempty"`
	Replayed       int            `json:"replayed"`
	Features       []string       `json:"features"`
}

type resumeNakEvent struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// storedMessage is a stored message as the resume acknowledgement carries it.
type storedMessage struct {
	ID          uuid.UUID           `json:"id"`
	Role        string              `json:"role"`
	Content     string              `json:"content"`
	Citations   []chat.CitationJSON `json:"citations"`
	Interrupted bool                `json:"interrupted"`
	CreatedAt   time.Time           `json:"created_at"`
}

// audioFrame builds a binary output frame: header and PCM16 little-endian in one allocation.
func audioFrame(seq uint32, samples []int16) []byte {
	b := make([]byte, frameHeader+2*len(samples))
	b[0] = frameAudioOut
	binary.BigEndian.PutUint32(b[1:5], seq)
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[frameHeader+2*i:], uint16(s))
	}
	return b
}

// audioJSON turns a binary output frame into its JSON form (clients without binary_audio).
func audioJSON(frame []byte) []byte {
	seq := binary.BigEndian.Uint32(frame[1:5])
	data, _ := json.Marshal(audioEvent{Type: evAudio, Seq: seq, Audio: base64.StdEncoding.EncodeToString(frame[frameHeader:])})
	return data
}

// samplesLE reads PCM16 little-endian bytes (an even number).
func samplesLE(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}
