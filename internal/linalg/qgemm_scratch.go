package linalg

// Pools of the integer kernels' temporaries (accumulator start values, im2col rows, int32
// tiles before requantization), beside the float one in scratch.go.
var (
	byteScratch  ScratchPool[uint8]
	int32Scratch ScratchPool[int32]
)

// GetBytes returns a pooled byte buffer of n elements with undefined contents.
func GetBytes(n int) *Scratch[uint8] { return byteScratch.Get(n) }

// GetInt32s returns a pooled int32 buffer of n elements with undefined contents.
func GetInt32s(n int) *Scratch[int32] { return int32Scratch.Get(n) }
