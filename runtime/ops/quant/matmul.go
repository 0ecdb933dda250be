package quant

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "MatMulInteger", SinceVersion: 10, New: newMatMulInteger},
		kernel.KernelDef{Op: "QLinearMatMul", SinceVersion: 10, New: newQLinearMatMul},
	)
}

// matmulShape is the numpy matmul geometry of a[..., M, K] × b[..., K, N].
type matmulShape struct {
	M, K, N  int
	batch    int
	aOff     []int // per batch element, offset of its matrix in a (broadcast)
	bOff     []int
	outShape []int64
}

func newMatmulShape(aShape, bShape []int64) (*matmulShape, error) {
	if len(aShape) == 0 || len(bShape) == 0 {
		return nil, fmt.Errorf("matmul inputs must not be scalars (shapes %v and %v)", aShape, bShape)
	}
	a, b := aShape, bShape
	dropM, dropN := false, false
	if len(a) == 1 {
		a, dropM = []int64{1, a[0]}, true
	}
	if len(b) == 1 {
		b, dropN = []int64{b[0], 1}, true
	}
	ms := &matmulShape{M: int(a[len(a)-2]), K: int(a[len(a)-1]), N: int(b[len(b)-1])}
	if int(b[len(b)-2]) != ms.K {
		return nil, fmt.Errorf("matmul shapes %v and %v do not agree on K", aShape, bShape)
	}
	aBatch, bBatch := a[:len(a)-2], b[:len(b)-2]
	batchShape, err := kernel.BroadcastShapes(aBatch, bBatch)
	if err != nil {
		return nil, err
	}
	aStr := kernel.BroadcastStrides(aBatch, batchShape)
	bStr := kernel.BroadcastStrides(bBatch, batchShape)
	ms.outShape = append([]int64{}, batchShape...)
	if !dropM {
		ms.outShape = append(ms.outShape, int64(ms.M))
	}
	if !dropN {
		ms.outShape = append(ms.outShape, int64(ms.N))
	}
	// The batch count comes from shapes that empty operands may set to anything: the
	// per-batch offsets are built only for an output with elements (whose allocation
	// reports a count that overflows), and weighed like the output. Without them batch
	// stays 0 and matmul computes nothing.
	if n, err := ir.NumElements(ms.outShape); err != nil || n == 0 {
		return ms, nil
	}
	ms.batch = kernel.ShapeSize(batchShape)
	if ms.aOff, err = kernel.MakeScratch[int](ms.batch); err != nil {
		return nil, err
	}
	if ms.bOff, err = kernel.MakeScratch[int](ms.batch); err != nil {
		return nil, err
	}
	idx := make([]int64, len(batchShape))
	for n := 0; n < ms.batch; n++ {
		var ao, bo int64
		for d := range idx {
			ao += idx[d] * aStr[d]
			bo += idx[d] * bStr[d]
		}
		ms.aOff[n] = int(ao) * ms.M * ms.K
		ms.bOff[n] = int(bo) * ms.K * ms.N
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < batchShape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return ms, nil
}

// matmul multiplies with numpy broadcasting; out has batch*M*N elements.
func matmul[T int32 | float64](ms *matmulShape, a, b, out []T) {
	M, K, N := ms.M, ms.K, ms.N
	for n := 0; n < ms.batch; n++ {
		am, bm, om := a[ms.aOff[n]:], b[ms.bOff[n]:], out[n*M*N:]
		for i := 0; i < M; i++ {
			row := om[i*N : i*N+N]
			clear(row)
			for k := 0; k < K; k++ {
				av := am[i*K+k]
				if av == 0 {
					continue
				}
				brow := bm[k*N : k*N+N]
				for j, bv := range brow {
					row[j] += av * bv
				}
			}
		}
	}
}

// expand broadcasts vals of shape to outShape (numpy rules).
func expand[T any](vals []T, shape, outShape []int64) ([]T, error) {
	if _, err := kernel.BroadcastShapes(shape, outShape); err != nil {
		return nil, err
	}
	if len(shape) > len(outShape) {
		return nil, fmt.Errorf("shape %v does not broadcast to %v", shape, outShape)
	}
	for i := range shape {
		if d := shape[len(shape)-1-i]; d != 1 && d != outShape[len(outShape)-1-i] {
			return nil, fmt.Errorf("shape %v does not broadcast to %v", shape, outShape)
		}
	}
	str := kernel.BroadcastStrides(shape, outShape)
	out, err := kernel.MakeScratchShaped[T](outShape)
	if err != nil {
		return nil, err
	}
	idx := make([]int64, len(outShape))
	for i := range out {
		var off int64
		for d := range idx {
			off += idx[d] * str[d]
		}
		out[i] = vals[off]
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < outShape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

// zeroPointShape gives a zero point its broadcast shape against an operand: a 1-D zero
// point of a (rows) becomes [M, 1]; a 1-D zero point of b (columns) already broadcasts as
// [N]; a single element is per tensor.
func zeroPointShape(zp *kernel.Tensor, operand []int64, rows bool) []int64 {
	if zp.NumElements() == 1 {
		return []int64{}
	}
	if rows && len(zp.Shape) == 1 && len(operand) >= 2 && zp.Shape[0] == operand[len(operand)-2] {
		return []int64{zp.Shape[0], 1}
	}
	return zp.Shape
}

// centered returns the operand minus its zero point, widened to int32.
func centered(x, zp *kernel.Tensor, rows bool, name string) ([]int32, error) {
	xv, err := int32s(x)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", name, err)
	}
	if x.DType != ir.Int8 && x.DType != ir.Uint8 {
		return nil, fmt.Errorf("input %s: element type %s is not int8 or uint8", name, x.DType)
	}
	if zp == nil {
		return xv, nil
	}
	if zp.DType != x.DType {
		return nil, fmt.Errorf("zero point of %s has type %s, want %s", name, zp.DType, x.DType)
	}
	zv, err := int32s(zp)
	if err != nil {
		return nil, err
	}
	full, err := expand(zv, zeroPointShape(zp, x.Shape, rows), x.Shape)
	if err != nil {
		return nil, fmt.Errorf("zero point of %s: %w", name, err)
	}
	for i := range xv {
		xv[i] -= full[i]
	}
	return xv, nil
}

// matMulInteger is MatMulInteger: int32 (A - a_zp) × (B - b_zp). With a constant 2-D B the
// product runs on the integer GEMM (matmul_fast.go); the reference loop handles the rest.
type matMulInteger struct {
	node *ir.Node
	fast *qmatmul
}

func newMatMulInteger(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return &matMulInteger{node: info.Node, fast: prepareMatMulInteger(info)}, nil
}

func (k *matMulInteger) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *matMulInteger) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if k.fast != nil && len(inputs) > 0 && inputs[0] != nil && len(inputs[0].Shape) > 0 {
		return k.fast.run(ctx, inputs[0])
	}
	return k.runReference(ctx, inputs)
}

