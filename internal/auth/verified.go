package auth

import "sync"

// verifiedCache remembers access tokens whose signature and claims were verified, so a
// client that sends the same token on every request pays for the signature check once.
// Only what the token itself says is cached: revocation and expiry are checked on every
// request. Bounded: when full, arbitrary entries (map order) make room.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[string]Claims
}

const verifiedMax = 8192

func (v *verifiedCache) get(raw string) (Claims, bool) {
	v.mu.RLock()
	c, ok := v.m[raw]
	v.mu.RUnlock()
	return c, ok
}

func (v *verifiedCache) put(raw string, c Claims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[string]Claims)
	}
	if len(v.m) >= verifiedMax {
		n := 0
		for k := range v.m {
			delete(v.m, k)
			if n++; n >= verifiedMax/8 {
				break
			}
		}
	}
	v.m[raw] = c
}
