package voice

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/ner"
)

// Memory bounds: per session list, per user vocabulary, sessions listed.
const (
	MemoryListCap     = 20
	MemoryVocabCap    = 5000
	MemorySessionsMax = 50
)

// MemoryService keeps the three tiers of voice memory (docs/voice.md, "Voice memory"):
// short term per session (topics, entities, open questions), medium term (stated
// preferences) and long term (speech profile), all in PostgreSQL.
type MemoryService struct {
	Pool     *pgxpool.Pool
	Q        *db.Queries
	Switches *Switches
	NER      *ner.Extractor
	Redis    redis.UniversalClient
	// BufferKey names a session's resume buffer in Redis (erased with the memory).
	BufferKey func(session uuid.UUID) string
}

// Turn is what one voice turn tells the memory: the user's words and, for a spoken turn, how
// long the utterance lasted.
type Turn struct {
	User         uuid.UUID
	Email, Role  string
	Session      uuid.UUID
	Text         string
	SpeechLength time.Duration // 0 for a typed message
}

var (
	wordRe     = regexp.MustCompile(`[\p{L}][\p{L}'-]*`)
	sentenceRe = regexp.MustCompile(`[^.!?]+[.!?]?`)
	// Stated preferences: simple phrase rules, the last match of a turn wins.
	unitRules = []struct {
		re   *regexp.Regexp
		unit string
	}{
		{regexp.MustCompile(`(?i)\b(metric|si)\s+units?\b|\buse\s+(the\s+)?metric\b|\bin\s+(kilograms|kg|centimet(er|re)s|celsius)\b`), "metric"},
		{regexp.MustCompile(`(?i)\b(imperial|us)\s+units?\b|\buse\s+(the\s+)?imperial\b|\bin\s+(pounds|lbs|inches|fahrenheit)\b`), "imperial"},
	}
	languageRe  = regexp.MustCompile(`(?i)\b(?:speak|answer|respond|reply|talk)\s+(?:to me\s+)?in\s+(english|spanish|french|german|italian|portuguese)\b`)
	detailRules = []struct {
		re    *regexp.Regexp
		level string
	}{
		{regexp.MustCompile(`(?i)\b(brief|short|shorter|concise)\s+(answers?|responses?|replies)\b|\bkeep\s+it\s+(short|brief)\b`), "brief"},
		{regexp.MustCompile(`(?i)\b(detailed|longer|in-depth|thorough)\s+(answers?|responses?|explanations?)\b|\bmore\s+detail\b`), "detailed"},
	}
	languageCodes = map[string]string{"english": "en", "spanish": "es", "french": "fr", "german": "de", "italian": "it", "portuguese": "pt"}
)

// Preferences found in text by the phrase rules; nil where nothing was stated.
type StatedPreferences struct{ Units, Language, DetailLevel *string }

// ParsePreferences applies the phrase rules to one turn.
func ParsePreferences(text string) StatedPreferences {
	var p StatedPreferences
	for _, r := range unitRules {
		if r.re.MatchString(text) {
			u := r.unit
			p.Units = &u
		}
	}
	if m := languageRe.FindStringSubmatch(text); m != nil {
		c := languageCodes[strings.ToLower(m[1])]
		p.Language = &c
	}
	for _, r := range detailRules {
		if r.re.MatchString(text) {
			l := r.level
			p.DetailLevel = &l
		}
	}
	return p
}

