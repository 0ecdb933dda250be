package grad

import (
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// arena hands out the buffers of one training step (forward values, gradients, rule
// scratch) and takes them all back when the step ends. Steps of the same batch shape ask
// for the same sizes in the same order, so after the first step every request is served
// from the free lists: training allocates nothing per batch once warm.
//
// Nothing is returned to the free lists before the step ends, so a runtime kernel that
// returns a view of its input (Reshape, Flatten, Identity) can never see that buffer
// reused underneath it: the arena needs no ownership tracking.
type arena struct {
	free map[int][][]float32 // exact length -> buffers
	used [][]float32
	// other-typed tensors (integer kernels' outputs) are not pooled: they are small.
}

func newArena() *arena { return &arena{free: map[int][][]float32{}} }

// floats returns a buffer of n float32s with undefined contents.
func (a *arena) floats(n int) []float32 {
	if n == 0 {
		return nil
	}
	var buf []float32
	if list := a.free[n]; len(list) > 0 {
		buf = list[len(list)-1]
		a.free[n] = list[:len(list)-1]
	} else {
		buf = make([]float32, n)
	}
	a.used = append(a.used, buf)
	return buf
}

// zeros returns a zeroed buffer of n float32s.
func (a *arena) zeros(n int) []float32 {
	b := a.floats(n)
	clear(b)
	return b
}

// tensor returns a float tensor of the given shape with undefined contents.
func (a *arena) tensor(shape []int64) *kernel.Tensor {
	return &kernel.Tensor{DType: ir.Float, Shape: append([]int64(nil), shape...), Data: a.floats(shapeSize(shape))}
}

// zerosLike returns a zeroed float tensor of the given shape.
func (a *arena) zerosTensor(shape []int64) *kernel.Tensor {
	t := a.tensor(shape)
	clear(t.Float32s())
	return t
}

// Get implements kernel.Pool for the runtime kernels that compute forward values.
func (a *arena) Get(dt ir.DataType, shape []int64) *kernel.Tensor {
	if dt == ir.Float {
		return a.tensor(shape)
	}
	return kernel.New(dt, shape...)
}

// reset takes every buffer handed out since the last reset back.
func (a *arena) reset() {
	for i, b := range a.used {
		a.free[len(b)] = append(a.free[len(b)], b)
		a.used[i] = nil
	}
	a.used = a.used[:0]
}

func shapeSize(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}
