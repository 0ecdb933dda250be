package training

import (
	crand "crypto/rand"
	"encoding/binary"

	"github.com/whittle-ml/whittle/runtime/internal/nprand"
)

// newRNG returns numpy's legacy generator for a seed attribute (numpy truncates it to an
// integer), so that a seeded random operator draws exactly what the ONNX reference
// implementation (np.random.RandomState(seed)) draws; without a seed it is randomly seeded.
func newRNG(seed float32, hasSeed bool) *nprand.MT19937 {
	if hasSeed {
		return nprand.New(uint32(int64(seed)))
	}
	var b [4]byte
	if _, err := crand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to a fixed seed
		// rather than panic.
		return nprand.New(5489)
	}
	return nprand.New(binary.LittleEndian.Uint32(b[:]))
}