// Observe writes what a turn tells about the user when backend.voice_memory is on for them;
// it reports whether it wrote.
func (m *MemoryService) Observe(ctx context.Context, t Turn) (bool, error) {
	if m == nil || !m.Switches.Enabled(CapMemory, t.User, t.Email, t.Role) {
		return false, nil
	}
	var topics, entities []string
	if m.NER != nil {
		for _, e := range m.NER.Extract(t.Text, ner.Options{}) {
			if e.Negated {
				continue
			}
			name := strings.ToLower(e.Text)
			if e.Normalized != nil && e.Normalized.Name != "" {
				name = strings.ToLower(e.Normalized.Name)
			}
			entities = appendNew(entities, string(e.Type)+":"+name)
			if e.Type == ner.Disease || e.Type == ner.Drug || e.Type == ner.Procedure {
				topics = appendNew(topics, name)
			}
		}
	}
	var questions []string
	for _, s := range sentenceRe.FindAllString(t.Text, -1) {
		if s = strings.TrimSpace(s); strings.HasSuffix(s, "?") {
			questions = appendNew(questions, s)
		}
	}
	words := wordRe.FindAllString(t.Text, -1)
	vocab := make([]string, 0, len(words))
	for _, w := range words {
		vocab = appendNew(vocab, strings.ToLower(w))
	}
	sort.Strings(vocab)
	var spoken int64
	if t.SpeechLength > 0 {
		spoken = int64(len(words))
	}
	p := ParsePreferences(t.Text)
	err := pgx.BeginFunc(ctx, m.Pool, func(tx pgx.Tx) error {
		q := m.Q.WithTx(tx)
		if err := q.UpsertVoiceMemorySession(ctx, db.UpsertVoiceMemorySessionParams{SessionID: t.Session, UserID: t.User,
			Topics: nonNil(topics), Entities: nonNil(entities), OpenQuestions: nonNil(questions), Cap: MemoryListCap}); err != nil {
			return err
		}
		return q.UpsertVoiceMemoryProfile(ctx, db.UpsertVoiceMemoryProfileParams{UserID: t.User, Units: p.Units, Language: p.Language,
			DetailLevel: p.DetailLevel, Words: int64(len(words)), SpokenWords: spoken, SpeechSeconds: t.SpeechLength.Seconds(),
			Vocabulary: vocab, VocabCap: MemoryVocabCap})
	})
	if err != nil {
		return false, fmt.Errorf("voice: memory: %w", err)
	}
	return true, nil
}

func appendNew(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// SessionMemory is the short-term memory of one session.
type SessionMemory struct {
	SessionID                       uuid.UUID
	Topics, Entities, OpenQuestions []string
	UpdatedAt                       time.Time
}

// Memory is everything remembered about a user; Profile is nil before the first turn.
type Memory struct {
	Sessions []SessionMemory
	Profile  *Profile
}

// Profile is the medium- and long-term memory: stated preferences and the speech profile.
type Profile struct {
	Units, Language, DetailLevel *string
	Turns                        int
	Words                        int64
	// SpeakingRate is words per minute over spoken turns (nil without any).
	SpeakingRate   *float64
	VocabularySize int
	// Speech is the profile learned from word timings (prosody).
	Speech    SpeechProfile
	UpdatedAt time.Time
}

// Get reads a user's memory: the newest MemorySessionsMax sessions and the profile.
func (m *MemoryService) Get(ctx context.Context, user uuid.UUID) (Memory, error) {
	rows, err := m.Q.ListVoiceMemorySessions(ctx, db.ListVoiceMemorySessionsParams{UserID: user, Limit: MemorySessionsMax})
	if err != nil {
		return Memory{}, fmt.Errorf("voice: memory: %w", err)
	}
	out := Memory{Sessions: make([]SessionMemory, 0, len(rows))}
	for _, r := range rows {
		out.Sessions = append(out.Sessions, SessionMemory{SessionID: r.SessionID, Topics: r.Topics, Entities: r.Entities,
			OpenQuestions: r.OpenQuestions, UpdatedAt: r.UpdatedAt})
	}
	p, err := m.Q.GetVoiceMemoryProfile(ctx, user)
	if err == pgx.ErrNoRows {
		return out, nil
	}
	if err != nil {
		return Memory{}, fmt.Errorf("voice: memory profile: %w", err)
	}
	prof := &Profile{Units: p.Units, Language: p.Language, DetailLevel: p.DetailLevel, Turns: int(p.Turns), Words: p.Words,
		VocabularySize: len(p.Vocabulary), UpdatedAt: p.UpdatedAt,
		Speech: speechProfile(p.ProsodyTurns, p.SpeechWpm, p.PauseP50Ms, p.PauseP90Ms, p.EndSilenceMs)}
	if p.SpeechSeconds > 0 {
		r := float64(p.SpokenWords) / p.SpeechSeconds * 60
		prof.SpeakingRate = &r
	}
	out.Profile = prof
	return out, nil
}

// Erase removes the user's memory rows and resume buffers, with an audit row in the same
// transaction; conversation messages are not memory and stay. It reports the rows removed.
func (m *MemoryService) Erase(ctx context.Context, actor audit.Actor, user uuid.UUID) (int64, error) {
	var removed int64
	var sessions []uuid.UUID
	err := pgx.BeginFunc(ctx, m.Pool, func(tx pgx.Tx) error {
		q := m.Q.WithTx(tx)
		n, err := q.DeleteVoiceMemorySessions(ctx, user)
		if err != nil {
			return err
		}
		k, err := q.DeleteVoiceMemoryProfile(ctx, user)
		if err != nil {
			return err
		}
		removed = n + k
		if sessions, err = q.ListVoiceSessionIDsOfUser(ctx, user); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "voice.memory.erased", ResourceType: "voice_memory",
			ResourceID: user.String(), Success: true, Details: map[string]any{"rows": removed, "sessions": len(sessions)}})
	})
	if err != nil {
		return 0, fmt.Errorf("voice: erase memory: %w", err)
	}
	if m.Redis != nil && m.BufferKey != nil && len(sessions) > 0 {
		keys := make([]string, len(sessions))
		for i, s := range sessions {
			keys[i] = m.BufferKey(s)
		}
		// Redis holds no source of truth: a failure here is reported, the rows are gone.
		for len(keys) > 0 {
			n := min(len(keys), 500) // bounded commands for users with many sessions
			if err := m.Redis.Del(ctx, keys[:n]...).Err(); err != nil {
				return removed, fmt.Errorf("voice: erase resume buffers: %w", err)
			}
			keys = keys[n:]
		}
	}
	return removed, nil
}

