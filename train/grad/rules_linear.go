package grad

import (
	"fmt"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	register("Gemm", ruleDef{diff: allInputs, build: withKernel(func(b *nodeBuild, k kernelFwd) (*gemmOp, error) {
		n := b.node
		return &gemmOp{kernelFwd: k, transA: n.AttrInt("transA", 0) != 0, transB: n.AttrInt("transB", 0) != 0,
			alpha: n.AttrFloat("alpha", 1), beta: n.AttrFloat("beta", 1)}, nil
	})})
	register("MatMul", ruleDef{diff: allInputs, build: withKernel(func(b *nodeBuild, k kernelFwd) (*matMulOp, error) {
		return &matMulOp{k}, nil
	})})
}

// gemmOp is Y = alpha·op(A)·op(B) + beta·C.
type gemmOp struct {
	kernelFwd
	transA, transB bool
	alpha, beta    float32
}

func (o *gemmOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	a, b := f.in[0], f.in[1]
	ad, err := floats(a)
	if err != nil {
		return err
	}
	bd, err := floats(b)
	if err != nil {
		return err
	}
	g := gout[0].Float32s()
	m, n := int(f.out[0].Shape[0]), int(f.out[0].Shape[1])
	k := int(a.Shape[1])
	if o.transA {
		k = int(a.Shape[0])
	}
	lda, ldb := int(a.Shape[1]), int(b.Shape[1])
	if c.needGrad[0] {
		ga := newGrad(c, a.Shape)
		if !o.transA {
			// dA (m×k) = alpha·dY·op(B)ᵀ.
			sgemm(c.threads, false, !o.transB, m, k, n, o.alpha, g, n, bd, ldb, 0, ga.Float32s(), k)
		} else {
			// dA (k×m) = alpha·op(B)·dYᵀ.
			sgemm(c.threads, o.transB, true, k, m, n, o.alpha, bd, ldb, g, n, 0, ga.Float32s(), m)
		}
		gin[0] = ga
	}
	if c.needGrad[1] {
		gb := newGrad(c, b.Shape)
		if !o.transB {
			// dB (k×n) = alpha·op(A)ᵀ·dY.
			sgemm(c.threads, !o.transA, false, k, n, m, o.alpha, ad, lda, g, n, 0, gb.Float32s(), n)
		} else {
			// dB (n×k) = alpha·dYᵀ·op(A).
			sgemm(c.threads, true, o.transA, n, k, m, o.alpha, g, n, ad, lda, 0, gb.Float32s(), k)
		}
		gin[1] = gb
	}
	if len(f.in) > 2 && f.in[2] != nil && c.needGrad[2] {
		gin[2] = sumTo(c, g, f.out[0].Shape, f.in[2].Shape, o.beta)
	}
	return nil
}

// matMulOp is numpy's matmul: 1-D operands are promoted, batch axes broadcast.
type matMulOp struct{ kernelFwd }

func (matMulOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	a, b := f.in[0], f.in[1]
	ad, err := floats(a)
	if err != nil {
		return err
	}
	bd, err := floats(b)
	if err != nil {
		return err
	}
	pl, err := planBatchedMatMul(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	g := gout[0].Float32s()
	m, n, k := pl.m, pl.n, pl.k
	if c.needGrad[0] {
		ga := newZeroGrad(c, a.Shape)
		gad := ga.Float32s()
		if pl.sharedB() {
			// One tall product: every batch of A meets the same B.
			sgemm(c.threads, false, true, pl.batch*m, k, n, 1, g, n, bd, n, 0, gad, k)
		} else {
			for i := 0; i < pl.batch; i++ {
				// dA_i += dY_i·B_iᵀ (batches of A that were broadcast accumulate).
				sgemm(c.threads, false, true, m, k, n, 1, g[i*m*n:], n, bd[pl.bOff[i]:], n, 1, gad[pl.aOff[i]:], k)
			}
		}
		gin[0] = ga
	}
	if c.needGrad[1] {
		gb := newZeroGrad(c, b.Shape)
		gbd := gb.Float32s()
		if pl.sharedB() {
			// dB = Σ_i A_iᵀ·dY_i, one product over the stacked batches.
			sgemm(c.threads, true, false, k, n, pl.batch*m, 1, ad, k, g, n, 0, gbd, n)
		} else {
			for i := 0; i < pl.batch; i++ {
				sgemm(c.threads, true, false, k, n, m, 1, ad[pl.aOff[i]:], k, g[i*m*n:], n, 1, gbd[pl.bOff[i]:], n)
			}
		}
		gin[1] = gb
	}
	return nil
}

// batchedMatMul places the matrices of a broadcast batched matmul: batch i multiplies the
// m×k matrix of A at aOff[i] by the k×n matrix of B at bOff[i] into output matrix i.
type batchedMatMul struct {
	m, n, k, batch int
	aOff, bOff     []int
}

// sharedB reports that B is one matrix for all batches and A's batches are contiguous.
func (p *batchedMatMul) sharedB() bool {
	for i := 0; i < p.batch; i++ {
		if p.bOff[i] != 0 || p.aOff[i] != i*p.m*p.k {
			return false
		}
	}
	return true
}

func planBatchedMatMul(as, bs []int64) (*batchedMatMul, error) {
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("MatMul operands must not be scalars (A %v, B %v)", as, bs)
	}
	// A 1-D operand is a row (A) or column (B) vector; its promoted axis has size 1.
	a, b := as, bs
	if len(a) == 1 {
		a = []int64{1, a[0]}
	}
	if len(b) == 1 {
		b = []int64{b[0], 1}
	}
	p := &batchedMatMul{m: int(a[len(a)-2]), k: int(a[len(a)-1]), n: int(b[len(b)-1])}
	if int(b[len(b)-2]) != p.k {
		return nil, fmt.Errorf("inner dimensions differ: A %v, B %v", as, bs)
	}
	batchA, batchB := a[:len(a)-2], b[:len(b)-2]
	batch, err := kernel.BroadcastShapes(batchA, batchB)
	if err != nil {
		return nil, fmt.Errorf("batch dimensions of A %v and B %v do not broadcast", as, bs)
	}
	p.batch = shapeSize(batch)
	p.aOff, p.bOff = make([]int, 0, p.batch), make([]int, 0, p.batch)
	if p.batch == 0 {
		return p, nil
	}
	// Batch strides in units of whole matrices, 0 along broadcast axes.
	sa, sb := kernel.BroadcastStrides(batchA, batch), kernel.BroadcastStrides(batchB, batch)
	walkRows(batch, [][]int64{sa, sb}, func(_, cnt int, offs, steps []int) {
		for j := 0; j < cnt; j++ {
			p.aOff = append(p.aOff, (offs[0]+j*steps[0])*p.m*p.k)
			p.bOff = append(p.bOff, (offs[1]+j*steps[1])*p.k*p.n)
		}
	})
	return p, nil
}
