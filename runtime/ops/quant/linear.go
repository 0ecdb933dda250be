package quant

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "QuantizeLinear", SinceVersion: 10, New: newQuantizeLinear},
		kernel.KernelDef{Op: "DequantizeLinear", SinceVersion: 10, New: newDequantizeLinear},
		kernel.KernelDef{Op: "DynamicQuantizeLinear", SinceVersion: 11, New: newDynamicQuantizeLinear},
	)
}

// granularity maps every element of x to the index of its scale and zero point.
type granularity struct {
	// The element at (o, a, i) of x viewed as [outer, axisDim, inner] uses parameter
	// o*outerStride + (a/block)*axisStride + i*innerStride.
	outer, axisDim, inner                int
	outerStride, axisStride, innerStride int
	block                                int
}

// newGranularity works out per-tensor, per-axis or blocked quantization from the shapes of
// x and its scale.
func newGranularity(xShape, scaleShape []int64, axis, blockSize int64) (*granularity, error) {
	n := 1
	for _, d := range xShape {
		n *= int(d)
	}
	sn := 1
	for _, d := range scaleShape {
		sn *= int(d)
	}
	g := &granularity{outer: 1, axisDim: n, inner: 1, block: 1}
	if blockSize <= 0 && sn == 1 {
		return g, nil // per tensor
	}
	rank := int64(len(xShape))
	if axis < -rank || axis >= rank {
		return nil, fmt.Errorf("axis %d is out of range for input rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	g.outer, g.axisDim, g.inner = 1, int(xShape[axis]), 1
	for _, d := range xShape[:axis] {
		g.outer *= int(d)
	}
	for _, d := range xShape[axis+1:] {
		g.inner *= int(d)
	}
	if blockSize <= 0 {
		if len(scaleShape) != 1 || scaleShape[0] != xShape[axis] {
			return nil, fmt.Errorf("per-axis scale of shape %v does not match dimension %d (%d) of input %v", scaleShape, axis, xShape[axis], xShape)
		}
		g.axisStride = 1
		return g, nil
	}
	// Blocked: the scale has x's shape except ceil(D/B) along axis.
	if len(scaleShape) != len(xShape) {
		return nil, fmt.Errorf("blocked scale of shape %v must have the rank of input %v", scaleShape, xShape)
	}
	for i := range xShape {
		want := xShape[i]
		if int64(i) == axis {
			want = (xShape[i] + blockSize - 1) / blockSize
		}
		if scaleShape[i] != want {
			return nil, fmt.Errorf("blocked scale of shape %v does not fit input %v with block_size %d on axis %d", scaleShape, xShape, blockSize, axis)
		}
	}
	g.block = int(blockSize)
	g.innerStride = 1
	g.axisStride = g.inner
	g.outerStride = int(scaleShape[axis]) * g.inner
	return g, nil
}

// forEach calls f(element index, parameter index) for every element of x in order.
func (g *granularity) forEach(f func(i, p int)) {
	i := 0
	for o := 0; o < g.outer; o++ {
		for a := 0; a < g.axisDim; a++ {
			base := o*g.outerStride + (a/g.block)*g.axisStride
			for in := 0; in < g.inner; in++ {
				f(i, base+in*g.innerStride)
				i++
			}
		}
	}
}

// checkSameShape checks that a zero point matches its scale; a scalar and a one-element
// tensor are both per tensor, and the backend tests mix them.
func checkSameShape(what string, a, b []int64) error {
	numel := func(s []int64) int64 {
		n := int64(1)
		for _, d := range s {
			n *= d
		}
		return n
	}
	if !kernel.SameShape(a, b) && (numel(a) != 1 || numel(b) != 1) {
		return fmt.Errorf("%s shape %v differs from scale shape %v", what, a, b)
	}
	return nil
}

// quantizeLinear is QuantizeLinear at any opset: y = saturate(round(x / scale) + zp).
type quantizeLinear struct {
	node        *ir.Node
	axis        int64
	blockSize   int64
	saturate    bool
	outputDType ir.DataType // 0: from the zero point, else uint8
	precision   ir.DataType // 0: the scale's type
}

func newQuantizeLinear(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &quantizeLinear{
		node:        n,
		axis:        n.AttrInt("axis", 1),
		blockSize:   n.AttrInt("block_size", 0),
		saturate:    n.AttrInt("saturate", 1) != 0,
		outputDType: ir.DataType(n.AttrInt("output_dtype", 0)),
		precision:   ir.DataType(n.AttrInt("precision", 0)),
	}
	if k.blockSize < 0 {
		return nil, fmt.Errorf("%s: block_size %d is negative", n.Describe(), k.blockSize)
	}
	if k.outputDType != 0 {
		if _, _, ok := intRange(k.outputDType); !ok && !isMiniFloat(k.outputDType) || k.outputDType == ir.Int32 {
			return nil, fmt.Errorf("%s: output_dtype %s is not a quantized type", n.Describe(), k.outputDType)
		}
	}
	switch k.precision {
	case 0, ir.Float, ir.Float16, ir.BFloat16, ir.Double:
	default:
		return nil, fmt.Errorf("%s: precision %s is not a float type", n.Describe(), k.precision)
	}
	return k, nil
}

func (k *quantizeLinear) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *quantizeLinear) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if len(inputs) >= 2 && inputs[0] != nil && inputs[1] != nil {
		if y, ok := k.runFast(ctx, inputs[0], inputs[1], kernel.Input(inputs, 2)); ok {
			return y, nil
		}
	}
	return k.runGeneral(ctx, inputs)
}

