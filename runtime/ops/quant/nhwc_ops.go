package quant

import (
	"fmt"
	"math"
	"slices"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// Kernels of the integer operators that the preparation stage (runtime/prepare, qdq*.go)
// puts in place of quantized regions: DequantizeLinear → op → QuantizeLinear groups whose
// 8-bit values flow between them in NHWC layout (channels last), so that the convolutions,
// pools and elementwise kernels read channels contiguously and no value is dequantized.
// They live in the session's private domain; every one is tested against the composition
// of the reference operators it replaces.
//
//	QConvNHWC(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp[, B])
//	    QLinearConv on NHWC x and y (w stays [M, C/group, KH, KW]); attributes of Conv, plus
//	    act_min/act_max: a Relu or Clip between the Conv and its QuantizeLinear, applied as
//	    the quantized clamp [Q(act_min), Q(act_max)] (Q is monotonic, so clamping before
//	    or after quantizing agrees).
//	QAdd(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp)
//	    Q(DQ(a) + DQ(b)) on same-shaped tensors of any layout, in float32 exactly as the
//	    unfused operators compute it; act_min/act_max as above.
//	QMaxPoolNHWC(x)
//	    MaxPool (2-D) on NHWC bytes: DequantizeLinear and QuantizeLinear with the same
//	    parameters around a MaxPool cancel, since both are monotonic.
//	QGlobalAveragePoolNHWC(x, x_scale, x_zp, y_scale, y_zp)
//	    Q(GlobalAveragePool(DQ(x))) from NHWC x to y of shape [N, C, 1, 1] (the same bytes
//	    in either layout).
//	QuantizeNHWC(x, y_scale, y_zp)
//	    QuantizeLinear (per tensor) of an NCHW float tensor, written NHWC.
//	QToNHWC(x), QToNCHW(x)
//	    The layout changes of 8-bit tensors at the edges of a region.

// The session's private operator domain and the names of the integer operators in it.
const (
	Domain                   = prepare.Domain
	OpQConvNHWC              = prepare.OpQConvNHWC
	OpQAdd                   = prepare.OpQAdd
	OpQMaxPoolNHWC           = prepare.OpQMaxPoolNHWC
	OpQGlobalAveragePoolNHWC = prepare.OpQGlobalAveragePoolNHWC
	OpQuantizeNHWC           = prepare.OpQuantizeNHWC
	OpQToNHWC                = prepare.OpQToNHWC
	OpQToNCHW                = prepare.OpQToNCHW
)

func init() {
	kernel.Register(
		kernel.KernelDef{Domain: Domain, Op: OpQConvNHWC, SinceVersion: 1, New: newQConvNHWC},
		kernel.KernelDef{Domain: Domain, Op: OpQAdd, SinceVersion: 1, New: newQAdd},
		kernel.KernelDef{Domain: Domain, Op: OpQMaxPoolNHWC, SinceVersion: 1, New: newQMaxPoolNHWC},
		kernel.KernelDef{Domain: Domain, Op: OpQGlobalAveragePoolNHWC, SinceVersion: 1, New: newQGlobalAveragePoolNHWC},
		kernel.KernelDef{Domain: Domain, Op: OpQuantizeNHWC, SinceVersion: 1, New: newQuantizeNHWC},
		kernel.KernelDef{Domain: Domain, Op: OpQToNHWC, SinceVersion: 1, New: newQTranspose(true)},
		kernel.KernelDef{Domain: Domain, Op: OpQToNCHW, SinceVersion: 1, New: newQTranspose(false)},
	)
}

// quantizeScalar is QuantizeLinear of one float32 value with a float32 scale, as the
// reference computes it: the quotient in float32, rounded half to even, plus the zero
// point, saturated to [lo, hi].
func quantizeScalar(v, scale float32, zp, lo, hi int32) int32 {
	q := v / scale
	if q != q {
		return max(lo, min(hi, zp))
	}
	return int32(saturateRound(math.RoundToEven(float64(q))+float64(zp), int64(lo), int64(hi)))
}

// actClamp narrows [lo, hi] by the node's act_min/act_max attributes (a Relu or Clip
// folded before the output's QuantizeLinear).
func actClamp(n *ir.Node, scale float32, zp, lo, hi int32) (int32, int32) {
	if a := n.Attr("act_min"); a != nil {
		lo = max(lo, quantizeScalar(a.Float, scale, zp, lo, hi))
	}
	if a := n.Attr("act_max"); a != nil {
		hi = min(hi, quantizeScalar(a.Float, scale, zp, lo, hi))
	}
	return lo, hi
}

// qparams reads a per-tensor scale and zero point (the zero point may be absent: uint8 0).
func qparams(scale, zp *kernel.Tensor) (s float32, z int32, dt ir.DataType, err error) {
	if scale == nil {
		return 0, 0, 0, fmt.Errorf("a scale is not constant")
	}
	ss, err := float32s(scale)
	if err != nil || len(ss) != 1 || scale.DType != ir.Float {
		return 0, 0, 0, fmt.Errorf("scale %s must be one float", scale)
	}
	dt = ir.Uint8
	if zp != nil {
		dt = zp.DType
		zz, err := int32s(zp)
		if err != nil || len(zz) != 1 || (dt != ir.Uint8 && dt != ir.Int8) {
			return 0, 0, 0, fmt.Errorf("zero point %s must be one int8 or uint8", zp)
		}
		z = zz[0]
	}
	return ss[0], z, dt, nil
}

// byteType is int8 or uint8.
func byteType(signed bool) ir.DataType {
	if signed {
		return ir.Int8
	}
	return ir.Uint8
}

func typeRange(dt ir.DataType) (int32, int32) {
	if dt == ir.Int8 {
		return -128, 127
	}
	return 0, 255
}

// consts returns the constant inputs among the first n, all but index 0 and the indices in
// skip (the tensors the kernel computes on); it fails when one that is present is not
// constant.
func consts(info *kernel.NodeInfo, n int, skip ...int) ([]*kernel.Tensor, error) {
	out := make([]*kernel.Tensor, n)
	for i := 1; i < n; i++ {
		if slices.Contains(skip, i) {
			continue
		}
		t, ok := constInput(info, i)
		if !ok {
			return nil, fmt.Errorf("%s: input %d must be a constant", info.Node.Describe(), i)
		}
		out[i] = t
	}
	return out, nil
}

// nhwcShape returns an NCHW shape in NHWC order and back.
func toNHWC(s []int64) []int64 { return []int64{s[0], s[2], s[3], s[1]} }
func toNCHW(s []int64) []int64 { return []int64{s[0], s[3], s[1], s[2]} }

// qconvNHWC is QConvNHWC.
type qconvNHWC struct {
	node *ir.Node
	cv   *convNHWC
}

func newQConvNHWC(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	a, err := parseConvAttrs(n)
	if err != nil {
		return nil, err
	}
	spec, ok := qlinearConvSpec(info, a)
	if !ok {
		return nil, fmt.Errorf("%s: weights, scales, zero points and bias must be constants of QLinearConv's types", n.Describe())
	}
	ys, _, _, err := qparams(info.Consts[6], info.Consts[7])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	spec.yLo, spec.yHi = actClamp(n, ys, spec.yZero, spec.yLo, spec.yHi)
	cv, err := newConvNHWC(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	return &qconvNHWC{node: n, cv: cv}, nil
}

func (k *qconvNHWC) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qconvNHWC) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || len(x.Shape) != 4 {
		return nil, fmt.Errorf("input x must be a 4-D NHWC tensor")
	}
	cv := k.cv
	if want := byteType(cv.spec.xSigned); x.DType != want {
		return nil, fmt.Errorf("input x has type %s, its zero point %s", x.DType, want)
	}
	s := x.Shape
	g, err := cv.geometry(s[0], s[3], s[1], s[2])
	if err != nil {
		return nil, err
	}
	if err := cv.reserveScratch(g); err != nil {
		return nil, err
	}
	y := ctx.Alloc(byteType(cv.spec.ySigned), g.nhwcOut...)
	xb, _ := byteData(x)
	yb, _ := byteData(y)
	cv.run(ctx.Parallelism(), g, xb, yb, nil, g.m)
	return y, nil
}