// promptSessions is how many recent sessions' topics reach the prompt.
const promptSessions = 3

// PromptContext renders what the model should know about the user from memory (stated
// preferences, recent topics), or "" when backend.voice_memory is off or nothing is known.
// Preferences stated in current (the turn being answered, whose memory is written beside
// the answer) apply at once. It reaches the model as a system-level block for one answer and
// is never stored.
func (m *MemoryService) PromptContext(ctx context.Context, user uuid.UUID, email, role, current string) (string, error) {
	if m == nil || !m.Switches.Enabled(CapMemory, user, email, role) {
		return "", nil
	}
	mem, err := m.Get(ctx, user)
	if err != nil {
		return "", err
	}
	var pref StatedPreferences
	if p := mem.Profile; p != nil {
		pref = StatedPreferences{Units: p.Units, Language: p.Language, DetailLevel: p.DetailLevel}
	}
	now := ParsePreferences(current)
	pref.Units, pref.Language, pref.DetailLevel = cmp.Or(now.Units, pref.Units), cmp.Or(now.Language, pref.Language),
		cmp.Or(now.DetailLevel, pref.DetailLevel)
	var lines []string
	if pref.Units != nil {
		lines = append(lines, "Preferred units: "+*pref.Units+".")
	}
	if pref.Language != nil {
		lines = append(lines, "Preferred language: "+*pref.Language+".")
	}
	if pref.DetailLevel != nil {
		lines = append(lines, "Preferred level of detail: "+*pref.DetailLevel+".")
	}
	var topics []string
	for i, s := range mem.Sessions {
		if i == promptSessions {
			break
		}
		for _, t := range s.Topics {
			topics = appendNew(topics, t)
		}
	}
	if len(topics) > 0 {
		lines = append(lines, "Recent topics: "+strings.Join(topics, ", ")+".")
	}
	if len(lines) == 0 {
		return "", nil
	}
	return "What earlier voice conversations told about this user (follow stated preferences):\n" + strings.Join(lines, "\n"), nil
}
