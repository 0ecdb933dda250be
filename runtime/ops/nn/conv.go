package nn

import (
	"fmt"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "Conv", SinceVersion: 1, Types: floatTypes, New: newConv},
		kernel.KernelDef{Op: "ConvTranspose", SinceVersion: 1, Types: floatTypes, New: newConvTranspose},
	)
}

// convKernel is Conv lowered to im2col + linalg.Sgemm per (image, group), with a direct loop for
// depthwise 2-D convolutions.
type convKernel struct {
	node  *ir.Node
	win   windowAttrs
	group int
	// packed holds the weights of each group packed for linalg.SgemmPackedA when W is
	// constant.
	packed     []*linalg.PackedA
	packedFrom []int64 // the weight shape packed holds
}

func newConv(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	win, err := parseWindowAttrs(n)
	if err != nil {
		return nil, opErr(n, "%w", err)
	}
	k := &convKernel{node: n, win: win, group: int(n.AttrInt("group", 1))}
	if k.group < 1 {
		return nil, opErr(n, "group %d must be positive", k.group)
	}
	if len(info.Consts) > 1 && info.Consts[1] != nil {
		wt := info.Consts[1]
		w, err := asF32(wt)
		if err != nil {
			return nil, opErr(n, "weight: %w", err)
		}
		if len(wt.Shape) >= 3 && int(wt.Shape[0])%k.group == 0 && !k.depthwise(wt.Shape) {
			mg := int(wt.Shape[0]) / k.group
			kk := kernel.ShapeSize(wt.Shape[1:])
			for g := 0; g < k.group; g++ {
				k.packed = append(k.packed, linalg.PackA(false, mg, kk, w[g*mg*kk:], kk))
			}
			k.packedFrom = append([]int64(nil), wt.Shape...)
		}
	}
	return k, nil
}

// depthwise reports whether each group convolves one input channel in two spatial axes,
// which the direct loop handles better than a GEMM with K = kh·kw.
func (k *convKernel) depthwise(wShape []int64) bool {
	return k.group > 1 && len(wShape) == 4 && wShape[1] == 1
}

func (k *convKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x, w, b := kernel.Input(inputs, 0), kernel.Input(inputs, 1), kernel.Input(inputs, 2)
	if x == nil || w == nil {
		return nil, opErr(k.node, "inputs X and W are required")
	}
	if len(x.Shape) < 3 || len(w.Shape) != len(x.Shape) {
		return nil, opErr(k.node, "X %v and W %v must have the same rank, at least 3", x.Shape, w.Shape)
	}
	nBatch, c, m := int(x.Shape[0]), int(x.Shape[1]), int(w.Shape[0])
	g := k.group
	if c%g != 0 || m%g != 0 || int(w.Shape[1]) != c/g {
		return nil, opErr(k.node, "X %v and W %v do not agree with group %d", x.Shape, w.Shape, g)
	}
	kernelShape := shapeInts(w.Shape[2:])
	if k.win.kernel != nil && fmt.Sprint(k.win.kernel) != fmt.Sprint(kernelShape) {
		return nil, opErr(k.node, "kernel_shape %v does not match W %v", k.win.kernel, w.Shape)
	}
	geo, err := k.win.resolve(shapeInts(x.Shape[2:]), kernelShape)
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	xd, wd, bias, err := convOperands(k.node, x, w, b, m)
	if err != nil {
		return nil, err
	}
	outShape := append([]int64{int64(nBatch), int64(m)}, toInt64s(geo.out)...)
	out := allocOut(ctx, x.DType, outShape...)
	y := out.Buf
	inSize, outSize := prodInts(geo.in), prodInts(geo.out)
	// An empty output has nothing to compute, and its batch or group loops could still
	// count out sizes an empty X declares (no channels: any batch).
	if outSize == 0 || nBatch == 0 || len(y) == 0 {
		return []*kernel.Tensor{out.Done()}, nil
	}
	threads := ctx.Parallelism()
	if k.depthwise(w.Shape) {
		depthwiseConv2D(threads, xd, wd, bias, y, nBatch, c, m/g, geo)
		return []*kernel.Tensor{out.Done()}, nil
	}
	cg, mg := c/g, m/g
	kk := cg * prodInts(kernelShape)
	packed := k.packed
	if packed != nil && fmt.Sprint(k.packedFrom) != fmt.Sprint(w.Shape) {
		packed = nil
	}
	direct := isPointwise(geo)
	var col []float32
	if !direct {
		// The column matrix is the input replicated once per kernel tap: far larger than
		// X or W for a large kernel, so it is weighed like any scratch (pooled or not).
		if err := reserveFloat32s(kk, outSize); err != nil {
			return nil, err
		}
		colBuf := linalg.GetFloat32(kk * outSize)
		defer colBuf.Release()
		col = colBuf.Buf
	}
	for n := 0; n < nBatch; n++ {
		for gi := 0; gi < g; gi++ {
			xg := xd[(n*c+gi*cg)*inSize : (n*c+(gi+1)*cg)*inSize]
			yg := y[(n*m+gi*mg)*outSize : (n*m+(gi+1)*mg)*outSize]
			bmat := xg
			if !direct {
				im2col(xg, cg, geo, col)
				bmat = col
			}
			if packed != nil {
				linalg.SgemmPackedA(threads, packed[gi], false, outSize, 1, bmat, outSize, 0, yg, outSize)
			} else {
				linalg.Sgemm(threads, false, false, mg, outSize, kk, 1, wd[gi*mg*kk:], kk, bmat, outSize, 0, yg, outSize)
			}
		}
	}
	addChannelBias(y, bias, nBatch, m, outSize)
	return []*kernel.Tensor{out.Done()}, nil
}