// qadd is QAdd.
type qadd struct {
	node         *ir.Node
	sa, sb, sy   float32
	za, zb, zy   int32
	aType, yType ir.DataType
	bType        ir.DataType
	lo, hi       int32
	consts       qaddConsts
}

// qaddConsts are QAdd's parameters as the assembly kernels read them.
type qaddConsts struct {
	za, zb                 int32
	sa, sb, sy, zy, lo, hi float32
}

func newQAdd(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	c, err := consts(info, 8, 3)
	if err != nil {
		return nil, err
	}
	k := &qadd{node: n}
	var e1, e2, e3 error
	k.sa, k.za, k.aType, e1 = qparams(c[1], c[2])
	k.sb, k.zb, k.bType, e2 = qparams(c[4], c[5])
	k.sy, k.zy, k.yType, e3 = qparams(c[6], c[7])
	for _, e := range []error{e1, e2, e3} {
		if e != nil {
			return nil, fmt.Errorf("%s: %w", n.Describe(), e)
		}
	}
	k.lo, k.hi = typeRange(k.yType)
	k.lo, k.hi = actClamp(n, k.sy, k.zy, k.lo, k.hi)
	k.consts = qaddConsts{za: k.za, zb: k.zb, sa: k.sa, sb: k.sb, sy: k.sy, zy: float32(k.zy), lo: float32(k.lo), hi: float32(k.hi)}
	return k, nil
}

