package fused

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

func init() {
	float := []ir.DataType{ir.Float}
	kernel.Register(
		kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpLayerNorm, SinceVersion: 1, Types: float, New: newLayerNorm},
		kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpSoftmax, SinceVersion: 1, Types: float, New: newSoftmax},
	)
}

// rowKernel runs fn on each row (the last axis) of a float input, into a new output.
func rowKernel(ctx *kernel.Context, node *ir.Node, x *kernel.Tensor, fn func(dst, src []float32)) ([]*kernel.Tensor, error) {
	return rowBlocks(ctx, node, x, func(int) int { return 1 }, func(dst, src []float32, _ int) { fn(dst, src) })
}

// rowBlocks runs fn on blocks of perBlock(n) whole rows of n values (the last axis) of a
// float input, into a new output; the last block may be shorter.
func rowBlocks(ctx *kernel.Context, node *ir.Node, x *kernel.Tensor, perBlock func(n int) int, fn func(dst, src []float32, n int)) ([]*kernel.Tensor, error) {
	xd, ok := x.Data.([]float32)
	if !ok || len(x.Shape) == 0 {
		return nil, fmt.Errorf("%s: X %v: want a float tensor of rank 1 or more", node.Describe(), shapeOf(x))
	}
	n := int(x.Shape[len(x.Shape)-1])
	out := ctx.Alloc(ir.Float, x.Shape...)
	y := out.Float32s()
	if n == 0 {
		return []*kernel.Tensor{out}, nil
	}
	rows := len(xd) / n
	per := perBlock(n)
	linalg.ForCost(ctx.Parallelism(), (rows+per-1)/per, per*8*n, func(b int) {
		r0, r1 := b*per, min(rows, (b+1)*per)
		fn(y[r0*n:r1*n], xd[r0*n:r1*n], n)
	})
	return []*kernel.Tensor{out}, nil
}

// layerNorm normalises each row to zero mean and unit variance (float32 sums), then
// scales and shifts it.
type layerNorm struct {
	node        *ir.Node
	scale, bias []float32
	eps         float32
}

func newLayerNorm(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	if len(info.Consts) < 2 || info.Consts[1] == nil {
		return nil, fmt.Errorf("%s: the scale must be constant", n.Describe())
	}
	k := &layerNorm{node: n, eps: n.AttrFloat("epsilon", 1e-5)}
	var ok bool
	if k.scale, ok = info.Consts[1].Data.([]float32); !ok {
		return nil, fmt.Errorf("%s: the scale must be float", n.Describe())
	}
	if len(info.Consts) > 2 && info.Consts[2] != nil {
		if k.bias, ok = info.Consts[2].Data.([]float32); !ok || len(k.bias) != len(k.scale) {
			return nil, fmt.Errorf("%s: the bias must be float of the scale's size", n.Describe())
		}
	}
	return k, nil
}

func (k *layerNorm) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || len(x.Shape) == 0 || int(x.Shape[len(x.Shape)-1]) != len(k.scale) {
		return nil, fmt.Errorf("%s: X %v: want a last axis of %d", k.node.Describe(), shapeOf(x), len(k.scale))
	}
	return rowKernel(ctx, k.node, x, func(dst, src []float32) {
		n := float32(len(src))
		mean := linalg.Sum(src) / n
		linalg.AddScalar(dst, src, -mean)
		variance := linalg.Dot(dst, dst) / n
		linalg.MulScalar(dst, dst, float32(1/math.Sqrt(float64(variance)+float64(k.eps))))
		linalg.MulTo(dst, k.scale)
		if k.bias != nil {
			linalg.AddTo(dst, k.bias)
		}
	})
}

// softmax computes e^(x - max) / Σ e^(x - max) along each row.
type softmax struct{ node *ir.Node }

func newSoftmax(info *kernel.NodeInfo) (kernel.Kernel, error) { return &softmax{node: info.Node}, nil }

func (k *softmax) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil {
		return nil, fmt.Errorf("%s: input X is required", k.node.Describe())
	}
	return rowBlocks(ctx, k.node, x, softmaxBlockRows, softmaxRows)
}

// softmaxBlockRows is how many rows of n values softmaxRows takes at a time: one long
// row, or short rows (attention over 17 tokens) by the block, for which four vector calls
// per row (max, subtract, exp, scale) would cost more than the row.
func softmaxBlockRows(n int) int {
	if n >= shortRow {
		return 1
	}
	return max(1, shortBlock/n)
}

// softmaxRows computes the softmax of each row of n values of src into dst: a long row
// with vector calls, a block of short rows with their maxima, sums and scaling in plain
// loops and one call of the vector exponential.
func softmaxRows(dst, src []float32, n int) {
	if n >= shortRow {
		linalg.AddScalar(dst, src, -linalg.Max(src))
		linalg.Exp(dst)
		linalg.MulScalar(dst, dst, 1/linalg.Sum(dst))
		return
	}
	for r := 0; r < len(src)/n; r++ {
		row, d := src[r*n:(r+1)*n], dst[r*n:(r+1)*n]
		m := row[0]
		for _, v := range row[1:] {
			m = max(m, v)
		}
		for i, v := range row {
			d[i] = v - m
		}
	}
	linalg.Exp(dst)
	for r := 0; r < len(dst)/n; r++ {
		d := dst[r*n : (r+1)*n]
		var s float32
		for _, v := range d {
			s += v
		}
		inv := 1 / s
		for i := range d {
			d[i] *= inv
		}
	}
}

// Rows shorter than shortRow run in blocks of about shortBlock values.
const (
	shortRow   = 48
	shortBlock = 2048
)
