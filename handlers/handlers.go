// Package handlers implements the generated strict server interface: each method translates
// between the API types of gen/api and the domain packages, and holds no SQL or policy.
package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/adminpanel"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/dictation"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/health"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/medai"
	"github.com/voiceassist/gateway/internal/patient"
	"github.com/voiceassist/gateway/internal/phi"
	"github.com/voiceassist/gateway/internal/ratelimit"
	"github.com/voiceassist/gateway/internal/realtime"
	"github.com/voiceassist/gateway/internal/schedule"
	"github.com/voiceassist/gateway/internal/stream"
	"github.com/voiceassist/gateway/internal/voice"
)

// Server carries the dependencies of every handler.
type Server struct {
	Config   *config.Config
	Log      *slog.Logger
	Pool     *pgxpool.Pool
	Redis    redis.UniversalClient
	Auth     *auth.Service
	Flags    *flagstore.Store
	FlagM    *flagstore.Metrics
	Stream   *stream.Hub
	Schedule *schedule.Service
	KB       *kb.Service
	Cache    *cache.Cache
	Chats    *conversation.Service
	Realtime *realtime.Hub
	Limiter  *ratelimit.Limiter
	Ready    *health.Checker
	Gatherer prometheus.Gatherer
	// SpecJSON renders the contract as JSON; encoded on first use, not at start-up.
	SpecJSON func() ([]byte, error)
	SpecYAML []byte
	Title    string
	// APIVersion is the contract's info.version (GET /api/version).
	APIVersion string

	// CacheAdmin clears and invalidates the cache with an audit row.
	CacheAdmin *cache.Admin
	// Voice transcribes and synthesises speech.
	Voice *voice.Service
	// VoiceSessions serves the voice conversation WebSocket.
	VoiceSessions http.Handler
	// VoiceFeedback stores and summarises feedback on voice sessions.
	VoiceFeedback *voice.FeedbackService
	// VoiceMemory is what voice turns remembered about each user.
	VoiceMemory *voice.MemoryService
	// VoiceAnalytics reads per-turn voice analytics.
	VoiceAnalytics *voice.AnalyticsService
	// Dictation holds dictation sessions and user vocabularies.
	Dictation *dictation.Service
	// Patients holds patient records and their grants; it grounds answers that name one.
	Patients *patient.Service
	// PHI finds and redacts protected health information.
	PHI *phi.Service
	// MedAI answers /api/medical-ai.
	MedAI *medai.Service
	// Panel is the admin dashboard and its event socket.
	Panel *adminpanel.Service
	// Stopping ends when the gateway begins to shut down for good: answers still streaming
	// then end with an error event instead of a bare EOF (nil: never).
	Stopping context.Context
}

var _ api.StrictServerInterface = (*Server)(nil)

// Mount mounts every operation of the contract on e. Most go through the strict layer;
// the few that must write raw bytes (metrics, spec, static assets) are served by routes
// that override the generated wrapper, so the spec still declares them.
func (s *Server) Mount(e *echo.Echo, mws []api.StrictMiddlewareFunc) {
	api.RegisterHandlers(e, &routes{ServerInterface: api.NewStrictHandler(s, mws), s: s, fast: len(mws) == 0})
}

// routes overrides the generated ServerInterface for raw-body operations, and for OFREP
// evaluation (ofrep_fast.go).
type routes struct {
	api.ServerInterface
	s *Server
	// fast: no strict middleware is installed, so OFREP may bypass the strict layer.
	fast bool
}