func (k *qadd) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qadd) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	a, b := kernel.Input(inputs, 0), kernel.Input(inputs, 3)
	if a == nil || b == nil || a.DType != k.aType || b.DType != k.bType || !kernel.SameShape(a.Shape, b.Shape) {
		return nil, fmt.Errorf("inputs a and b must be %s and %s tensors of one shape", k.aType, k.bType)
	}
	y := ctx.Alloc(k.yType, a.Shape...)
	ab, _ := byteData(a)
	bb, _ := byteData(b)
	yb, _ := byteData(y)
	size, jobs := linalg.Chunks(len(ab), 4*ctx.Parallelism(), 1<<14)
	linalg.ForCost(ctx.Parallelism(), jobs, size, func(j int) {
		lo, hi := j*size, min(len(ab), (j+1)*size)
		k.add(ab[lo:hi], bb[lo:hi], yb[lo:hi])
	})
	return y, nil
}

// addGo is QAdd's arithmetic: each step rounds to float32 as the unfused DequantizeLinear,
// Add and QuantizeLinear do, so the results are identical.
func (k *qadd) addGo(a, b, y []uint8) {
	sa, sb, sy := k.sa, k.sb, k.sy
	za, zb, zy := k.za, k.zb, float64(k.zy)
	lo, hi := float64(k.lo), float64(k.hi)
	aSigned, bSigned := k.aType == ir.Int8, k.bType == ir.Int8
	for i := range y {
		av, bv := int32(a[i]), int32(b[i])
		if aSigned {
			av = int32(int8(a[i]))
		}
		if bSigned {
			bv = int32(int8(b[i]))
		}
		// The conversions keep each product rounded to float32 (no fused multiply-add).
		s := float32(float32(av-za)*sa) + float32(float32(bv-zb)*sb)
		q := math.RoundToEven(float64(s/sy)) + zy
		y[i] = uint8(int32(math.Min(math.Max(q, lo), hi)))
	}
}

// qmaxPoolNHWC is QMaxPoolNHWC.
type qmaxPoolNHWC struct {
	node   *ir.Node
	attrs  convAttrs
	kernel []int64
	ceil   bool
}

func newQMaxPoolNHWC(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	a, err := parseConvAttrs(n)
	if err != nil {
		return nil, err
	}
	ks := n.AttrInts("kernel_shape", nil)
	if len(ks) != 2 {
		return nil, fmt.Errorf("%s: kernel_shape %v: the NHWC pool is 2-D", n.Describe(), ks)
	}
	return &qmaxPoolNHWC{node: n, attrs: a, kernel: ks, ceil: n.AttrInt("ceil_mode", 0) != 0}, nil
}

func (k *qmaxPoolNHWC) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qmaxPoolNHWC) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || len(x.Shape) != 4 || (x.DType != ir.Uint8 && x.DType != ir.Int8) {
		return nil, fmt.Errorf("input x must be a 4-D NHWC int8 or uint8 tensor")
	}
	g, err := poolGeom(k.attrs, k.ceil, toNCHW(x.Shape), k.kernel)
	if err != nil {
		return nil, err
	}
	y := ctx.Alloc(x.DType, toNHWC(g.outShape())...)
	xb, _ := byteData(x)
	yb, _ := byteData(y)
	maxPoolNHWC(ctx.Parallelism(), g, xb, yb, x.DType == ir.Int8)
	return y, nil
}

// poolGeom is a pool's window geometry: a convolution's with one channel per group, and
// with ceil_mode rounding the output size up (a window starting in the end padding is
// dropped, as ONNX and PyTorch do).
func poolGeom(a convAttrs, ceil bool, xShape, kernelShape []int64) (*convGeom, error) {
	a.group = xShape[1]
	a.kernelShape = nil
	g, err := newConvGeom(a, xShape, []int64{xShape[1], 1, kernelShape[0], kernelShape[1]})
	if err != nil || !ceil || a.autoPad != "NOTSET" {
		return g, err
	}
	g.outSize = 1
	for i := range g.out {
		span := (g.k[i]-1)*g.dil[i] + 1
		pe := 0
		if a.pads != nil {
			pe = int(a.pads[len(g.out)+i])
		}
		extent := g.in[i] + g.padBegin[i] + pe - span
		out := (extent+g.stride[i]-1)/g.stride[i] + 1
		if (out-1)*g.stride[i] >= g.in[i]+g.padBegin[i] {
			out--
		}
		g.out[i] = max(out, 0)
		g.outSize *= g.out[i]
	}
	return g, nil
}

