package quant

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "ConvInteger", SinceVersion: 10, New: newConvInteger},
		kernel.KernelDef{Op: "QLinearConv", SinceVersion: 10, New: newQLinearConv},
	)
}

// convAttrs are a Conv node's geometry attributes.
type convAttrs struct {
	autoPad     string
	dilations   []int64
	group       int64
	kernelShape []int64
	pads        []int64
	strides     []int64
}

func parseConvAttrs(n *ir.Node) (convAttrs, error) {
	a := convAttrs{
		autoPad:     n.AttrString("auto_pad", "NOTSET"),
		dilations:   n.AttrInts("dilations", nil),
		group:       n.AttrInt("group", 1),
		kernelShape: n.AttrInts("kernel_shape", nil),
		pads:        n.AttrInts("pads", nil),
		strides:     n.AttrInts("strides", nil),
	}
	switch a.autoPad {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID":
	default:
		return a, fmt.Errorf("%s: auto_pad %q is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", n.Describe(), a.autoPad)
	}
	if a.group < 1 {
		return a, fmt.Errorf("%s: group %d must be positive", n.Describe(), a.group)
	}
	return a, nil
}

// convGeom is the geometry of one N-D convolution: x [N, C, D1..Dn] with w [M, C/group,
// K1..Kn] gives y [N, M, O1..On].
type convGeom struct {
	n, c, m, group int
	in, k, out     []int
	stride, dil    []int
	padBegin       []int
	kernelSize     int // (C/group) * prod(k): one im2col column's height
	outSize        int // prod(out)
	// Set by the NHWC engine's cache (convNHWC.geometry): the 2-D input shape the geometry
	// is for, and the output shape in both layouts.
	shape            [4]int64
	nchwOut, nhwcOut []int64
}

// maxWindow bounds kernel sizes, strides, dilations and pads so that window arithmetic
// cannot overflow.
const maxWindow = 1 << 30

func newConvGeom(a convAttrs, xShape, wShape []int64) (*convGeom, error) {
	if len(xShape) < 3 || len(wShape) != len(xShape) {
		return nil, fmt.Errorf("input shape %v and weight shape %v must both have rank >= 3 and agree", xShape, wShape)
	}
	sp := len(xShape) - 2
	g := &convGeom{n: int(xShape[0]), c: int(xShape[1]), m: int(wShape[0]), group: int(a.group)}
	if g.c%g.group != 0 || g.m%g.group != 0 || int(wShape[1])*g.group != g.c {
		return nil, fmt.Errorf("channels: input %d, weight %v and group %d do not fit", g.c, wShape, g.group)
	}
	get := func(list []int64, i int, def int64, name string) (int, error) {
		if list == nil {
			return int(def), nil
		}
		if len(list) != sp {
			return 0, fmt.Errorf("%s %v must have %d entries", name, list, sp)
		}
		if list[i] < 1 || list[i] > maxWindow {
			return 0, fmt.Errorf("%s %v must be in [1, %d]", name, list, maxWindow)
		}
		return int(list[i]), nil
	}
	if a.pads != nil && len(a.pads) != 2*sp {
		return nil, fmt.Errorf("pads %v must have %d entries", a.pads, 2*sp)
	}
	g.kernelSize = int(wShape[1])
	g.outSize = 1
	for i := 0; i < sp; i++ {
		in, k := int(xShape[2+i]), int(wShape[2+i])
		if k < 1 || k > maxWindow {
			return nil, fmt.Errorf("weight shape %v: kernel sizes must be in [1, %d]", wShape, maxWindow)
		}
		if a.kernelShape != nil {
			if len(a.kernelShape) != sp || int(a.kernelShape[i]) != k {
				return nil, fmt.Errorf("kernel_shape %v does not match weight shape %v", a.kernelShape, wShape)
			}
		}
		s, err := get(a.strides, i, 1, "strides")
		if err != nil {
			return nil, err
		}
		d, err := get(a.dilations, i, 1, "dilations")
		if err != nil {
			return nil, err
		}
		span := (k-1)*d + 1
		var pb, pe, out int
		switch a.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out = (in + s - 1) / s
			total := max(0, (out-1)*s+span-in)
			pb = total / 2
			if a.autoPad == "SAME_LOWER" {
				pb = total - total/2
			}
			pe = total - pb
		case "VALID":
			out = (in-span)/s + 1
		default:
			if a.pads != nil {
				pb, pe = int(a.pads[i]), int(a.pads[sp+i])
				if pb < 0 || pe < 0 || pb > maxWindow || pe > maxWindow {
					return nil, fmt.Errorf("pads %v must be in [0, %d]", a.pads, maxWindow)
				}
			}
			out = (in+pb+pe-span)/s + 1
		}
		if in+pb+pe < span {
			// ONNX defines no output here; an empty one would flow on silently.
			return nil, fmt.Errorf("spatial axis %d: the input has size %d (%d with padding), smaller than the window (%d): the output would be empty", i, in, in+pb+pe, span)
		}
		g.in, g.k, g.out = append(g.in, in), append(g.k, k), append(g.out, max(out, 0))
		g.stride, g.dil, g.padBegin = append(g.stride, s), append(g.dil, d), append(g.padBegin, pb)
		g.kernelSize *= k
		g.outSize *= max(out, 0)
	}
	return g, nil
}

