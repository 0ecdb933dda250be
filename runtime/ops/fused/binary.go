package fused

import (
	"fmt"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

func init() {
	kernel.Register(kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpBinary, SinceVersion: 1,
		Types: []ir.DataType{ir.Float}, New: newBinary})
}

// binary is Add, Sub, Mul or Div on float32 tensors. When one operand has the output's
// shape and the other is the output with a run of axes collapsed to 1 (equal shapes, a
// scalar, a bias over the last axes, a per-channel scale of channels-last data), it runs
// as contiguous vector loops; other broadcasts go to the reference kernel.
type binary struct {
	node *ir.Node
	op   string
	ref  kernel.Kernel
}

func newBinary(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	op := n.AttrString("op", "")
	def, err := kernel.Lookup("", op, 14, ir.Float)
	if err != nil {
		return nil, fmt.Errorf("%s: op %q: %w", n.Describe(), op, err)
	}
	ref, err := def.New(&kernel.NodeInfo{Node: n, Opset: 14, InputTypes: info.InputTypes, OutputTypes: info.OutputTypes,
		Consts: info.Consts})
	if err != nil {
		return nil, err
	}
	return &binary{node: n, op: op, ref: ref}, nil
}

func (k *binary) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	a, b := kernel.Input(inputs, 0), kernel.Input(inputs, 1)
	if a == nil || b == nil {
		return nil, fmt.Errorf("%s: two inputs are required", k.node.Describe())
	}
	ad, aok := a.Data.([]float32)
	bd, bok := b.Data.([]float32)
	if !aok || !bok {
		return k.ref.Run(ctx, inputs)
	}
	full, part, swapped := a, b, false
	if len(b.Shape) > len(a.Shape) || (len(b.Shape) == len(a.Shape) && kernel.ShapeSize(b.Shape) > kernel.ShapeSize(a.Shape)) {
		full, part, swapped = b, a, true
		ad, bd = bd, ad
	}
	outer, mid, inner, ok := repeatPattern(full.Shape, part.Shape)
	if !ok {
		return k.ref.Run(ctx, inputs)
	}
	out := ctx.Alloc(ir.Float, full.Shape...)
	y := out.Float32s()
	if outer*inner == 1 && len(bd) == 1 {
		// One scalar for the whole tensor: one vector loop.
		k.scalarOp(swapped)(y, ad, bd[0])
		return []*kernel.Tensor{out}, nil
	}
	threads := ctx.Parallelism()
	if inner == 1 {
		// A scalar per run of mid elements (a per-channel operand of channels-first data).
		op := k.scalarOp(swapped)
		linalg.ForCost(threads, outer, mid, func(o int) {
			op(y[o*mid:(o+1)*mid], ad[o*mid:(o+1)*mid], bd[o])
		})
		return []*kernel.Tensor{out}, nil
	}
	if bc := k.broadcastOp(); bc != nil {
		// One row of the operand for mid rows of the other (a per-channel operand of
		// channels-last data): one call per chunk of rows, not per row.
		size, chunks := linalg.Chunks(mid, 4*threads, max(1, (16<<10)/inner))
		linalg.ForCost(threads, outer*chunks, size*inner, func(job int) {
			o, c := job/chunks, job%chunks
			lo, hi := (o*mid+c*size)*inner, (o*mid+min(mid, (c+1)*size))*inner
			bc(y[lo:hi], ad[lo:hi], bd[o*inner:(o+1)*inner])
		})
		return []*kernel.Tensor{out}, nil
	}
	apply := k.vectorOp(swapped)
	if inner < 16 {
		// Short rows: a loop per element beats a vector call per row.
		for j := 0; j < outer*mid; j++ {
			o := j / mid
			apply(y[j*inner:(j+1)*inner], ad[j*inner:(j+1)*inner], bd[o*inner:(o+1)*inner])
		}
		return []*kernel.Tensor{out}, nil
	}
	linalg.ForCost(threads, outer*mid, inner, func(j int) {
		o := j / mid
		dst := y[j*inner : (j+1)*inner]
		apply(dst, ad[j*inner:(j+1)*inner], bd[o*inner:(o+1)*inner])
	})
	return []*kernel.Tensor{out}, nil
}

// scalarOp returns dst = a op s (s op a when swapped).
func (k *binary) scalarOp(swapped bool) func(dst, a []float32, s float32) {
	switch {
	case k.op == "Add":
		return func(dst, a []float32, s float32) { linalg.AddScalar(dst, a, s) }
	case k.op == "Mul":
		return func(dst, a []float32, s float32) { linalg.MulScalar(dst, a, s) }
	case k.op == "Sub" && !swapped:
		return func(dst, a []float32, s float32) { linalg.AddScalar(dst, a, -s) }
	case k.op == "Sub":
		return func(dst, a []float32, s float32) {
			for i, v := range a {
				dst[i] = s - v
			}
		}
	case !swapped:
		return func(dst, a []float32, s float32) {
			for i, v := range a {
				dst[i] = v / s
			}
		}
	}
	return func(dst, a []float32, s float32) {
		for i, v := range a {
			dst[i] = s / v
		}
	}
}

// repeatPattern reports whether part, right-aligned against full's shape, equals full
// with one run of consecutive axes set to 1 (and possibly fewer leading axes): then full
// is outer×mid×inner and part is outer×inner, repeated mid times.
func repeatPattern(full, part []int64) (outer, mid, inner int, ok bool) {
	if len(part) > len(full) {
		return 0, 0, 0, false
	}
	pad := len(full) - len(part)
	dim := func(i int) int64 { // part's size on full's axis i
		if i < pad {
			return 1
		}
		return part[i-pad]
	}
	// Axes from the end while part matches full: the inner run.
	i := len(full) - 1
	inner = 1
	for ; i >= 0 && dim(i) == full[i]; i-- {
		inner *= int(full[i])
	}
	mid = 1
	for ; i >= 0 && dim(i) == 1; i-- {
		mid *= int(full[i])
	}
	outer = 1
	for ; i >= 0; i-- {
		if dim(i) != full[i] {
			return 0, 0, 0, false
		}
		outer *= int(full[i])
	}
	return outer, mid, inner, true
}

// broadcastOp returns, for the commutative operators, dst = a op row on every row of a
// (linalg's broadcasts), or nil.
func (k *binary) broadcastOp() func(dst, a, row []float32) {
	switch k.op {
	case "Add":
		return linalg.AddBroadcast
	case "Mul":
		return linalg.MulBroadcast
	}
	return nil
}

// vectorOp returns dst = a op b over equal-length slices; with swapped, a and b are the
// operands in reverse order (b is the node's first input).
func (k *binary) vectorOp(swapped bool) func(dst, a, b []float32) {
	switch {
	case k.op == "Add":
		return func(dst, a, b []float32) { copy(dst, a); linalg.AddTo(dst, b) }
	case k.op == "Mul":
		return func(dst, a, b []float32) { copy(dst, a); linalg.MulTo(dst, b) }
	case k.op == "Sub" && !swapped:
		return func(dst, a, b []float32) {
			for i := range dst {
				dst[i] = a[i] - b[i]
			}
		}
	case k.op == "Sub":
		return func(dst, a, b []float32) {
			for i := range dst {
				dst[i] = b[i] - a[i]
			}
		}
	case !swapped:
		return func(dst, a, b []float32) {
			for i := range dst {
				dst[i] = a[i] / b[i]
			}
		}
	}
	return func(dst, a, b []float32) {
		for i := range dst {
			dst[i] = b[i] / a[i]
		}
	}
}