// runGeneral is every case, by the reference arithmetic.
func (k *quantizeLinear) runGeneral(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if len(inputs) < 2 || inputs[0] == nil || inputs[1] == nil {
		return nil, fmt.Errorf("inputs x and y_scale are required")
	}
	x, scale := inputs[0], inputs[1]
	var zp *kernel.Tensor
	if len(inputs) > 2 {
		zp = inputs[2]
	}
	var xs []float32
	var err error
	if x.DType == ir.Int32 {
		xi := x.Data.([]int32)
		if xs, err = kernel.MakeScratch[float32](len(xi)); err != nil {
			return nil, err
		}
		for i, v := range xi {
			xs[i] = float32(v)
		}
	} else if xs, err = float32s(x); err != nil {
		return nil, fmt.Errorf("input x: %w", err)
	}
	var ss []float32
	if scale.DType == ir.Int32 {
		si := scale.Data.([]int32)
		if ss, err = kernel.MakeScratch[float32](len(si)); err != nil {
			return nil, err
		}
		for i, v := range si {
			ss[i] = float32(v)
		}
	} else if ss, err = float32s(scale); err != nil {
		return nil, fmt.Errorf("input y_scale: %w", err)
	}
	precision := k.precision
	if precision == 0 {
		precision = scale.DType
	}
	outDT := k.outputDType
	if zp != nil {
		if outDT != 0 && outDT != zp.DType {
			return nil, fmt.Errorf("output_dtype %s differs from y_zero_point type %s", outDT, zp.DType)
		}
		outDT = zp.DType
		if err := checkSameShape("y_zero_point", zp.Shape, scale.Shape); err != nil {
			return nil, err
		}
	}
	if outDT == 0 {
		outDT = ir.Uint8
	}
	g, err := newGranularity(x.Shape, scale.Shape, k.axis, k.blockSize)
	if err != nil {
		return nil, err
	}
	y := ctx.Alloc(outDT, x.Shape...)
	quotient := func(i, p int) float64 {
		if precision == ir.Double {
			return float64(xs[i]) / float64(ss[p])
		}
		return float64(roundTo(precision, xs[i]/ss[p]))
	}
	if isMiniFloat(outDT) {
		zf, err := kernel.MakeScratch[float32](len(ss))
		if err != nil {
			return nil, err
		}
		if zp != nil {
			if zf, err = float32s(zp); err != nil {
				return nil, fmt.Errorf("input y_zero_point: %w", err)
			}
		}
		out := y.Data.([]uint8)
		g.forEach(func(i, p int) {
			out[i] = kernel.Float32ToFloat8(outDT, float32(quotient(i, p))+zf[p], k.saturate)
		})
		return y, nil
	}
	lo, hi, ok := intRange(outDT)
	if !ok || outDT == ir.Int32 {
		return nil, fmt.Errorf("output type %s is not a quantized type", outDT)
	}
	zi, err := kernel.MakeScratch[int32](len(ss))
	if err != nil {
		return nil, err
	}
	if zp != nil {
		if zi, err = int32s(zp); err != nil {
			return nil, fmt.Errorf("input y_zero_point: %w", err)
		}
	}
	vals, err := kernel.MakeScratch[int64](len(xs))
	if err != nil {
		return nil, err
	}
	g.forEach(func(i, p int) {
		// Round x/scale first, then add the integer zero point (the spec's order, which
		// differs from rounding the sum at ties).
		q := quotient(i, p)
		if q != q {
			q = 0
		}
		vals[i] = saturateRound(math.RoundToEven(q)+float64(zi[p]), lo, hi)
	})
	return y, storeInts(outDT, vals, y.Data)
}

// dequantizeLinear is DequantizeLinear at any opset: y = (x - zp) * scale.
type dequantizeLinear struct {
	node        *ir.Node
	axis        int64
	blockSize   int64
	outputDType ir.DataType
}

func newDequantizeLinear(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &dequantizeLinear{
		node:        n,
		axis:        n.AttrInt("axis", 1),
		blockSize:   n.AttrInt("block_size", 0),
		outputDType: ir.DataType(n.AttrInt("output_dtype", 0)),
	}
	switch k.outputDType {
	case 0, ir.Float, ir.Float16, ir.BFloat16:
	default:
		return nil, fmt.Errorf("%s: output_dtype %s is not float, float16 or bfloat16", n.Describe(), k.outputDType)
	}
	if k.blockSize < 0 {
		return nil, fmt.Errorf("%s: block_size %d is negative", n.Describe(), k.blockSize)
	}
	return k, nil
}