func (g *convGeom) outShape() []int64 {
	s := []int64{int64(g.n), int64(g.m)}
	for _, o := range g.out {
		s = append(s, int64(o))
	}
	return s
}

// im2col fills col ([kernelSize × outSize], row-major) from the channels [c0, c0+C/group)
// of image nImg of x: col[(ci, kpos)][opos] is the input under kernel position kpos when
// the kernel sits at output position opos, or 0 where that falls in the padding (x is
// already centered, so 0 is the zero point).
func (g *convGeom) im2col(x []int32, nImg, c0 int, col []int32) {
	sp := len(g.in)
	inPlane := 1
	for _, d := range g.in {
		inPlane *= d
	}
	cg := g.c / g.group
	kpos := make([]int, sp)
	opos := make([]int, sp)
	row := 0
	for ci := 0; ci < cg; ci++ {
		plane := x[(nImg*g.c+c0+ci)*inPlane:]
		clear(kpos)
		for {
			dst := col[row*g.outSize : (row+1)*g.outSize]
			clear(opos)
			for o := range dst {
				off, inside := 0, true
				for d := 0; d < sp; d++ {
					p := opos[d]*g.stride[d] - g.padBegin[d] + kpos[d]*g.dil[d]
					if p < 0 || p >= g.in[d] {
						inside = false
						break
					}
					off = off*g.in[d] + p
				}
				if inside {
					dst[o] = plane[off]
				} else {
					dst[o] = 0
				}
				odometer(opos, g.out)
			}
			row++
			if !odometer(kpos, g.k) {
				break
			}
		}
	}
}

// odometer advances idx within dims (last fastest); false when it wraps to all zeros.
func odometer(idx, dims []int) bool {
	for d := len(idx) - 1; d >= 0; d-- {
		if idx[d]++; idx[d] < dims[d] {
			return true
		}
		idx[d] = 0
	}
	return false
}

// convInt32 computes the int32 convolution of centered x and w (with optional int32 bias),
// writing acc [N, M, prod(out)].
func (g *convGeom) convInt32(x, w, bias []int32, acc []int32) error {
	if len(acc) == 0 {
		// Nothing to compute; with no output channels the image and group loops below
		// would still fill the column buffer of every image, which may be any number.
		return nil
	}
	// The column buffer is the input replicated once per kernel tap: weigh it.
	col, err := kernel.MakeScratchShaped[int32]([]int64{int64(g.kernelSize), int64(g.outSize)})
	if err != nil {
		return err
	}
	mg := g.m / g.group
	for nImg := 0; nImg < g.n; nImg++ {
		for gi := 0; gi < g.group; gi++ {
			g.im2col(x, nImg, gi*(g.c/g.group), col)
			for mi := 0; mi < mg; mi++ {
				m := gi*mg + mi
				dst := acc[(nImg*g.m+m)*g.outSize : (nImg*g.m+m+1)*g.outSize]
				var b int32
				if bias != nil {
					b = bias[m]
				}
				for o := range dst {
					dst[o] = b
				}
				wrow := w[m*g.kernelSize : (m+1)*g.kernelSize]
				for kk, wv := range wrow {
					if wv == 0 {
						continue
					}
					src := col[kk*g.outSize : (kk+1)*g.outSize]
					for o, xv := range src {
						dst[o] += wv * xv
					}
				}
			}
		}
	}
	return nil
}

