package reduce

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// elem is the set of element types reduced natively.
type elem interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// accum is the set of accumulator types: float64 for floats, int64 and uint64 for integers.
type accum interface{ ~int64 | ~uint64 | ~float64 }

// fold is the step that combines one input element into an accumulator.
type fold int

const (
	foldAdd    fold = iota // acc += x
	foldAbs                // acc += |x|
	foldSquare             // acc += x*x
	foldProd               // acc *= x
	foldMax                // acc = max(acc, x), NaN sticks
	foldMin                // acc = min(acc, x), NaN sticks
	foldSumExp             // acc += exp(x - shift)
)

func foldOf(o op) fold {
	switch o {
	case opL1:
		return foldAbs
	case opL2, opSumSquare:
		return foldSquare
	case opProd:
		return foldProd
	case opMax:
		return foldMax
	case opMin:
		return foldMin
	}
	return foldAdd
}

// run reduces x into out (allocated with the plan's output shape).
func run(o op, p *plan, x, out *kernel.Tensor) error {
	// Scratch beside the output: the accumulators (a second set, the shifts, for
	// LogSumExp) and, for half floats and bools, a widened copy of x. The output's
	// allocation checked outSize; the scratch is weighed here, once, so that the typed
	// reductions below need no error path.
	if err := kernel.Reserve(int64(p.outSize)*16 + int64(x.Len())*4); err != nil {
		return err
	}
	switch xd := x.Data.(type) {
	case []float32:
		if x.DType == ir.Float {
			reduceTyped[float32, float64](o, p, xd, out.Data.([]float32))
			return nil
		}
	case []float64:
		reduceTyped[float64, float64](o, p, xd, out.Data.([]float64))
		return nil
	case []int8:
		reduceInt(o, p, xd, out.Data.([]int8))
		return nil
	case []int16:
		reduceInt(o, p, xd, out.Data.([]int16))
		return nil
	case []int32:
		reduceInt(o, p, xd, out.Data.([]int32))
		return nil
	case []int64:
		reduceInt(o, p, xd, out.Data.([]int64))
		return nil
	case []uint8:
		if x.DType == ir.Uint8 {
			reduceUint(o, p, xd, out.Data.([]uint8))
			return nil
		}
	case []uint32:
		reduceUint(o, p, xd, out.Data.([]uint32))
		return nil
	case []uint64:
		reduceUint(o, p, xd, out.Data.([]uint64))
		return nil
	case []uint16:
		switch x.DType {
		case ir.Uint16:
			reduceUint(o, p, xd, out.Data.([]uint16))
			return nil
		case ir.Float16, ir.BFloat16:
			// Compute in float32 (accumulating in float64) and round once at the end.
			toF32, fromF32 := kernel.Float16ToFloat32, kernel.Float32ToFloat16
			if x.DType == ir.BFloat16 {
				toF32, fromF32 = kernel.BFloat16ToFloat32, kernel.Float32ToBFloat16
			}
			wide := make([]float32, len(xd))
			for i, v := range xd {
				wide[i] = toF32(v)
			}
			res := make([]float32, p.outSize)
			reduceTyped[float32, float64](o, p, wide, res)
			od := out.Data.([]uint16)
			for i, v := range res {
				od[i] = fromF32(v)
			}
			return nil
		}
	case []bool:
		// False < True: max is "any", min is "all"; reduce the bytes.
		b := make([]uint8, len(xd))
		for i, v := range xd {
			if v {
				b[i] = 1
			}
		}
		res := make([]uint8, p.outSize)
		reduceUint(o, p, b, res)
		od := out.Data.([]bool)
		for i, v := range res {
			od[i] = v != 0
		}
		return nil
	}
	return fmt.Errorf("element type %s is not supported", x.DType)
}

// reduceInt and reduceUint pick the integer accumulator; ReduceLogSumExp of integers is
// computed in float64 since its shift is not an integer.
func reduceInt[T ~int8 | ~int16 | ~int32 | ~int64](o op, p *plan, x, out []T) {
	if o == opLogSumExp {
		reduceTyped[T, float64](o, p, x, out)
		return
	}
	reduceTyped[T, int64](o, p, x, out)
}

func reduceUint[T ~uint8 | ~uint16 | ~uint32 | ~uint64](o op, p *plan, x, out []T) {
	if o == opLogSumExp {
		reduceTyped[T, float64](o, p, x, out)
		return
	}
	reduceTyped[T, uint64](o, p, x, out)
}

// reduceTyped runs the plan with accumulators of type A and writes every output element.
func reduceTyped[T elem, A accum](o op, p *plan, x []T, out []T) {
	w := &walker[T, A]{blocks: p.blocks, x: x, acc: make([]A, p.outSize)}
	// An empty x may declare reduced axes of any size: there is nothing to fold, and the
	// walk would still count them out. The accumulators keep their initial values.
	walk := func() {
		if len(x) > 0 {
			w.walk(0, 0, 0)
		}
	}
	if o == opLogSumExp {
		// Pass 1 finds each output's maximum, which pass 2 subtracts before exp so that
		// large inputs do not overflow.
		w.fold = foldMax
		fill(w.acc, initial[T, A](foldMax))
		walk()
		w.shift = w.acc
		for i, m := range w.shift {
			if math.IsInf(float64(m), 0) || math.IsNaN(float64(m)) {
				w.shift[i] = 0
			}
		}
		w.acc = make([]A, p.outSize)
		w.fold = foldSumExp
		walk()
	} else {
		w.fold = foldOf(o)
		fill(w.acc, initial[T, A](w.fold))
		walk()
	}
	finish(o, w.acc, w.shift, p.count, out)
}

