package flagstore

import (
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/flageval"
)

// VisibilityFor is the highest flag visibility a caller may see: public for anonymous
// callers (p nil), authenticated for users, admin for viewers and above, internal only
// for API keys of admins (service-to-service callers).
func VisibilityFor(p *auth.Principal) flageval.Visibility {
	switch {
	case p == nil:
		return flageval.VisibilityPublic
	case p.APIKeyID != nil && p.Role.AtLeast(auth.RoleAdmin):
		return flageval.VisibilityInternal
	case p.Role.AtLeast(auth.RoleViewer):
		return flageval.VisibilityAdmin
	default:
		return flageval.VisibilityAuthenticated
	}
}

// StreamLevel is the visibility level of a flag stream for a caller who may see v:
// internal flags are never streamed.
func StreamLevel(v flageval.Visibility) int {
	return min(v.Level(), flageval.VisibilityAdmin.Level())
}