// maxPoolNHWC takes, for every output pixel, the channel-wise maximum over the window's
// pixels inside the input (padding never wins a maximum).
func maxPoolNHWC(threads int, g *convGeom, x, y []uint8, signed bool) {
	H, W, C := g.in[0], g.in[1], g.c
	OH, OW := g.out[0], g.out[1]
	rows := g.n * OH
	linalg.ForCost(threads, rows, OW*C*g.k[0]*g.k[1], func(job int) {
		img, oh := job/OH, job%OH
		var taps [maxDepthwiseTaps][]uint8
		for ow := 0; ow < OW; ow++ {
			nt := 0
			for i := 0; i < g.k[0]; i++ {
				ih := oh*g.stride[0] - g.padBegin[0] + i*g.dil[0]
				if ih < 0 || ih >= H {
					continue
				}
				for j := 0; j < g.k[1]; j++ {
					iw := ow*g.stride[1] - g.padBegin[1] + j*g.dil[1]
					if iw < 0 || iw >= W || nt == len(taps) {
						continue
					}
					off := ((img*H+ih)*W + iw) * C
					taps[nt] = x[off : off+C]
					nt++
				}
			}
			out := y[(job*OW+ow)*C : (job*OW+ow+1)*C]
			maxBytes(out, taps[:nt], signed)
		}
	})
}

// maxBytesGo sets dst to the element-wise maximum of srcs (unsigned or signed bytes); with
// no source (a window entirely in the padding) it holds the type's minimum.
func maxBytesGo(dst []uint8, srcs [][]uint8, signed bool) {
	if len(srcs) == 0 {
		var lowest uint8 // uint8's minimum, or int8's (0x80)
		if signed {
			lowest = 0x80
		}
		fill(dst, lowest)
		return
	}
	copy(dst, srcs[0])
	for _, s := range srcs[1:] {
		s = s[:len(dst)]
		if signed {
			for i, v := range s {
				if int8(v) > int8(dst[i]) {
					dst[i] = v
				}
			}
			continue
		}
		for i, v := range s {
			dst[i] = max(dst[i], v)
		}
	}
}

// qglobalAveragePoolNHWC is QGlobalAveragePoolNHWC.
type qglobalAveragePoolNHWC struct {
	node   *ir.Node
	sx, sy float32
	zx, zy int32
	xType  ir.DataType
	yType  ir.DataType
}

func newQGlobalAveragePoolNHWC(info *kernel.NodeInfo) (kernel.Kernel, error) {
	c, err := consts(info, 5)
	if err != nil {
		return nil, err
	}
	k := &qglobalAveragePoolNHWC{node: info.Node}
	var e1, e2 error
	k.sx, k.zx, k.xType, e1 = qparams(c[1], c[2])
	k.sy, k.zy, k.yType, e2 = qparams(c[3], c[4])
	if e1 != nil || e2 != nil {
		return nil, fmt.Errorf("%s: %v %v", info.Node.Describe(), e1, e2)
	}
	return k, nil
}

func (k *qglobalAveragePoolNHWC) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

// run sums each channel in int64, then dequantizes the mean and quantizes it in float64:
// the unfused operators' float32 sum may differ by rounding, by at most a quantization step.
func (k *qglobalAveragePoolNHWC) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || len(x.Shape) != 4 || x.DType != k.xType {
		return nil, fmt.Errorf("input x must be a 4-D NHWC %s tensor", k.xType)
	}
	n, hw, c := int(x.Shape[0]), int(x.Shape[1]*x.Shape[2]), int(x.Shape[3])
	y := ctx.Alloc(k.yType, x.Shape[0], x.Shape[3], 1, 1)
	xb, _ := byteData(x)
	yb, _ := byteData(y)
	sums := linalg.GetInt32s(c)
	defer sums.Release()
	lo, hi := typeRange(k.yType)
	signed := k.xType == ir.Int8
	// Two or more threads sum blocks of 64 channels each (a cache line of every pixel).
	blocks := (c + 63) / 64
	for img := 0; img < n; img++ {
		s := sums.Buf
		clear(s)
		xi := xb[img*hw*c : (img+1)*hw*c]
		if hw > 0 {
			linalg.ForCost(ctx.Parallelism(), blocks, 64*hw, func(b int) {
				c0, c1 := b*64, min(c, (b+1)*64)
				colSums(xi[c0:], hw, c, s[c0:c1], signed)
			})
		}
		scale := float64(k.sx) / float64(k.sy) / float64(max(hw, 1))
		for i, v := range s {
			q := math.RoundToEven(float64(int64(v)-int64(hw)*int64(k.zx))*scale) + float64(k.zy)
			yb[img*c+i] = uint8(int32(math.Min(math.Max(q, float64(lo)), float64(hi))))
		}
	}
	return y, nil
}