func (k *dequantizeLinear) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *dequantizeLinear) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if len(inputs) >= 2 && inputs[0] != nil && inputs[1] != nil {
		if y, ok := k.runFast(ctx, inputs[0], inputs[1], kernel.Input(inputs, 2)); ok {
			return y, nil
		}
	}
	return k.runGeneral(ctx, inputs)
}

// runGeneral is every case, by the reference arithmetic.
func (k *dequantizeLinear) runGeneral(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if len(inputs) < 2 || inputs[0] == nil || inputs[1] == nil {
		return nil, fmt.Errorf("inputs x and x_scale are required")
	}
	x, scale := inputs[0], inputs[1]
	var zp *kernel.Tensor
	if len(inputs) > 2 {
		zp = inputs[2]
	}
	if zp != nil {
		if zp.DType != x.DType {
			return nil, fmt.Errorf("x_zero_point type %s differs from x type %s", zp.DType, x.DType)
		}
		if err := checkSameShape("x_zero_point", zp.Shape, scale.Shape); err != nil {
			return nil, err
		}
	}
	ss, err := float32s(scale)
	if err != nil {
		return nil, fmt.Errorf("input x_scale: %w", err)
	}
	outDT := k.outputDType
	if outDT == 0 {
		outDT = scale.DType
		if outDT == ir.Float8E8M0 {
			outDT = ir.Float
		}
	}
	g, err := newGranularity(x.Shape, scale.Shape, k.axis, k.blockSize)
	if err != nil {
		return nil, err
	}
	res, err := kernel.MakeScratch[float32](x.Len())
	if err != nil {
		return nil, err
	}
	if isMiniFloat(x.DType) {
		xf, err := float32s(x)
		if err != nil {
			return nil, err
		}
		zf, err := kernel.MakeScratch[float32](len(ss))
		if err != nil {
			return nil, err
		}
		if zp != nil {
			if zf, err = float32s(zp); err != nil {
				return nil, fmt.Errorf("input x_zero_point: %w", err)
			}
		}
		g.forEach(func(i, p int) { res[i] = (xf[i] - zf[p]) * ss[p] })
	} else {
		xi, err := int32s(x)
		if err != nil {
			return nil, fmt.Errorf("input x: %w", err)
		}
		zi, err := kernel.MakeScratch[int32](len(ss))
		if err != nil {
			return nil, err
		}
		if zp != nil {
			if zi, err = int32s(zp); err != nil {
				return nil, fmt.Errorf("input x_zero_point: %w", err)
			}
		}
		// The difference is exact in int64 and the product is rounded once to float32.
		g.forEach(func(i, p int) { res[i] = float32(float64(int64(xi[i])-int64(zi[p])) * float64(ss[p])) })
	}
	y := ctx.Alloc(outDT, x.Shape...)
	return y, storeFloats(outDT, res, y.Data)
}

// dynamicQuantizeLinear computes a uint8 scale and zero point covering x's range (widened
// to include 0) and quantizes x with them.
type dynamicQuantizeLinear struct{ node *ir.Node }

func newDynamicQuantizeLinear(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return &dynamicQuantizeLinear{node: info.Node}, nil
}

func (k *dynamicQuantizeLinear) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(inputs) < 1 || inputs[0] == nil {
		return nil, fmt.Errorf("%s: input x is required", k.node.Describe())
	}
	x := inputs[0]
	xs, ok := x.Data.([]float32)
	if !ok || x.DType != ir.Float {
		return nil, fmt.Errorf("%s: input x must be float, got %s", k.node.Describe(), x.DType)
	}
	scale, zp := dynamicParams(xs)
	y := ctx.Alloc(ir.Uint8, x.Shape...)
	out := y.Data.([]uint8)
	for i, v := range xs {
		if scale == 0 {
			out[i] = zp
			continue
		}
		q := v / scale
		if q != q {
			q = 0
		}
		out[i] = uint8(saturateRound(math.RoundToEven(float64(q))+float64(zp), 0, 255))
	}
	ys := ctx.Alloc(ir.Float)
	ys.Data.([]float32)[0] = scale
	yz := ctx.Alloc(ir.Uint8)
	yz.Data.([]uint8)[0] = zp
	return []*kernel.Tensor{y, ys, yz}, nil
}

// dynamicParams returns DynamicQuantizeLinear's scale and zero point, computed in float32 as
// the spec's function body does. An all-zero (or empty) input gets scale 0 and zero point 0.
func dynamicParams(xs []float32) (float32, uint8) {
	var lo, hi float32 // the range always includes 0
	for _, v := range xs {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	scale := (hi - lo) / 255
	if scale == 0 || scale != scale {
		return scale, 0
	}
	zp := saturateRound(float64(0-lo/scale), 0, 255)
	return scale, uint8(zp)
}