// isPointwise reports a 1×1 convolution with unit strides and no padding, whose im2col
// matrix is the input itself.
func isPointwise(geo *window) bool {
	for i := range geo.in {
		if geo.kernel[i] != 1 || geo.strides[i] != 1 || geo.padBegin[i] != 0 || geo.padEnd[i] != 0 || geo.out[i] != geo.in[i] {
			return false
		}
	}
	return true
}

// reserveFloat32s weighs a rows×cols float32 buffer against the memory budget, refusing a
// count that overflows.
func reserveFloat32s(rows, cols int) error {
	_, err := kernel.CheckedCount(ir.Float, []int64{int64(rows), int64(cols)})
	return err
}

func addChannelBias(y, bias []float32, nBatch, m, size int) {
	if bias == nil || len(y) == 0 {
		return
	}
	for n := 0; n < nBatch; n++ {
		for c := 0; c < m; c++ {
			bv := bias[c]
			row := y[(n*m+c)*size : (n*m+c+1)*size]
			for i := range row {
				row[i] += bv
			}
		}
	}
}

// im2col lays out the receptive fields of x (channels × input positions) as a matrix with
// one row per (channel, kernel offset) and one column per output position; positions in
// the padding read as zero.
func im2col(x []float32, channels int, geo *window, col []float32) {
	if len(geo.in) == 2 {
		im2col2D(x, channels, geo, col)
		return
	}
	nd := len(geo.in)
	kSize, outSize, inSize := prodInts(geo.kernel), prodInts(geo.out), prodInts(geo.in)
	kod, ood := newOdometer(geo.kernel), newOdometer(geo.out)
	row := 0
	for c := 0; c < channels; c++ {
		xc := x[c*inSize : (c+1)*inSize]
		kod.reset()
		for kf := 0; kf < kSize; kf++ {
			dst := col[row*outSize : (row+1)*outSize]
			ood.reset()
			for of := 0; of < outSize; of++ {
				off, ok := 0, true
				for d := 0; d < nd; d++ {
					pos := ood.idx[d]*geo.strides[d] - geo.padBegin[d] + kod.idx[d]*geo.dilations[d]
					if pos < 0 || pos >= geo.in[d] {
						ok = false
						break
					}
					off = off*geo.in[d] + pos
				}
				if ok {
					dst[of] = xc[off]
				} else {
					dst[of] = 0
				}
				ood.next()
			}
			kod.next()
			row++
		}
	}
}