// centerX subtracts x's per-tensor zero point; centerW subtracts w's per-tensor or
// per-output-channel zero point.
func centerX(x, zp *kernel.Tensor) ([]int32, error) {
	if x.DType != ir.Int8 && x.DType != ir.Uint8 {
		return nil, fmt.Errorf("input x: element type %s is not int8 or uint8", x.DType)
	}
	xv, err := int32s(x)
	if err != nil {
		return nil, err
	}
	if zp == nil {
		return xv, nil
	}
	if zp.DType != x.DType || zp.NumElements() != 1 {
		return nil, fmt.Errorf("x zero point must be a %s scalar, got %s", x.DType, zp)
	}
	z, err := int32s(zp)
	if err != nil {
		return nil, err
	}
	for i := range xv {
		xv[i] -= z[0]
	}
	return xv, nil
}

func centerW(w, zp *kernel.Tensor) ([]int32, error) {
	if w.DType != ir.Int8 && w.DType != ir.Uint8 {
		return nil, fmt.Errorf("input w: element type %s is not int8 or uint8", w.DType)
	}
	wv, err := int32s(w)
	if err != nil {
		return nil, err
	}
	if zp == nil {
		return wv, nil
	}
	m := int(w.Shape[0])
	if zp.DType != w.DType || (zp.NumElements() != 1 && zp.NumElements() != m) {
		return nil, fmt.Errorf("w zero point must be a %s scalar or have %d elements, got %s", w.DType, m, zp)
	}
	z, err := int32s(zp)
	if err != nil {
		return nil, err
	}
	per := len(wv) / max(m, 1)
	for i := range wv {
		if len(z) == 1 {
			wv[i] -= z[0]
		} else {
			wv[i] -= z[i/per]
		}
	}
	return wv, nil
}

// convInteger is ConvInteger: the int32 convolution of (x - x_zp) and (w - w_zp). With
// constant weights and zero points a 2-D convolution runs on the NHWC engine.
type convInteger struct {
	node  *ir.Node
	attrs convAttrs
	fast  *convNHWC
}

func newConvInteger(info *kernel.NodeInfo) (kernel.Kernel, error) {
	a, err := parseConvAttrs(info.Node)
	if err != nil {
		return nil, err
	}
	k := &convInteger{node: info.Node, attrs: a}
	if spec, ok := convIntegerSpec(info, a); ok {
		if k.fast, err = newConvNHWC(spec); err != nil {
			return nil, fmt.Errorf("%s: %w", info.Node.Describe(), err)
		}
	}
	return k, nil
}

// convIntegerSpec reads a ConvInteger's constant weights and zero points into a spec.
func convIntegerSpec(info *kernel.NodeInfo, a convAttrs) (qconvSpec, bool) {
	w, okW := constInput(info, 1)
	xZP, okX := constInput(info, 2)
	wZP, okWZ := constInput(info, 3)
	if w == nil || !okW || !okX || !okWZ || len(w.Shape) != 4 {
		return qconvSpec{}, false
	}
	xType := elemType(info, 0)
	if xZP != nil {
		xType = xZP.DType
	}
	s := qconvSpec{attrs: a, wShape: w.Shape}
	return s, s.setInput(xType, xZP) && s.setWeights(w, wZP)
}

func (k *convInteger) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *convInteger) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if k.fast != nil && len(inputs) > 0 && inputs[0] != nil && len(inputs[0].Shape) == 4 {
		return k.fast.runNCHW(ctx, inputs[0])
	}
	return k.runReference(ctx, inputs)
}

// runReference is ConvInteger by the reference loop.
func (k *convInteger) runReference(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if len(inputs) < 2 || inputs[0] == nil || inputs[1] == nil {
		return nil, fmt.Errorf("inputs x and w are required")
	}
	x, w := inputs[0], inputs[1]
	g, err := newConvGeom(k.attrs, x.Shape, w.Shape)
	if err != nil {
		return nil, err
	}
	xv, err := centerX(x, kernel.Input(inputs, 2))
	if err != nil {
		return nil, err
	}
	wv, err := centerW(w, kernel.Input(inputs, 3))
	if err != nil {
		return nil, err
	}
	y := ctx.Alloc(ir.Int32, g.outShape()...)
	return y, g.convInt32(xv, wv, nil, y.Data.([]int32))
}