func fill[A any](s []A, v A) {
	for i := range s {
		s[i] = v
	}
}

func isFloat[A accum]() bool {
	_, ok := any(A(0)).(float64)
	return ok
}

// initial is the identity of the fold for element type T: the value an empty reduction
// produces.
func initial[T elem, A accum](f fold) A {
	switch f {
	case foldProd:
		return 1
	case foldMax:
		if isFloat[A]() {
			return A(math.Inf(-1))
		}
		lo, _ := limits[T]()
		return A(lo)
	case foldMin:
		if isFloat[A]() {
			return A(math.Inf(1))
		}
		_, hi := limits[T]()
		return A(hi)
	}
	return 0
}

// limits returns the smallest and largest values of integer type T, as int64 and uint64
// bit patterns that convert to T's accumulator exactly.
func limits[T elem]() (lo, hi int64) {
	var z T
	switch any(z).(type) {
	case int8:
		return math.MinInt8, math.MaxInt8
	case int16:
		return math.MinInt16, math.MaxInt16
	case int32:
		return math.MinInt32, math.MaxInt32
	case int64:
		return math.MinInt64, math.MaxInt64
	case uint8:
		return 0, math.MaxUint8
	case uint16:
		return 0, math.MaxUint16
	case uint32:
		return 0, math.MaxUint32
	}
	// uint64: all bits set, which int64(-1) converts to as a uint64 accumulator.
	return 0, -1
}

// walker applies one fold over the plan's blocks.
type walker[T elem, A accum] struct {
	blocks []block
	x      []T
	acc    []A
	shift  []A // per-output shift of foldSumExp, nil otherwise
	fold   fold
}

func (w *walker[T, A]) walk(d, in, out int) {
	b := w.blocks[d]
	if d == len(w.blocks)-1 {
		xs := w.x[in : in+b.size]
		if b.reduced {
			var s A
			if w.shift != nil {
				s = w.shift[out]
			}
			w.acc[out] = foldRun(w.fold, w.acc[out], xs, s)
			return
		}
		var s []A
		if w.shift != nil {
			s = w.shift[out : out+b.size]
		}
		foldRows(w.fold, w.acc[out:out+b.size], xs, s)
		return
	}
	for i := 0; i < b.size; i++ {
		w.walk(d+1, in+i*b.inStride, out+i*b.outStride)
	}
}

// foldRun folds a contiguous run of inputs into one accumulator (inner reduction).
func foldRun[T elem, A accum](f fold, acc A, x []T, shift A) A {
	switch f {
	case foldAdd:
		for _, v := range x {
			acc += A(v)
		}
	case foldAbs:
		for _, v := range x {
			a := A(v)
			if a < 0 {
				a = -a
			}
			acc += a
		}
	case foldSquare:
		for _, v := range x {
			a := A(v)
			acc += a * a
		}
	case foldProd:
		for _, v := range x {
			acc *= A(v)
		}
	case foldMax:
		for _, v := range x {
			if a := A(v); a > acc || a != a {
				acc = a
				if a != a {
					break
				}
			}
		}
	case foldMin:
		for _, v := range x {
			if a := A(v); a < acc || a != a {
				acc = a
				if a != a {
					break
				}
			}
		}
	case foldSumExp:
		for _, v := range x {
			acc += A(math.Exp(float64(v) - float64(shift)))
		}
	}
	return acc
}

// foldRows folds a contiguous row of inputs elementwise into a row of accumulators (outer
// reduction).
func foldRows[T elem, A accum](f fold, acc []A, x []T, shift []A) {
	x = x[:len(acc)]
	switch f {
	case foldAdd:
		for i, v := range x {
			acc[i] += A(v)
		}
	case foldAbs:
		for i, v := range x {
			a := A(v)
			if a < 0 {
				a = -a
			}
			acc[i] += a
		}
	case foldSquare:
		for i, v := range x {
			a := A(v)
			acc[i] += a * a
		}
	case foldProd:
		for i, v := range x {
			acc[i] *= A(v)
		}
	case foldMax:
		for i, v := range x {
			if a := A(v); a > acc[i] || a != a {
				if acc[i] == acc[i] {
					acc[i] = a
				}
			}
		}
	case foldMin:
		for i, v := range x {
			if a := A(v); a < acc[i] || a != a {
				if acc[i] == acc[i] {
					acc[i] = a
				}
			}
		}
	case foldSumExp:
		shift = shift[:len(acc)]
		for i, v := range x {
			acc[i] += A(math.Exp(float64(v) - float64(shift[i])))
		}
	}
}

// finish turns accumulators into outputs: the mean divides, L2 takes the root, the log
// reductions take the log. count is the number of inputs folded into each output.
func finish[T elem, A accum](o op, acc, shift []A, count int, out []T) {
	out = out[:len(acc)]
	float := isFloat[A]()
	switch o {
	case opMean:
		for i, a := range acc {
			switch {
			case float:
				out[i] = T(float64(a) / float64(count)) // 0/0 is NaN for an empty set
			case count == 0:
				out[i] = 0
			default:
				out[i] = T(a / A(count))
			}
		}
	case opL2:
		for i, a := range acc {
			out[i] = T(math.Sqrt(float64(a)))
		}
	case opLogSum:
		for i, a := range acc {
			out[i] = T(math.Log(float64(a)))
		}
	case opLogSumExp:
		for i, a := range acc {
			out[i] = T(float64(shift[i]) + math.Log(float64(a)))
		}
	default:
		for i, a := range acc {
			out[i] = T(a)
		}
	}
}