// colSumsGo is colSums' portable loop, the oracle of its vector kernel.
func colSumsGo(x []uint8, rows, stride int, sums []int32, signed bool) {
	for r := 0; r < rows; r++ {
		row := x[r*stride : r*stride+len(sums)]
		if signed {
			for i, v := range row {
				sums[i] += int32(int8(v))
			}
		} else {
			for i, v := range row {
				sums[i] += int32(v)
			}
		}
	}
}

// quantizeNHWC is QuantizeNHWC.
type quantizeNHWC struct {
	node   *ir.Node
	consts quantizeConsts
	yType  ir.DataType
}

// quantizeConsts are QuantizeLinear's per-tensor parameters as the assembly kernels read
// them.
type quantizeConsts struct{ scale, zp, lo, hi float32 }

func newQuantizeNHWC(info *kernel.NodeInfo) (kernel.Kernel, error) {
	c, err := consts(info, 3)
	if err != nil {
		return nil, err
	}
	s, z, dt, err := qparams(c[1], c[2])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", info.Node.Describe(), err)
	}
	lo, hi := typeRange(dt)
	return &quantizeNHWC{node: info.Node, consts: quantizeConsts{s, float32(z), float32(lo), float32(hi)}, yType: dt}, nil
}

// quantizePlaneGo is QuantizeLinear of float32 values with one scale and zero point.
func quantizePlaneGo(x []float32, c *quantizeConsts, y []uint8) {
	for i, v := range x[:len(y)] {
		y[i] = uint8(quantizeScalar(v, c.scale, int32(c.zp), int32(c.lo), int32(c.hi)))
	}
}

func (k *quantizeNHWC) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

// run quantizes each channel plane contiguously, then interleaves the planes.
func (k *quantizeNHWC) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || len(x.Shape) != 4 || x.DType != ir.Float {
		return nil, fmt.Errorf("input x must be a 4-D NCHW float tensor")
	}
	xs := x.Float32s()
	n, c, hw := int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2]*x.Shape[3])
	y := ctx.Alloc(k.yType, toNHWC(x.Shape)...)
	yb, _ := byteData(y)
	if c == 1 {
		quantizePlane(xs, &k.consts, yb)
		return y, nil
	}
	linalg.ForCost(ctx.Parallelism(), n, c*hw, func(img int) {
		planes := linalg.GetBytes(c * hw)
		defer planes.Release()
		quantizePlane(xs[img*c*hw:(img+1)*c*hw], &k.consts, planes.Buf)
		transposeImages(planes.Buf, 1, c, hw, yb[img*c*hw:(img+1)*c*hw])
	})
	return y, nil
}

// qtranspose is QToNHWC or QToNCHW on a 4-D 8-bit tensor.
type qtranspose struct {
	node   *ir.Node
	toNHWC bool
}

func newQTranspose(toNHWC bool) kernel.Factory {
	return func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		return &qtranspose{node: info.Node, toNHWC: toNHWC}, nil
	}
}

func (k *qtranspose) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qtranspose) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || len(x.Shape) != 4 {
		return nil, fmt.Errorf("input x must be a 4-D tensor")
	}
	xb, ok := byteData(x)
	if !ok {
		return nil, fmt.Errorf("input x has type %s, not int8 or uint8", x.DType)
	}
	s := x.Shape
	var shape []int64
	var rows, cols int
	if k.toNHWC {
		shape, rows, cols = toNHWC(s), int(s[1]), int(s[2]*s[3])
	} else {
		shape, rows, cols = toNCHW(s), int(s[1]*s[2]), int(s[3])
	}
	y := ctx.Alloc(x.DType, shape...)
	yb, _ := byteData(y)
	transposeImages(xb, int(s[0]), rows, cols, yb)
	return y, nil
}
