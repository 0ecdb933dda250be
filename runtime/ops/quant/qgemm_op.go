package quant

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// QGemm is the private operator the QDQ rules put in place of a Gemm or MatMul whose A is
// dequantized per tensor and whose B is the DequantizeLinear of constant 8-bit weights:
//
//	QGemm(a, a_scale, a_zp, b, b_scale, b_zp[, bias, y_scale, y_zp])
//
// a is [..., M, K] (uint8 or int8); b is [K, N] ([N, K] with transB = 1) with per-tensor or
// per-column scales and zero points; bias is int32 in units of a_scale·b_scale[j]. With
// y_scale the result is requantized to y_zp's type (QLinearMatMul's arithmetic); without, it
// is float: y = float32(acc·a_scale·b_scale[j]), the accumulator's exact sum scaled once.
const OpQGemm = prepare.OpQGemm

func init() {
	kernel.Register(kernel.KernelDef{Domain: Domain, Op: OpQGemm, SinceVersion: 1, New: newQGemm})
}

type qgemmOp struct {
	node  *ir.Node
	mm    *qmatmul
	bias  []int32
	scale []float64 // float outputs: a_scale·b_scale[j]
}

func newQGemm(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	c, err := consts(info, 9)
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) (kernel.Kernel, error) {
		return nil, fmt.Errorf("%s: %s", n.Describe(), fmt.Sprintf(format, args...))
	}
	as, az, aType, err := qparams(c[1], c[2])
	if err != nil {
		return fail("%v", err)
	}
	b, bScale, bZP := c[3], c[4], c[5]
	if b == nil || bScale == nil || len(b.Shape) != 2 {
		return fail("b must be a constant 2-D tensor")
	}
	if n.AttrInt("transB", 0) != 0 {
		if b, err = transposed2D(b); err != nil {
			return fail("%v", err)
		}
		if bZP != nil && len(bZP.Shape) > 0 {
			bZP = &kernel.Tensor{DType: bZP.DType, Shape: []int64{int64(bZP.NumElements())}, Data: bZP.Data}
		}
	}
	mm, err := newQMatmul(aType, az, b, bZP)
	if err != nil {
		return fail("%v", err)
	}
	bs, err := float32s(bScale)
	if err != nil || (len(bs) != 1 && len(bs) != mm.n) {
		return fail("b_scale must have 1 or %d values", mm.n)
	}
	k := &qgemmOp{node: n, mm: mm}
	if bias := c[6]; bias != nil {
		bd, ok := bias.Data.([]int32)
		if !ok || len(bd) != mm.n {
			return fail("bias must be %d int32 values", mm.n)
		}
		k.bias = bd
	}
	if c[7] == nil {
		k.scale = make([]float64, mm.n)
		for j := range k.scale {
			k.scale[j] = float64(as * bs[min(j, len(bs)-1)])
		}
		return k, nil
	}
	ys, yz, yType, err := qparams(c[7], c[8])
	if err != nil {
		return fail("%v", err)
	}
	scales := make([]float32, len(bs))
	for j, v := range bs {
		scales[j] = as * v / ys
	}
	lo, hi := typeRange(yType)
	lo, hi = actClamp(n, ys, yz, lo, hi)
	if err := mm.setRequant(scales, yType, yz, lo, hi); err != nil {
		return fail("%v", err)
	}
	return k, nil
}

// transposed2D returns the transpose of a 2-D 8-bit tensor.
func transposed2D(t *kernel.Tensor) (*kernel.Tensor, error) {
	src, ok := byteData(t)
	if !ok {
		return nil, fmt.Errorf("b has type %s, not int8 or uint8", t.DType)
	}
	r, c := int(t.Shape[0]), int(t.Shape[1])
	out := kernel.New(t.DType, int64(c), int64(r))
	dst, _ := byteData(out)
	transposeImages(src, 1, r, c, dst)
	return out, nil
}

func (k *qgemmOp) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qgemmOp) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	a := kernel.Input(inputs, 0)
	if a == nil || len(a.Shape) == 0 {
		return nil, fmt.Errorf("input a is required")
	}
	return k.mm.runBias(ctx, a, k.bias, k.scale)
}
