package app

import (
	"os"

	"github.com/google/uuid"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/dictation"
	"github.com/voiceassist/gateway/internal/health"
	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/ratelimit"
	"github.com/voiceassist/gateway/internal/realtime"
	"github.com/voiceassist/gateway/internal/voice"
	"github.com/voiceassist/gateway/internal/voice/emotion"
	"github.com/voiceassist/gateway/internal/voice/offline"
	"github.com/voiceassist/gateway/internal/voice/session"
	"github.com/voiceassist/gateway/internal/voice/voiceopenai"
)

// newVoice builds the speech providers VOICE_STT_PROVIDER and VOICE_TTS_PROVIDER name. The
// offline decoders load on first use, never here.
func newVoice(cfg *config.Config, pool *pgxpool.Pool, limiter *ratelimit.Limiter, chats *conversation.Service,
	reg prometheus.Registerer, registry *health.Registry, log *slog.Logger) *voice.Service {
	providers := map[string]voice.Provider{}
	off := voice.Provider{Ready: offline.Available} // without the build tag: unavailable, naming the packages
	if stt, err := offline.NewSTT(offline.STTOptions{Workers: cfg.VoiceSTTWorkers,
		Words: offlineWords(cfg.VoiceSTTVocabulary), Acquire: 10 * time.Second}); err == nil {
		off.STT, off.Loaded = stt, stt.Loaded
	}
	if tts, err := offline.NewTTS(); err == nil {
		off.TTS = tts
	}
	providers["offline"] = off
	if cfg.OpenAIAPIKey != "" || cfg.OpenAIBaseURL != "" {
		client := llm.New(llm.Config{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL, Timeout: cfg.VoiceSTTTimeout})
		providers["openai"] = voice.Provider{
			STT:      voiceopenai.NewSTT(client, cfg.OpenAISTTModel),
			TTS:      voiceopenai.NewTTS(client, cfg.OpenAITTSModel),
			External: !cfg.ProvidersTrusted,
		}
	}
	return voice.NewService(voice.Config{
		STT: cfg.VoiceProviders(cfg.VoiceSTTProviders), TTS: cfg.VoiceProviders(cfg.VoiceTTSProviders),
		Providers: providers, AllowCloud: cfg.VoiceAllowCloud,
		Limits: voice.Limits{MaxAudioSeconds: cfg.VoiceMaxAudioSeconds, STTTimeout: cfg.VoiceSTTTimeout,
			TTSTimeout: cfg.VoiceTTSTimeout, RelayPerMinute: cfg.VoiceRelayPerMinute},
		Pool: pool, Health: registry, Limiter: limiter, Chats: chats, Metrics: voice.NewMetrics(reg), Log: log,
	})
}

// offlineWords is the medical vocabulary the offline recogniser learns: the clinical term
// list, and with clinical+drugs the generic drug names (measured: no gain on the benchmark
// sentences for twice the memory, so not the default; docs/benchmarks.md).
func offlineWords(vocabulary string) []string {
	if vocabulary == "clinical+drugs" {
		return append(voice.ClinicalTerms(), offline.DrugNames()...)
	}
	return voice.ClinicalTerms()
}

// newVoiceSessions builds the voice conversation socket's hub.
func (a *App) newVoiceSessions(dict *dictation.Service, mem *voice.MemoryService, sw *voice.Switches, an *voice.AnalyticsService) *session.Hub {
	cfg := a.Config
	emo, err := emotion.New(cfg.VoiceEmotionProvider) // validated by config: never fails here
	if err != nil {
		a.Log.Error("voice: emotion provider", "err", err)
	}
	return session.New(session.Config{
		Gate:  &realtime.Gate{Auth: a.socketAuth, AllowedOrigins: cfg.AllowedOrigins},
		Voice: a.Voice, Chats: a.Conversations, Dictation: dict, Memory: mem, Emotion: emo, Switches: sw, Analytics: an,
		Pool: a.Pool, Redis: a.Redis,
		Prefix: cfg.RedisKeyPrefix, Replica: replicaName(), Clock: a.voiceClock, Logger: a.Log,
		MaxSessions: cfg.VoiceMaxSessions, MaxSessionsPerUser: cfg.VoiceMaxSessionsPerUser,
		MaxFrameBytes: cfg.VoiceMaxFrameBytes, MaxSession: cfg.VoiceMaxSession,
		ResumeBufferBytes: cfg.VoiceResumeBufferBytes, Lease: cfg.VoiceResumeLease,
	})
}

// replicaName tells replicas apart in session rows and the live registry: the host name and
// a random suffix (two processes may share a host).
func replicaName() string {
	host, _ := os.Hostname()
	return host + "-" + uuid.NewString()[:8]
}

// WithVoiceClock sets the clock of voice session timers (heartbeats, detach grace, time limit).
func WithVoiceClock(c session.Clock) Option { return func(a *App) { a.voiceClock = c } }