// qlinearConv is QLinearConv: the int32 convolution (plus int32 bias) requantized with
// x_scale*w_scale[m]/y_scale. With constant weights, scales, zero points and bias (the
// usual case) a 2-D convolution runs on the prepared NHWC engine (conv_nhwc.go); the
// reference loop (runReference) handles everything else and is the engine's oracle.
type qlinearConv struct {
	node  *ir.Node
	attrs convAttrs
	fast  *convNHWC
}

func newQLinearConv(info *kernel.NodeInfo) (kernel.Kernel, error) {
	a, err := parseConvAttrs(info.Node)
	if err != nil {
		return nil, err
	}
	k := &qlinearConv{node: info.Node, attrs: a}
	if spec, ok := qlinearConvSpec(info, a); ok {
		if k.fast, err = newConvNHWC(spec); err != nil {
			return nil, fmt.Errorf("%s: %w", info.Node.Describe(), err)
		}
	}
	return k, nil
}

// qlinearConvSpec reads a QLinearConv's constant inputs into a spec for the fast engine;
// false when some input it needs is only known at run time or has a type it does not take.
func qlinearConvSpec(info *kernel.NodeInfo, a convAttrs) (qconvSpec, bool) {
	var in [9]*kernel.Tensor
	for i := 1; i < 9; i++ {
		t, ok := constInput(info, i)
		if !ok {
			return qconvSpec{}, false
		}
		in[i] = t
	}
	xScale, xZP, w, wScale, wZP, yScale, yZP, b := in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8]
	if xScale == nil || w == nil || wScale == nil || yScale == nil || len(w.Shape) != 4 {
		return qconvSpec{}, false
	}
	xType := elemType(info, 0)
	if xZP != nil {
		xType = xZP.DType
	}
	s := qconvSpec{attrs: a, wShape: w.Shape, requant: true}
	if !s.setInput(xType, xZP) || !s.setWeights(w, wZP) {
		return qconvSpec{}, false
	}
	m := int(w.Shape[0])
	if b != nil {
		bd, ok := b.Data.([]int32)
		if !ok || len(bd) != m {
			return qconvSpec{}, false
		}
		s.bias = bd
	}
	xs, err1 := float32s(xScale)
	ws, err2 := float32s(wScale)
	ys, err3 := float32s(yScale)
	if err1 != nil || err2 != nil || err3 != nil || len(xs) != 1 || len(ys) != 1 || (len(ws) != 1 && len(ws) != m) {
		return qconvSpec{}, false
	}
	s.scales = make([]float32, len(ws))
	for i, wsm := range ws {
		s.scales[i] = xs[0] * wsm / ys[0]
	}
	yType := ir.Uint8
	if yZP != nil {
		yType = yZP.DType
	}
	z, ok := scalarZero(yZP)
	if !ok {
		return qconvSpec{}, false
	}
	return s, s.setOutput(yType, z)
}

// setInput records x's type (int8 or uint8) and its scalar zero point.
func (s *qconvSpec) setInput(xType ir.DataType, xZP *kernel.Tensor) bool {
	if xType == ir.Undefined {
		xType = ir.Uint8
	}
	if xType != ir.Uint8 && xType != ir.Int8 {
		return false
	}
	z, ok := scalarZero(xZP)
	s.xSigned, s.xZero = xType == ir.Int8, z
	return ok
}

// setWeights records the weights as int8 (uint8 weights and their zero points move down by
// 128 together) and their zero points (scalar or per output channel).
func (s *qconvSpec) setWeights(w, wZP *kernel.Tensor) bool {
	wv, err := int32s(w)
	if err != nil || (w.DType != ir.Int8 && w.DType != ir.Uint8) {
		return false
	}
	shift := int32(0)
	if w.DType == ir.Uint8 {
		shift = 128
	}
	s.w = make([]int8, len(wv))
	for i, v := range wv {
		s.w[i] = int8(v - shift)
	}
	m := int(w.Shape[0])
	if wZP != nil {
		z, err := int32s(wZP)
		if err != nil || wZP.DType != w.DType || (len(z) != 1 && len(z) != m) {
			return false
		}
		for _, v := range z {
			s.wZero = append(s.wZero, int8(v-shift))
		}
	} else if shift != 0 {
		s.wZero = []int8{-128}
	}
	return true
}

