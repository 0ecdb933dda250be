package quant

import (
	"fmt"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// qmatmul is a prepared integer matrix product A[..., M, K] × B[K, N] with a constant 2-D B
// (the weights of a MatMulInteger or QLinearMatMul): B is packed once for linalg.QGemm and
// A's rows, batch dimensions included, are one tall matrix.
type qmatmul struct {
	k, n    int
	aSigned bool
	aZero   int32 // in A's own type
	pb      *linalg.QMatrixB
	rq      *linalg.QRequant // nil: int32 outputs (MatMulInteger)
	yType   ir.DataType
}

// newQMatmul packs b (int8 or uint8 [K, N]) with its zero point (nil, scalar or per column).
func newQMatmul(aType ir.DataType, aZero int32, b, bZero *kernel.Tensor) (*qmatmul, error) {
	if aType != ir.Uint8 && aType != ir.Int8 {
		return nil, fmt.Errorf("A has type %s", aType)
	}
	if len(b.Shape) != 2 || (b.DType != ir.Int8 && b.DType != ir.Uint8) {
		return nil, fmt.Errorf("B %s is not a 2-D int8 or uint8 matrix", b)
	}
	k, n := int(b.Shape[0]), int(b.Shape[1])
	bv, err := int32s(b)
	if err != nil {
		return nil, err
	}
	shift := int32(0)
	if b.DType == ir.Uint8 {
		shift = 128 // uint8 weights and their zero points move to int8 together
	}
	w := make([]int8, len(bv))
	for i, v := range bv {
		w[i] = int8(v - shift)
	}
	var zp []int8
	if bZero != nil {
		z, err := int32s(bZero)
		if err != nil || bZero.DType != b.DType || (len(z) != 1 && len(z) != n) {
			return nil, fmt.Errorf("B zero point %s does not fit B %s", bZero, b)
		}
		for _, v := range z {
			zp = append(zp, int8(v-shift))
		}
	} else if shift != 0 {
		zp = []int8{-128}
	}
	pb, err := linalg.PackQMatrixB(k, n, w, n, false, zp)
	if err != nil {
		return nil, err
	}
	return &qmatmul{k: k, n: n, aSigned: aType == ir.Int8, aZero: aZero, pb: pb, yType: ir.Int32}, nil
}

// setRequant makes the product's outputs 8-bit: scales[j] = a_scale·b_scale[j]/y_scale,
// clamped to [lo, hi] (the output type's range, or narrower for a folded activation).
func (q *qmatmul) setRequant(scales []float32, yType ir.DataType, yZero, lo, hi int32) error {
	if yType != ir.Uint8 && yType != ir.Int8 {
		return fmt.Errorf("output type %s is not int8 or uint8", yType)
	}
	rq, err := linalg.NewQRequant(q.n, scales, yZero, lo, hi)
	if err != nil {
		return err
	}
	q.rq, q.yType = rq, yType
	return nil
}

// run multiplies a (type and zero point as prepared) and returns the output tensor.
func (q *qmatmul) run(ctx *kernel.Context, a *kernel.Tensor) (*kernel.Tensor, error) {
	return q.runBias(ctx, a, nil, nil)
}

// runBias is run with an int32 bias per column (nil: none) added to the accumulators and,
// when scale is set, float outputs acc·scale[j] instead of the prepared output type.
func (q *qmatmul) runBias(ctx *kernel.Context, a *kernel.Tensor, bias []int32, scale []float64) (*kernel.Tensor, error) {
	want := ir.Uint8
	if q.aSigned {
		want = ir.Int8
	}
	if a.DType != want {
		return nil, fmt.Errorf("input A has type %s, its zero point %s", a.DType, want)
	}
	ms, err := newMatmulShape(a.Shape, []int64{int64(q.k), int64(q.n)})
	if err != nil {
		return nil, err
	}
	ab, _ := byteData(a)
	rows := ms.batch * ms.M
	zeroA := uint8(q.aZero)
	if q.aSigned {
		// The GEMM takes unsigned bytes: flip A's sign bits (and its zero point's) into a copy.
		flipped := linalg.GetBytes(len(ab))
		defer flipped.Release()
		for i, v := range ab {
			flipped.Buf[i] = v ^ 0x80
		}
		ab, zeroA = flipped.Buf, zeroA^0x80
	}
	outType := q.yType
	if scale != nil {
		outType = ir.Float
	}
	y := ctx.Alloc(outType, ms.outShape...)
	threads := ctx.Parallelism()
	if outType == ir.Int32 {
		linalg.QGemm(threads, rows, ab, q.k, zeroA, q.pb, bias, y.Data.([]int32), q.n)
		return y, nil
	}
	yb, _ := byteData(y)
	// Blocks of rows: the int32 tile of each stays in cache until it is converted.
	per := max(6, (32<<10)/max(q.n, 1)/6*6)
	linalg.ForCost(threads, (rows+per-1)/per, per*q.n*q.k, func(job int) {
		r0, r1 := job*per, min(rows, (job+1)*per)
		if scale == nil {
			linalg.QGemmRequant(1, r1-r0, ab[r0*q.k:], q.k, zeroA, q.pb, bias, q.rq, yb[r0*q.n:], q.n)
			return
		}
		acc := linalg.GetInt32s((r1 - r0) * q.n)
		defer acc.Release()
		linalg.QGemm(1, r1-r0, ab[r0*q.k:], q.k, zeroA, q.pb, bias, acc.Buf, q.n)
		out := y.Float32s()[r0*q.n : r1*q.n]
		for i, v := range acc.Buf {
			out[i] = float32(float64(v) * scale[i%q.n])
		}
	})
	return y, nil
}

// constInput returns info's constant for input i, whether the input is present at all,
// and whether it is usable (present and constant, or absent).
func constInput(info *kernel.NodeInfo, i int) (t *kernel.Tensor, ok bool) {
	present := i < len(info.Node.Inputs()) && info.Node.Input(i) != nil
	if !present {
		return nil, true
	}
	if i < len(info.Consts) && info.Consts[i] != nil {
		return info.Consts[i], true
	}
	return nil, false
}

// scalarZero reads a zero point that must be a single value; absent means 0.
func scalarZero(zp *kernel.Tensor) (int32, bool) {
	if zp == nil {
		return 0, true
	}
	z, err := int32s(zp)
	if err != nil || len(z) != 1 {
		return 0, false
	}
	return z[0], true
}

// elemType is the element type of input i when the session knows it.
func elemType(info *kernel.NodeInfo, i int) ir.DataType {
	if i < len(info.InputTypes) && info.InputTypes[i] != nil && info.InputTypes[i].Kind == ir.TensorKind {
		return info.InputTypes[i].Elem
	}
	return ir.Undefined
}

// prepareMatMulInteger builds the fast path of a MatMulInteger with constant B, or nil.
func prepareMatMulInteger(info *kernel.NodeInfo) *qmatmul {
	b, okB := constInput(info, 1)
	aZP, okAZ := constInput(info, 2)
	bZP, okBZ := constInput(info, 3)
	if b == nil || !okB || !okAZ || !okBZ {
		return nil
	}
	az, ok := scalarZero(aZP)
	if !ok {
		return nil
	}
	aType := elemType(info, 0)
	if aZP != nil {
		aType = aZP.DType
	}
	q, err := newQMatmul(aType, az, b, bZP)
	if err != nil {
		return nil
	}
	return q
}

// prepareQLinearMatMul builds the fast path of a QLinearMatMul with constant B, scales and
// zero points, or nil.
func prepareQLinearMatMul(info *kernel.NodeInfo) *qmatmul {
	var in [8]*kernel.Tensor
	for i := 1; i < 8; i++ {
		t, ok := constInput(info, i)
		if !ok || t == nil {
			return nil
		}
		in[i] = t
	}
	aScale, aZP, b, bScale, bZP, yScale, yZP := in[1], in[2], in[3], in[4], in[5], in[6], in[7]
	if isMiniFloat(aZP.DType) || isMiniFloat(bZP.DType) || isMiniFloat(yZP.DType) ||
		aScale.DType != ir.Float || bScale.DType != ir.Float || yScale.DType != ir.Float {
		return nil
	}
	az, ok1 := scalarZero(aZP)
	yz, ok2 := scalarZero(yZP)
	as, err1 := float32s(aScale)
	bs, err2 := float32s(bScale)
	ys, err3 := float32s(yScale)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || err3 != nil || len(as) != 1 || len(ys) != 1 {
		return nil
	}
	q, err := newQMatmul(aZP.DType, az, b, bZP)
	if err != nil || (len(bs) != 1 && len(bs) != q.n) {
		return nil
	}
	scales := make([]float32, len(bs))
	for j, v := range bs {
		scales[j] = as[0] * v / ys[0]
	}
	lo, hi := typeRange(yZP.DType)
	if q.setRequant(scales, yZP.DType, yz, lo, hi) != nil {
		return nil
	}
	return q
}