func im2col2D(x []float32, channels int, geo *window, col []float32) {
	ih, iw := geo.in[0], geo.in[1]
	oh, ow := geo.out[0], geo.out[1]
	kh, kw := geo.kernel[0], geo.kernel[1]
	sh, sw := geo.strides[0], geo.strides[1]
	dh, dw := geo.dilations[0], geo.dilations[1]
	ph, pw := geo.padBegin[0], geo.padBegin[1]
	row := 0
	for c := 0; c < channels; c++ {
		xc := x[c*ih*iw : (c+1)*ih*iw]
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				dst := col[row*oh*ow : (row+1)*oh*ow]
				row++
				for oy := 0; oy < oh; oy++ {
					d := dst[oy*ow : (oy+1)*ow]
					iy := oy*sh - ph + ky*dh
					if iy < 0 || iy >= ih {
						clear(d)
						continue
					}
					src := xc[iy*iw : (iy+1)*iw]
					ix0 := kx*dw - pw
					if sw == 1 && ix0 >= 0 && ix0+ow <= iw {
						copy(d, src[ix0:ix0+ow])
						continue
					}
					for ox := range d {
						ix := ix0 + ox*sw
						if ix >= 0 && ix < iw {
							d[ox] = src[ix]
						} else {
							d[ox] = 0
						}
					}
				}
			}
		}
	}
}

// depthwiseConv2D convolves each input channel with its own mult filters (group = C,
// W shape [C·mult, 1, kh, kw]), splitting channels across goroutines when the work is large.
// Each kernel tap adds a weighted input row to an output row over the output columns whose
// input column is inside the image, so the inner loops carry no bounds tests; 3×3 kernels
// with unit stride and dilation (MobileNet's) sum all nine taps in one pass instead.
func depthwiseConv2D(threads int, x, w, bias, y []float32, nBatch, c, mult int, geo *window) {
	ih, iw := geo.in[0], geo.in[1]
	oh, ow := geo.out[0], geo.out[1]
	kh, kw := geo.kernel[0], geo.kernel[1]
	sh, sw := geo.strides[0], geo.strides[1]
	dh, dw := geo.dilations[0], geo.dilations[1]
	ph, pw := geo.padBegin[0], geo.padBegin[1]
	m := c * mult
	unit3x3 := kh == 3 && kw == 3 && sw == 1 && dh == 1 && dw == 1
	one := func(job int) {
		n, oc := job/m, job%m
		ic := oc / mult
		xc := x[(n*c+ic)*ih*iw : (n*c+ic+1)*ih*iw]
		wc := w[oc*kh*kw : (oc+1)*kh*kw]
		yc := y[(n*m+oc)*oh*ow : (n*m+oc+1)*oh*ow]
		var bv float32
		if bias != nil {
			bv = bias[oc]
		}
		for oy := 0; oy < oh; oy++ {
			yrow := yc[oy*ow : (oy+1)*ow]
			iy0 := oy*sh - ph
			if unit3x3 && iy0 >= 0 && iy0+3 <= ih {
				depthwiseRow3x3(yrow, xc[iy0*iw:(iy0+3)*iw], iw, pw, wc, bv)
				continue
			}
			for ox := range yrow {
				yrow[ox] = bv
			}
			for ky := 0; ky < kh; ky++ {
				iy := iy0 + ky*dh
				if iy < 0 || iy >= ih {
					continue
				}
				src := xc[iy*iw : (iy+1)*iw]
				for kx := 0; kx < kw; kx++ {
					depthwiseTap(yrow, src, wc[ky*kw+kx], kx*dw-pw, sw)
				}
			}
		}
	}
	linalg.ForCost(threads, nBatch*m, oh*ow*kh*kw, one)
}