// setOutput records an 8-bit output type, its zero point and saturation range.
func (s *qconvSpec) setOutput(yType ir.DataType, yZero int32) bool {
	s.yZero = yZero
	switch yType {
	case ir.Uint8:
		s.yLo, s.yHi = 0, 255
	case ir.Int8:
		s.yLo, s.yHi, s.ySigned = -128, 127, true
	default:
		return false
	}
	return true
}

func (k *qlinearConv) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qlinearConv) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if k.fast != nil && len(inputs) > 0 && inputs[0] != nil && len(inputs[0].Shape) == 4 {
		return k.fast.runNCHW(ctx, inputs[0])
	}
	return k.runReference(ctx, inputs)
}

// runReference is QLinearConv by the reference loop.
func (k *qlinearConv) runReference(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	if len(inputs) < 8 {
		return nil, fmt.Errorf("want at least 8 inputs, got %d", len(inputs))
	}
	x, xScale, xZP, w, wScale, wZP, yScale, yZP := inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5], inputs[6], inputs[7]
	for i, in := range []*kernel.Tensor{x, xScale, w, wScale, yScale} {
		if in == nil {
			return nil, fmt.Errorf("input %d is required", []int{0, 1, 3, 4, 6}[i])
		}
	}
	g, err := newConvGeom(k.attrs, x.Shape, w.Shape)
	if err != nil {
		return nil, err
	}
	xv, err := centerX(x, xZP)
	if err != nil {
		return nil, err
	}
	wv, err := centerW(w, wZP)
	if err != nil {
		return nil, err
	}
	var bias []int32
	if b := kernel.Input(inputs, 8); b != nil {
		bd, ok := b.Data.([]int32)
		if !ok || len(bd) != g.m {
			return nil, fmt.Errorf("bias must be int32 with %d elements, got %s", g.m, b)
		}
		bias = bd
	}
	xs, err := float32s(xScale)
	if err != nil {
		return nil, fmt.Errorf("x_scale: %w", err)
	}
	ws, err := float32s(wScale)
	if err != nil {
		return nil, fmt.Errorf("w_scale: %w", err)
	}
	ys, err := float32s(yScale)
	if err != nil {
		return nil, fmt.Errorf("y_scale: %w", err)
	}
	if len(xs) != 1 || len(ys) != 1 || (len(ws) != 1 && len(ws) != g.m) {
		return nil, fmt.Errorf("scales: x_scale and y_scale must be scalars and w_scale have 1 or %d elements", g.m)
	}
	outDT := ir.Uint8
	var yz int32
	if yZP != nil {
		outDT = yZP.DType
		z, err := int32s(yZP)
		if err != nil || len(z) != 1 {
			return nil, fmt.Errorf("y_zero_point must be an int8 or uint8 scalar, got %s", yZP)
		}
		yz = z[0]
	}
	lo, hi, ok := intRange(outDT)
	if !ok || (outDT != ir.Int8 && outDT != ir.Uint8) {
		return nil, fmt.Errorf("output type %s is not int8 or uint8", outDT)
	}
	// The output is allocated last; its count is checked here first.
	acc, err := kernel.MakeScratchShaped[int32](g.outShape())
	if err != nil {
		return nil, err
	}
	if err := g.convInt32(xv, wv, bias, acc); err != nil {
		return nil, err
	}
	mult, err := kernel.MakeScratch[float64](g.m)
	if err != nil {
		return nil, err
	}
	for m := range mult {
		wsm := ws[0]
		if len(ws) > 1 {
			wsm = ws[m]
		}
		mult[m] = float64(xs[0] * wsm / ys[0])
	}
	vals, err := kernel.MakeScratch[int64](len(acc))
	if err != nil {
		return nil, err
	}
	for i, c := range acc {
		m := (i / max(g.outSize, 1)) % g.m
		vals[i] = saturateRound(float64(c)*mult[m]+float64(yz), lo, hi)
	}
	y := ctx.Alloc(outDT, g.outShape()...)
	return y, storeInts(outDT, vals, y.Data)
}
