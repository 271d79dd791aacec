package flageval

import (
	"crypto/sha256"
	"encoding/binary"
)

// Buckets is the size of the bucket space: 100000 buckets, so a weight or percentage with
// up to three decimals maps to a whole number of buckets (w% = w*1000 buckets).
const Buckets = 100000

// Purposes keep "is this unit in the rollout" and "which variant" independent.
const (
	PurposeRollout = "rollout"
	PurposeVariant = "variant"
)

// Bucket is bucketing v1 (docs/bucketing.md):
// h = SHA-256("v1" 0x1F purpose 0x1F salt 0x1F flagKey 0x1F unitID);
// bucket = uint64 big-endian of h[0:8] mod 100000.
func Bucket(purpose, salt, flagKey, unitID string) uint32 {
	h := sha256.New()
	for i, part := range [...]string{"v1", purpose, salt, flagKey, unitID} {
		if i > 0 {
			h.Write([]byte{0x1F})
		}
		h.Write([]byte(part))
	}
	var sum [sha256.Size]byte
	return uint32(binary.BigEndian.Uint64(h.Sum(sum[:0])[:8]) % Buckets)
}
