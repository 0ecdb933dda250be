package fused

import (
	"fmt"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

func init() {
	kernel.Register(kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpFusedGemm, SinceVersion: 1,
		Types: []ir.DataType{ir.Float}, New: newFusedGemm})
}

// unpackedMinBytes is the size from which constant weights multiplied by a handful of
// rows (linalg.GemvMaxRows, known when the session is built) are read where they lie
// rather than packed. Such a product reads each weight once or twice whatever the layout;
// packing would hold a second copy of the weights and take as long as dozens of products
// (with 128 MiB of weights at one row, under a load of 3 to 4: a product 3.6 to 6.2 ms
// packed, 4.8 to 6.8 ms unpacked, packing 170 to 330 ms; BenchmarkGemv and
// BenchmarkPackB128M in internal/linalg). A variable so that tests reach the unpacked
// path with small weights.
var unpackedMinBytes int64 = 64 << 20

// fusedGemm multiplies rows of A by weights packed when the session is built, adding the
// bias and clamping as tiles are stored; or, for large weights and few rows, by the
// weights as they are (b, with row stride ldb).
type fusedGemm struct {
	node   *ir.Node
	pb     *linalg.PackedB
	b      []float32
	ldb    int
	transB bool
	k, n   int
	bias   []float32
	alpha  float32
	act    activation
}

func newFusedGemm(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", n.Describe(), fmt.Sprintf(format, args...))
	}
	if len(info.Consts) < 2 || info.Consts[1] == nil || len(info.Consts[1].Shape) != 2 {
		return nil, fail("the weights must be a constant matrix")
	}
	b, ok := info.Consts[1].Data.([]float32)
	if !ok {
		return nil, fail("the weights must be float")
	}
	rows, cols := int(info.Consts[1].Shape[0]), int(info.Consts[1].Shape[1])
	k := &fusedGemm{node: n, alpha: n.AttrFloat("alpha", 1)}
	var err error
	if k.act, err = parseActivation(n); err != nil {
		return nil, fail("%v", err)
	}
	transB := n.AttrInt("transB", 0) != 0
	k.k, k.n = rows, cols
	if transB {
		k.k, k.n = cols, rows
	}
	if rows, ok := staticRows(info.InputTypes); ok && rows <= linalg.GemvMaxRows && 4*int64(len(b)) >= unpackedMinBytes {
		k.b, k.ldb, k.transB = b, cols, transB
	} else {
		k.pb = linalg.PackB(transB, k.k, k.n, b, cols)
	}
	if len(info.Consts) > 2 && info.Consts[2] != nil {
		bias, ok := info.Consts[2].Data.([]float32)
		if !ok || len(bias) != k.n {
			return nil, fail("bias %s: want %d floats", info.Consts[2], k.n)
		}
		k.bias = bias
	} else if len(n.Inputs()) > 2 && n.Input(2) != nil {
		return nil, fail("the bias must be constant")
	}
	return k, nil
}

func (k *fusedGemm) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	a := kernel.Input(inputs, 0)
	if a == nil || len(a.Shape) < 2 || int(a.Shape[len(a.Shape)-1]) != k.k {
		return nil, fmt.Errorf("%s: A %v: want [..., %d]", k.node.Describe(), shapeOf(a), k.k)
	}
	ad, ok := a.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("%s: A must be float", k.node.Describe())
	}
	shape := append(append([]int64(nil), a.Shape[:len(a.Shape)-1]...), int64(k.n))
	out := ctx.Alloc(ir.Float, shape...)
	y := out.Float32s()
	m := len(ad) / max(k.k, 1)
	if k.k == 0 {
		m = len(y) / max(k.n, 1)
	}
	ep := linalg.Epilogue{Alpha: k.alpha, Bias: k.bias}
	if z := kernel.Input(inputs, 3); z != nil {
		zd, ok := z.Data.([]float32)
		if !ok || len(zd) != len(y) {
			return nil, fmt.Errorf("%s: Z %v does not match Y %v", k.node.Describe(), shapeOf(z), shape)
		}
		ep.Z, ep.LDZ = zd, k.n
	}
	lo, hi, clamp := k.act.clamp()
	ep.Clamp, ep.Lo, ep.Hi = clamp, lo, hi
	if k.k == 0 {
		// An empty product: the result is the bias (and the activation of it).
		for i := 0; i < m; i++ {
			row := y[i*k.n : (i+1)*k.n]
			clear(row)
			if k.bias != nil {
				copy(row, k.bias)
			}
			if ep.Z != nil {
				linalg.AddTo(row, ep.Z[i*k.n:])
			}
		}
		k.act.apply(y)
		return []*kernel.Tensor{out}, nil
	}
	if k.pb == nil {
		linalg.MulUnpacked(ctx.Parallelism(), m, k.k, k.n, ad, k.k, k.transB, k.b, k.ldb, y, k.n, &ep)
	} else {
		k.pb.Mul(ctx.Parallelism(), m, ad, linalg.RowsOf{LD: k.k, KC: k.k}, y, k.n, &ep)
	}
	if k.act.kind != "" && !clamp {
		k.act.apply(y)
	}
	return []*kernel.Tensor{out}, nil
}

// staticRows returns the number of rows of A (every axis but the last) when its type
// fixes them.
func staticRows(types []*ir.Type) (int64, bool) {
	if len(types) == 0 || types[0] == nil || types[0].Kind != ir.TensorKind || !types[0].HasShape || len(types[0].Dims) < 2 {
		return 0, false
	}
	rows := int64(1)
	for _, d := range types[0].Dims[:len(types[0].Dims)-1] {
		if !d.IsKnown() || d.Value < 0 {
			return 0, false
		}
		rows *= d.Value
		if rows > linalg.GemvMaxRows {
			return rows, true // large enough to know the answer; no overflow
		}
	}
	return rows, true
}