// depthwiseTap adds wv·src[ox·stride+off] to yrow[ox] for every ox whose input column
// lies inside src.
func depthwiseTap(yrow, src []float32, wv float32, off, stride int) {
	// ox·stride+off >= 0  ⇔  ox >= ceil(-off/stride); ox·stride+off < len(src) likewise.
	lo := max(0, ceilDivNonNeg(-off, stride))
	hi := min(len(yrow), ceilDivNonNeg(len(src)-off, stride))
	if lo >= hi {
		return
	}
	if stride == 1 {
		d := yrow[lo:hi]
		s := src[lo+off : hi+off]
		for i := range d {
			d[i] += wv * s[i]
		}
		return
	}
	ix := lo*stride + off
	for ox := lo; ox < hi; ox++ {
		yrow[ox] += wv * src[ix]
		ix += stride
	}
}

// ceilDivNonNeg returns ceil(a/b) for b > 0, or 0 when a <= 0 (callers clamp at 0 anyway).
func ceilDivNonNeg(a, b int) int {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// depthwiseRow3x3 writes one output row of a 3×3, stride-1, dilation-1 depthwise
// convolution whose three input rows (rows, each iw wide) are all inside the image:
// yrow[ox] = bv + Σ w[ky·3+kx]·rows[ky][ox-pw+kx], input columns outside the row reading 0.
func depthwiseRow3x3(yrow, rows []float32, iw, pw int, w []float32, bv float32) {
	r0, r1, r2 := rows[:iw], rows[iw:2*iw], rows[2*iw:3*iw]
	w = w[:9]
	ow := len(yrow)
	// Columns [lo, hi) have all three taps inside the row: ox-pw >= 0 and ox-pw+2 < iw.
	lo := min(max(pw, 0), ow)
	hi := max(lo, min(ow, iw-2+pw))
	for ox := lo; ox < hi; ox++ {
		i := ox - pw
		a, b, c := r0[i:i+3:i+3], r1[i:i+3:i+3], r2[i:i+3:i+3]
		s := bv
		s += w[0]*a[0] + w[1]*a[1] + w[2]*a[2]
		s += w[3]*b[0] + w[4]*b[1] + w[5]*b[2]
		s += w[6]*c[0] + w[7]*c[1] + w[8]*c[2]
		yrow[ox] = s
	}
	edge := func(ox int) {
		s := bv
		for kx := 0; kx < 3; kx++ {
			ix := ox - pw + kx
			if ix < 0 || ix >= iw {
				continue
			}
			s += w[kx]*r0[ix] + w[3+kx]*r1[ix] + w[6+kx]*r2[ix]
		}
		yrow[ox] = s
	}
	for ox := 0; ox < lo; ox++ {
		edge(ox)
	}
	for ox := hi; ox < ow; ox++ {
		edge(ox)
	}
}

// convTransposeKernel computes, per (image, group), col = Wᵀ·X with linalg.Sgemm and scatters
// col into the output (col2im).
type convTransposeKernel struct {
	node          *ir.Node
	win           windowAttrs
	group         int
	outputPadding []int
	outputShape   []int
}

func newConvTranspose(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	win, err := parseWindowAttrs(n)
	if err != nil {
		return nil, opErr(n, "%w", err)
	}
	k := &convTransposeKernel{node: n, win: win, group: int(n.AttrInt("group", 1)),
		outputPadding: toInts(n.AttrInts("output_padding", nil)),
		outputShape:   toInts(n.AttrInts("output_shape", nil))}
	if k.group < 1 {
		return nil, opErr(n, "group %d must be positive", k.group)
	}
	return k, nil
}

// resolve computes the output spatial sizes and pads (ConvTranspose-specific rules).
func (k *convTransposeKernel) resolve(in, kernelShape []int) (*window, error) {
	nd := len(in)
	geo := &window{in: in, kernel: kernelShape, out: make([]int, nd), strides: make([]int, nd),
		dilations: make([]int, nd), padBegin: make([]int, nd), padEnd: make([]int, nd)}
	outShape := k.outputShape
	if len(outShape) == nd+2 {
		outShape = outShape[2:]
	}
	if outShape != nil && len(outShape) != nd {
		return nil, fmt.Errorf("output_shape %v: want %d spatial sizes", k.outputShape, nd)
	}
	if k.outputPadding != nil && len(k.outputPadding) != nd {
		return nil, fmt.Errorf("output_padding %v: want %d values", k.outputPadding, nd)
	}
	if k.win.pads != nil && len(k.win.pads) != 2*nd {
		return nil, fmt.Errorf("pads %v: want %d values", k.win.pads, 2*nd)
	}
	if k.win.strides != nil && len(k.win.strides) != nd {
		return nil, fmt.Errorf("strides %v: want %d values", k.win.strides, nd)
	}
	if k.win.dilations != nil && len(k.win.dilations) != nd {
		return nil, fmt.Errorf("dilations %v: want %d values", k.win.dilations, nd)
	}
	for i := 0; i < nd; i++ {
		s, d, op := 1, 1, 0
		if k.win.strides != nil {
			s = k.win.strides[i]
		}
		if k.win.dilations != nil {
			d = k.win.dilations[i]
		}
		if k.outputPadding != nil {
			op = k.outputPadding[i]
		}
		geo.strides[i], geo.dilations[i] = s, d
		full := s*(in[i]-1) + op + (kernelShape[i]-1)*d + 1
		same := k.win.autoPad == "SAME_UPPER" || k.win.autoPad == "SAME_LOWER"
		switch {
		case outShape != nil || same:
			out := in[i] * s
			if outShape != nil {
				out = outShape[i]
			}
			// A negative total (output_shape larger than the full result) extends the
			// end with zeros, as the reference does with floor division.
			total := full - out
			half := floorDiv(total, 2)
			if k.win.autoPad == "SAME_UPPER" {
				geo.padBegin[i], geo.padEnd[i] = half, total-half
			} else {
				geo.padBegin[i], geo.padEnd[i] = total-half, half
			}
			geo.out[i] = out
		default:
			if k.win.pads != nil && k.win.autoPad != "VALID" {
				geo.padBegin[i], geo.padEnd[i] = k.win.pads[i], k.win.pads[nd+i]
			}
			geo.out[i] = full - geo.padBegin[i] - geo.padEnd[i]
		}
		if geo.out[i] < 0 {
			return nil, fmt.Errorf("output size %d on spatial axis %d is negative", geo.out[i], i)
		}
	}
	return geo, nil
}

func (k *convTransposeKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x, w, b := kernel.Input(inputs, 0), kernel.Input(inputs, 1), kernel.Input(inputs, 2)
	if x == nil || w == nil {
		return nil, opErr(k.node, "inputs X and W are required")
	}
	if len(x.Shape) < 3 || len(w.Shape) != len(x.Shape) {
		return nil, opErr(k.node, "X %v and W %v must have the same rank, at least 3", x.Shape, w.Shape)
	}
	nBatch, c := int(x.Shape[0]), int(x.Shape[1])
	g := k.group
	if int(w.Shape[0]) != c || c%g != 0 {
		return nil, opErr(k.node, "X %v and W %v do not agree with group %d", x.Shape, w.Shape, g)
	}
	mg := int(w.Shape[1])
	m := mg * g
	kernelShape := shapeInts(w.Shape[2:])
	if k.win.kernel != nil && fmt.Sprint(k.win.kernel) != fmt.Sprint(kernelShape) {
		return nil, opErr(k.node, "kernel_shape %v does not match W %v", k.win.kernel, w.Shape)
	}
	geo, err := k.resolve(shapeInts(x.Shape[2:]), kernelShape)
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	xd, wd, bias, err := convOperands(k.node, x, w, b, m)
	if err != nil {
		return nil, err
	}
	outShape := append([]int64{int64(nBatch), int64(m)}, toInt64s(geo.out)...)
	out := allocOut(ctx, x.DType, outShape...)
	y := out.Buf
	clear(y)
	if len(y) == 0 {
		// An empty output may still declare huge batch or group counts: loop over nothing.
		return []*kernel.Tensor{out.Done()}, nil
	}
	inSize, outSize, kSize := prodInts(geo.in), prodInts(geo.out), prodInts(kernelShape)
	cg := c / g
	rows := mg * kSize
	scatterBatches := nBatch
	if rows*inSize*cg == 0 {
		scatterBatches = 0 // no products to scatter (empty input, kernel or group): bias only
	}
	// The column matrix holds every tap's product for every input position: larger than
	// the output for a kernel as long as the input.
	if err := reserveFloat32s(rows, inSize); err != nil {
		return nil, err
	}
	colBuf := linalg.GetFloat32(rows * inSize)
	defer colBuf.Release()
	col := colBuf.Buf
	for n := 0; n < scatterBatches; n++ {
		for gi := 0; gi < g; gi++ {
			xg := xd[(n*c+gi*cg)*inSize : (n*c+(gi+1)*cg)*inSize]
			wg := wd[gi*cg*rows : (gi+1)*cg*rows]
			linalg.Sgemm(ctx.Parallelism(), true, false, rows, inSize, cg, 1, wg, rows, xg, inSize, 0, col, inSize)
			col2im(col, mg, geo, y[(n*m+gi*mg)*outSize:(n*m+(gi+1)*mg)*outSize])
		}
	}
	addChannelBias(y, bias, nBatch, m, outSize)
	return []*kernel.Tensor{out.Done()}, nil
}

// col2im adds each entry of col (rows: channel × kernel offset, columns: input position) to
// the output position it lands on: in·stride − pad + offset·dilation.
func col2im(col []float32, channels int, geo *window, y []float32) {
	nd := len(geo.in)
	kSize, inSize, outSize := prodInts(geo.kernel), prodInts(geo.in), prodInts(geo.out)
	kod, iod := newOdometer(geo.kernel), newOdometer(geo.in)
	row := 0
	for c := 0; c < channels; c++ {
		yc := y[c*outSize : (c+1)*outSize]
		kod.reset()
		for kf := 0; kf < kSize; kf++ {
			src := col[row*inSize : (row+1)*inSize]
			iod.reset()
			for i := 0; i < inSize; i++ {
				off, ok := 0, true
				for d := 0; d < nd; d++ {
					pos := iod.idx[d]*geo.strides[d] - geo.padBegin[d] + kod.idx[d]*geo.dilations[d]
					if pos < 0 || pos >= geo.out[d] {
						ok = false
						break
					}
					off = off*geo.out[d] + pos
				}
				if ok {
					yc[off] += src[i]
				}
				iod.next()
			}
			kod.next()
			row++
		}
	}
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// convOperands returns the X, W and optional B inputs of Conv and ConvTranspose as float32
// (the inputs themselves when they are float), checking that B has one value per output
// channel (m).
func convOperands(node *ir.Node, x, w, b *kernel.Tensor, m int) (xd, wd, bias []float32, err error) {
	if xd, err = asF32(x); err != nil {
		return nil, nil, nil, opErr(node, "X: %w", err)
	}
	if wd, err = asF32(w); err != nil {
		return nil, nil, nil, opErr(node, "W: %w", err)
	}
	if b == nil {
		return xd, wd, nil, nil
	}
	if bias, err = asF32(b); err != nil {
		return nil, nil, nil, opErr(node, "B: %w", err)
	}
	if len(bias) != m {
		return nil, nil, nil, opErr(node, "B has %d elements, want %d", len(bias), m)
	}
	return xd, wd, bias, nil
}
