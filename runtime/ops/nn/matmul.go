package nn

import (
	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "Gemm", SinceVersion: 1, Types: floatTypes, New: newGemm},
		kernel.KernelDef{Op: "MatMul", SinceVersion: 1, Types: floatTypes, New: newMatMul},
	)
}

type gemmKernel struct {
	node           *ir.Node
	transA, transB bool
	alpha, beta    float32
}

func newGemm(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	return &gemmKernel{node: n, transA: n.AttrInt("transA", 0) != 0, transB: n.AttrInt("transB", 0) != 0,
		alpha: n.AttrFloat("alpha", 1), beta: n.AttrFloat("beta", 1)}, nil
}

func (k *gemmKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	a, b, c := kernel.Input(inputs, 0), kernel.Input(inputs, 1), kernel.Input(inputs, 2)
	if a == nil || b == nil {
		return nil, opErr(k.node, "inputs A and B are required")
	}
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		return nil, opErr(k.node, "A %v and B %v must be matrices", a.Shape, b.Shape)
	}
	m, ka := int(a.Shape[0]), int(a.Shape[1])
	if k.transA {
		m, ka = ka, m
	}
	kb, n := int(b.Shape[0]), int(b.Shape[1])
	if k.transB {
		kb, n = n, kb
	}
	if ka != kb {
		return nil, opErr(k.node, "inner dimensions differ: A %v, B %v (transA=%v, transB=%v)", a.Shape, b.Shape, k.transA, k.transB)
	}
	ad, err := asF32(a)
	if err != nil {
		return nil, opErr(k.node, "A: %w", err)
	}
	bd, err := asF32(b)
	if err != nil {
		return nil, opErr(k.node, "B: %w", err)
	}
	out := allocOut(ctx, a.DType, int64(m), int64(n))
	beta := k.beta
	if c != nil && beta != 0 {
		cd, err := expandTrailing(c, []int64{int64(m), int64(n)})
		if err != nil {
			return nil, opErr(k.node, "C: %w", err)
		}
		copy(out.Buf, cd)
	} else {
		beta = 0
	}
	lda, ldb := int(a.Shape[1]), int(b.Shape[1])
	linalg.Sgemm(ctx.Parallelism(), k.transA, k.transB, m, n, ka, k.alpha, ad, lda, bd, ldb, beta, out.Buf, n)
	return []*kernel.Tensor{out.Done()}, nil
}

type matMulKernel struct {
	node *ir.Node
}

func newMatMul(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return &matMulKernel{node: info.Node}, nil
}

func (k *matMulKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	a, b := kernel.Input(inputs, 0), kernel.Input(inputs, 1)
	if a == nil || b == nil {
		return nil, opErr(k.node, "inputs A and B are required")
	}
	ad, err := asF32(a)
	if err != nil {
		return nil, opErr(k.node, "A: %w", err)
	}
	bd, err := asF32(b)
	if err != nil {
		return nil, opErr(k.node, "B: %w", err)
	}
	plan, err := planMatMul(a.Shape, b.Shape)
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	out := allocOut(ctx, a.DType, plan.outShape...)
	plan.run(ctx.Parallelism(), ad, bd, out.Buf)
	return []*kernel.Tensor{out.Done()}, nil
}

// matMulPlan is numpy.matmul for given shapes: 1-D operands are promoted (a row vector for
// A, a column vector for B) and the promoted axis is dropped from the result; batch axes
// broadcast.
type matMulPlan struct {
	m, n, k    int
	batch      int
	aOff, bOff []int // element offset of each batch's matrix in A and B
	outShape   []int64
}

func planMatMul(as, bs []int64) (*matMulPlan, error) {
	if len(as) == 0 || len(bs) == 0 {
		return nil, errorf("MatMul operands must not be scalars (A %v, B %v)", as, bs)
	}
	a, b := append([]int64(nil), as...), append([]int64(nil), bs...)
	aVec, bVec := len(a) == 1, len(b) == 1
	if aVec {
		a = []int64{1, a[0]}
	}
	if bVec {
		b = []int64{b[0], 1}
	}
	p := &matMulPlan{m: int(a[len(a)-2]), k: int(a[len(a)-1]), n: int(b[len(b)-1])}
	if int(b[len(b)-2]) != p.k {
		return nil, errorf("inner dimensions differ: A %v, B %v", as, bs)
	}
	ab, bb := a[:len(a)-2], b[:len(b)-2]
	rank := max(len(ab), len(bb))
	batchShape := make([]int64, rank)
	aStr, bStr := make([]int, rank), make([]int, rank)
	sa, sb := p.m*p.k, p.k*p.n
	for i := rank - 1; i >= 0; i-- {
		da, db := int64(1), int64(1)
		if j := i - (rank - len(ab)); j >= 0 {
			da = ab[j]
		}
		if j := i - (rank - len(bb)); j >= 0 {
			db = bb[j]
		}
		switch {
		case da == db:
			batchShape[i] = da
		case da == 1:
			batchShape[i] = db
		case db == 1:
			batchShape[i] = da
		default:
			return nil, errorf("batch dimensions of A %v and B %v do not broadcast", as, bs)
		}
		if da != 1 {
			aStr[i] = sa
		}
		if db != 1 {
			bStr[i] = sb
		}
		sa *= int(da)
		sb *= int(db)
	}
	p.outShape = append([]int64(nil), batchShape...)
	if !aVec {
		p.outShape = append(p.outShape, int64(p.m))
	}
	if !bVec {
		p.outShape = append(p.outShape, int64(p.n))
	}
	// The batch count comes from shapes that empty operands may set to anything: the
	// per-batch offsets are built only for an output with elements (whose allocation,
	// after the plan, reports a count that overflows), and weighed like the output.
	if n, err := ir.NumElements(p.outShape); err != nil || n == 0 {
		return p, nil // batch 0: run computes nothing
	}
	p.batch = kernel.ShapeSize(batchShape)
	var err error
	if p.aOff, err = kernel.MakeScratch[int](p.batch); err != nil {
		return nil, err
	}
	if p.bOff, err = kernel.MakeScratch[int](p.batch); err != nil {
		return nil, err
	}
	od := newOdometer(toInts(batchShape))
	for i := 0; i < p.batch; i++ {
		ao, bo := 0, 0
		for d, v := range od.idx {
			ao += v * aStr[d]
			bo += v * bStr[d]
		}
		p.aOff[i], p.bOff[i] = ao, bo
		od.next()
	}
	return p, nil
}

func (p *matMulPlan) run(threads int, a, b, c []float32) {
	mn := p.m * p.n
	// A batch whose B is shared and whose A matrices are contiguous is one tall product.
	if p.batch > 1 && p.bOff[p.batch-1] == 0 && p.aOff[p.batch-1] == (p.batch-1)*p.m*p.k {
		linalg.Sgemm(threads, false, false, p.batch*p.m, p.n, p.k, 1, a, p.k, b, p.n, 0, c, p.n)
		return
	}
	for i := 0; i < p.batch; i++ {
		linalg.Sgemm(threads, false, false, p.m, p.n, p.k, 1, a[p.aOff[i]:], p.k, b[p.bOff[i]:], p.n, 0, c[i*mn:], p.n)
	}
}