// runReference is MatMulInteger by the reference loop.
func (k *matMulInteger) runReference(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if len(inputs) < 2 || inputs[0] == nil || inputs[1] == nil {
		return nil, fmt.Errorf("inputs A and B are required")
	}
	a, b := inputs[0], inputs[1]
	ms, err := newMatmulShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	av, err := centered(a, kernel.Input(inputs, 2), true, "A")
	if err != nil {
		return nil, err
	}
	bv, err := centered(b, kernel.Input(inputs, 3), false, "B")
	if err != nil {
		return nil, err
	}
	y := ctx.Alloc(ir.Int32, ms.outShape...)
	matmul(ms, av, bv, y.Data.([]int32))
	return y, nil
}

// qlinearMatMul is QLinearMatMul: the int32 product of the centered operands, scaled by
// a_scale*b_scale/y_scale and requantized to y's type. With constant B, scales and zero
// points it runs on the integer GEMM (matmul_fast.go); the reference loop handles the rest.
type qlinearMatMul struct {
	node *ir.Node
	fast *qmatmul
}

func newQLinearMatMul(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return &qlinearMatMul{node: info.Node, fast: prepareQLinearMatMul(info)}, nil
}

func (k *qlinearMatMul) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qlinearMatMul) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if k.fast != nil && len(inputs) > 0 && inputs[0] != nil && len(inputs[0].Shape) > 0 {
		return k.fast.run(ctx, inputs[0])
	}
	return k.runReference(ctx, inputs)
}

// runReference is QLinearMatMul by the reference loop.
func (k *qlinearMatMul) runReference(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if len(inputs) < 8 {
		return nil, fmt.Errorf("want 8 inputs, got %d", len(inputs))
	}
	for i, in := range inputs[:8] {
		if in == nil {
			return nil, fmt.Errorf("input %d is required", i)
		}
	}
	a, aScale, aZP, b, bScale, bZP, yScale, yZP := inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5], inputs[6], inputs[7]
	ms, err := newMatmulShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	mult, err := requantMultipliers(ms, aScale, bScale, yScale)
	if err != nil {
		return nil, err
	}
	y := ctx.Alloc(yZP.DType, ms.outShape...)
	n := len(mult)
	if isMiniFloat(a.DType) || isMiniFloat(b.DType) || isMiniFloat(yZP.DType) {
		return y, k.runFloat8(ms, a, aZP, b, bZP, yZP, mult, y)
	}
	av, err := centered(a, aZP, true, "a")
	if err != nil {
		return nil, err
	}
	bv, err := centered(b, bZP, false, "b")
	if err != nil {
		return nil, err
	}
	acc, err := kernel.MakeScratch[int32](y.Len()) // batch·M·N, checked by y's allocation
	if err != nil {
		return nil, err
	}
	matmul(ms, av, bv, acc)
	lo, hi, ok := intRange(yZP.DType)
	if !ok || (yZP.DType != ir.Int8 && yZP.DType != ir.Uint8) {
		return nil, fmt.Errorf("y_zero_point type %s is not int8 or uint8", yZP.DType)
	}
	if yZP.NumElements() != 1 {
		return nil, fmt.Errorf("y_zero_point must be a scalar, has shape %v", yZP.Shape)
	}
	zv, err := int32s(yZP)
	if err != nil {
		return nil, err
	}
	vals, err := kernel.MakeScratch[int64](len(acc))
	if err != nil {
		return nil, err
	}
	for i, c := range acc {
		vals[i] = saturateRound(float64(c)*mult[i%n]+float64(zv[0]), lo, hi)
	}
	return y, storeInts(yZP.DType, vals, y.Data)
}

// requantMultipliers returns a_scale*b_scale/y_scale for each (row, column) of one output
// matrix, computed in the scales' type as the reference does (float16 scales round after
// each operation). a_scale may be per row and b_scale per column.
func requantMultipliers(ms *matmulShape, aScale, bScale, yScale *kernel.Tensor) ([]float64, error) {
	as, err := float32s(aScale)
	if err != nil {
		return nil, fmt.Errorf("a_scale: %w", err)
	}
	bs, err := float32s(bScale)
	if err != nil {
		return nil, fmt.Errorf("b_scale: %w", err)
	}
	ys, err := float32s(yScale)
	if err != nil {
		return nil, fmt.Errorf("y_scale: %w", err)
	}
	if len(as) != 1 && len(as) != ms.M {
		return nil, fmt.Errorf("a_scale has %d elements, want 1 or %d (rows)", len(as), ms.M)
	}
	if len(bs) != 1 && len(bs) != ms.N {
		return nil, fmt.Errorf("b_scale has %d elements, want 1 or %d (columns)", len(bs), ms.N)
	}
	if len(ys) != 1 {
		return nil, fmt.Errorf("y_scale must be a scalar, has %d elements", len(ys))
	}
	dt := aScale.DType
	// M and N come from the operands' shapes, before the output is allocated: an empty
	// operand may set them to anything.
	mult, err := kernel.MakeScratchShaped[float64]([]int64{int64(ms.M), int64(ms.N)})
	if err != nil {
		return nil, err
	}
	for i := 0; i < ms.M; i++ {
		for j := 0; j < ms.N; j++ {
			av, bv := as[0], bs[0]
			if len(as) > 1 {
				av = as[i]
			}
			if len(bs) > 1 {
				bv = bs[j]
			}
			mult[i*ms.N+j] = float64(roundTo(dt, roundTo(dt, av*bv)/ys[0]))
		}
	}
	return mult, nil
}

// runFloat8 is QLinearMatMul over float8 operands: decoded values accumulate in float64
// and the result is encoded (saturating) in y's float8 type.
func (k *qlinearMatMul) runFloat8(ms *matmulShape, a, aZP, b, bZP, yZP *kernel.Tensor, mult []float64, y *kernel.Tensor) error {
	decode := func(x, zp *kernel.Tensor, rows bool, name string) ([]float64, error) {
		xf, err := float32s(x)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		zf, err := float32s(zp)
		if err != nil {
			return nil, fmt.Errorf("zero point of %s: %w", name, err)
		}
		full, err := expand(zf, zeroPointShape(zp, x.Shape, rows), x.Shape)
		if err != nil {
			return nil, fmt.Errorf("zero point of %s: %w", name, err)
		}
		out, err := kernel.MakeScratch[float64](len(xf))
		if err != nil {
			return nil, err
		}
		for i := range xf {
			out[i] = float64(xf[i]) - float64(full[i])
		}
		return out, nil
	}
	av, err := decode(a, aZP, true, "a")
	if err != nil {
		return err
	}
	bv, err := decode(b, bZP, false, "b")
	if err != nil {
		return err
	}
	if !isMiniFloat(yZP.DType) {
		return fmt.Errorf("y_zero_point type %s must be a float8 type when a or b is", yZP.DType)
	}
	zf, err := float32s(yZP)
	if err != nil {
		return err
	}
	if len(zf) != 1 {
		return fmt.Errorf("y_zero_point must be a scalar, has shape %v", yZP.Shape)
	}
	acc, err := kernel.MakeScratch[float64](y.Len()) // batch·M·N, checked by y's allocation
	if err != nil {
		return err
	}
	matmul(ms, av, bv, acc)
	out := y.Data.([]uint8)
	for i, c := range acc {
		v := c*mult[i%len(mult)] + float64(zf[0])
		if math.IsInf(v, 0) || v > math.MaxFloat32 || v < -math.MaxFloat32 {
			v = math.Copysign(math.Inf(1), v)
		}
		out[i] = kernel.Float32ToFloat8(yZP.DType, float32(v), true)
	}
	return nil
}
