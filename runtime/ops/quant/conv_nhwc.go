package quant

import (
	"fmt"
	"sync/atomic"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// The fast integer convolution. The reference kernels (conv.go) widen everything to int32
// and run a scalar im2col product; this engine instead prepares a convolution with constant
// weights once — weights packed for linalg.QGemm (or laid out per channel for depthwise),
// bias, zero-point corrections and requantization multipliers — and runs it on NHWC
// tensors of bytes:
//
//   - 1×1 stride-1 convolutions multiply the input rows directly (an NHWC image is an
//     (H·W)×C matrix);
//   - other convolutions gather each block of output pixels' receptive fields (im2col in
//     NHWC: runs of KW·C contiguous bytes) into a cache-sized buffer first;
//   - depthwise convolutions (one input channel per group) use a per-channel kernel;
//   - the int32 results are requantized block by block (linalg.QRequant), so the only
//     full-size output is the 8-bit tensor.
//
// NHWC keeps channels contiguous, which the GEMM, the depthwise kernel and the pooling and
// elementwise kernels all want. QLinearConv nodes in NCHW graphs transpose at their edges;
// fused QDQ regions keep NHWC between their nodes.

// qconvSpec is what a prepared integer convolution needs: its geometry, the weights and
// their zero points, the input zero point, the bias and, for 8-bit outputs, the
// requantization.
type qconvSpec struct {
	attrs   convAttrs
	wShape  []int64 // [M, C/group, KH, KW]
	w       []int8  // weights as signed bytes (uint8 weights shifted by −128 with their zero points)
	wZero   []int8  // nil, one, or one per output channel
	xSigned bool    // int8 activations (else uint8)
	xZero   int32   // input zero point in x's own type
	bias    []int32 // nil or one per output channel
	// Requantization to 8 bits; requant false means int32 outputs (ConvInteger).
	requant bool
	scales  []float32 // per output channel (or one): x_scale·w_scale/y_scale, in float32
	yZero   int32
	yLo     int32 // clamp range in y's type: the type's range, narrowed by a fused Relu/Clip
	yHi     int32
	ySigned bool
}

// convNHWC is a prepared convolution; immutable and safe for concurrent runs.
type convNHWC struct {
	spec     qconvSpec
	c, m     int
	group    int
	cg, mg   int // channels per group, in and out
	kh, kw   int
	k, kpad  int                      // im2col row length, and rounded up to 4 (what the GEMM reads)
	gemm     []*linalg.QMatrixB       // per group; for tap convolutions the one packed by packTaps
	taps     bool                     // runs on taps (conv_taps.go) rather than im2col
	rq       *linalg.QRequant         // all output channels (depthwise)
	rqGroups []*linalg.QRequant       // per group: the group's output channels (nil for int32 outputs)
	xPad     uint8                    // the input zero point as the byte the GEMM sees (sign bit flipped for int8)
	geom     atomic.Pointer[convGeom] // the geometry of the input shape last seen
	flip     uint8                    // 0x80 for int8 inputs: the GEMM takes unsigned bytes
	dw       *depthwise
}

func newConvNHWC(s qconvSpec) (*convNHWC, error) {
	if len(s.wShape) != 4 {
		return nil, fmt.Errorf("weights of shape %v: the fast path handles 2-D convolutions", s.wShape)
	}
	cv := &convNHWC{spec: s, group: int(s.attrs.group)}
	cv.m, cv.cg = int(s.wShape[0]), int(s.wShape[1])
	cv.kh, cv.kw = int(s.wShape[2]), int(s.wShape[3])
	cv.c = cv.cg * cv.group
	if cv.m%cv.group != 0 {
		return nil, fmt.Errorf("%d output channels do not split into %d groups", cv.m, cv.group)
	}
	cv.mg = cv.m / cv.group
	cv.k = cv.kh * cv.kw * cv.cg
	cv.kpad = (cv.k + 3) &^ 3
	if s.xSigned {
		cv.flip = 0x80
	}
	cv.xPad = uint8(s.xZero) ^ cv.flip
	if s.bias != nil && len(s.bias) != cv.m {
		return nil, fmt.Errorf("bias has %d values for %d output channels", len(s.bias), cv.m)
	}
	if len(s.wZero) > 1 && len(s.wZero) != cv.m {
		return nil, fmt.Errorf("%d weight zero points for %d output channels", len(s.wZero), cv.m)
	}
	depthwise := cv.group > 1 && cv.cg == 1 && cv.mg == 1 && s.requant && cv.kh*cv.kw <= maxDepthwiseTaps
	if depthwise {
		rq, err := linalg.NewQRequant(cv.m, s.scales, s.yZero, s.yLo, s.yHi)
		if err != nil {
			return nil, err
		}
		cv.rq = rq
		dw, err := newDepthwise(cv)
		if err != nil {
			return nil, err
		}
		cv.dw = dw
		return cv, nil
	}
	if s.requant {
		for gi := 0; gi < cv.group; gi++ {
			sc := s.scales
			if len(sc) > 1 {
				sc = sc[gi*cv.mg : (gi+1)*cv.mg]
			}
			rq, err := linalg.NewQRequant(cv.mg, sc, s.yZero, s.yLo, s.yHi)
			if err != nil {
				return nil, err
			}
			cv.rqGroups = append(cv.rqGroups, rq)
		}
	}
	if tapsEligible(cv) {
		pb, err := packTaps(cv)
		if err != nil {
			return nil, err
		}
		cv.gemm, cv.taps = []*linalg.QMatrixB{pb}, true
		return cv, nil
	}
	// B for group gi: K×mg with B[(kh,kw,ci)][j] = W[gi·mg+j][ci][kh][kw].
	// Packed copies of the weights are sized by W's shape: weighed when the session is built.
	b, err := kernel.MakeScratchShaped[int8]([]int64{int64(cv.k), int64(cv.mg)})
	if err != nil {
		return nil, err
	}
	for gi := 0; gi < cv.group; gi++ {
		for j := 0; j < cv.mg; j++ {
			mo := gi*cv.mg + j
			for ci := 0; ci < cv.cg; ci++ {
				for y := 0; y < cv.kh; y++ {
					for x := 0; x < cv.kw; x++ {
						row := (y*cv.kw+x)*cv.cg + ci
						b[row*cv.mg+j] = s.w[((mo*cv.cg+ci)*cv.kh+y)*cv.kw+x]
					}
				}
			}
		}
		var zp []int8
		switch len(s.wZero) {
		case 1:
			zp = s.wZero
		case cv.m:
			zp = s.wZero[gi*cv.mg : (gi+1)*cv.mg]
		}
		pb, err := linalg.PackQMatrixB(cv.k, cv.mg, b, cv.mg, false, zp)
		if err != nil {
			return nil, err
		}
		cv.gemm = append(cv.gemm, pb)
	}
	return cv, nil
}

// geometry returns the convolution's geometry for an NCHW input shape, from a one-entry
// cache: a model runs its convolutions on the same shapes every time.
func (cv *convNHWC) geometry(n, c, h, w int64) (*convGeom, error) {
	if g := cv.geom.Load(); g != nil && g.shape == [4]int64{n, c, h, w} {
		return g, nil
	}
	g, err := newConvGeom(cv.spec.attrs, []int64{n, c, h, w}, cv.spec.wShape)
	if err != nil {
		return nil, err
	}
	g.shape = [4]int64{n, c, h, w}
	g.nchwOut = g.outShape()
	g.nhwcOut = toNHWC(g.nchwOut)
	cv.geom.Store(g)
	return g, nil
}

// direct reports whether the GEMM can read the input rows as they are.
func (cv *convNHWC) direct(g *convGeom) bool {
	return cv.group == 1 && cv.kh == 1 && cv.kw == 1 && g.stride[0] == 1 && g.stride[1] == 1 &&
		g.padBegin[0] == 0 && g.padBegin[1] == 0 && g.out[0] == g.in[0] && g.out[1] == g.in[1] &&
		cv.flip == 0 && cv.c%4 == 0
}

// run convolves x (NHWC bytes, [N, H, W, C]) into y ([N, OH, OW] rows of ldy bytes, the
// M channels first) or, for int32 outputs, y32 (rows of ldy values).
// reserveScratch weighs the scratch run takes from the buffer pool beyond what its caller
// allocated: the padded copy of an image for tap convolutions, whose size follows the
// pads, strides and dilations (attributes up to 2^30 each), not the output. run has no
// error result; its callers call this first.
func (cv *convNHWC) reserveScratch(g *convGeom) error {
	if cv.dw != nil || !cv.taps || g.n*g.outSize == 0 {
		return nil
	}
	t := cv.tapsGeometry(g)
	if !t.copy {
		return nil
	}
	if _, err := kernel.CheckedCount(ir.Uint8, []int64{int64(t.hp), int64(t.wp), int64(cv.c)}); err != nil {
		return fmt.Errorf("padded input: %w", err)
	}
	return nil
}

func (cv *convNHWC) run(threads int, g *convGeom, x []uint8, y []uint8, y32 []int32, ldy int) {
	if cv.dw != nil {
		cv.dw.run(threads, g, x, y, ldy)
		return
	}
	rows := g.n * g.outSize
	if rows == 0 {
		return
	}
	if cv.taps {
		cv.runTaps(threads, g, x, y, y32, ldy)
		return
	}
	direct := cv.direct(g)
	// Rows per job: an A block of ~96 KiB (L2), a multiple of the 6-row micro-tile, and
	// enough jobs to keep every thread busy; each product on one thread (th).
	per, th := max(6, min(1024, (96<<10)/cv.kpad)/6*6), 1
	switch {
	case threads > 1 && cv.group == 1 && cv.gemm[0].PrefersColumnSplit(rows):
		// Weights larger than the image (1×1 layers at 7×7 and 14×14): one product over all
		// rows whose threads share B's columns, each reading its part of B once.
		per, th = rows, threads
	case threads > 1:
		per = max(6, min(per, (rows+4*threads-1)/(4*threads)+5)/6*6)
	}
	jobs := (rows + per - 1) / per
	linalg.ForCost(threads, jobs, cv.group*per*cv.k*cv.mg, func(job int) {
		r0, r1 := job*per, min(rows, (job+1)*per)
		var abuf *linalg.Scratch[uint8]
		if !direct {
			abuf = linalg.GetBytes((r1 - r0) * cv.kpad)
			defer abuf.Release()
		}
		for gi := 0; gi < cv.group; gi++ {
			// Only a direct product reads x at the output row: a padded window can have more
			// output rows than x has pixels.
			var a []uint8
			var lda int
			if direct {
				a, lda = x[r0*cv.c:], cv.c
			} else {
				a, lda = abuf.Buf, cv.kpad
				cv.im2col(g, x, r0, r1, gi*cv.cg, a)
			}
			zeroA := cv.xPad
			if cv.spec.requant {
				linalg.QGemmRequant(th, r1-r0, a, lda, zeroA, cv.gemm[gi], cv.groupBias(gi), cv.rqGroups[gi], y[r0*ldy+gi*cv.mg:], ldy)
			} else {
				linalg.QGemm(th, r1-r0, a, lda, zeroA, cv.gemm[gi], cv.groupBias(gi), y32[r0*ldy+gi*cv.mg:], ldy)
			}
		}
	})
}

func (cv *convNHWC) groupBias(gi int) []int32 {
	if cv.spec.bias == nil {
		return nil
	}
	return cv.spec.bias[gi*cv.mg : (gi+1)*cv.mg]
}

// im2col writes, for output rows [r0, r1) (image-major), the receptive field of channels
// [c0, c0+cg) as rows of kpad bytes ordered (kh, kw, c): input bytes with the sign bit
// flipped for int8 inputs, the zero point where the window covers padding.
func (cv *convNHWC) im2col(g *convGeom, x []uint8, r0, r1, c0 int, a []uint8) {
	H, W, C := g.in[0], g.in[1], cv.c
	OW := g.out[1]
	sh, sw, dh, dw := g.stride[0], g.stride[1], g.dil[0], g.dil[1]
	pt, pl := g.padBegin[0], g.padBegin[1]
	cg, kw := cv.cg, cv.kw
	run := kw * cg // bytes of one kernel row when the taps are contiguous in x
	contiguous := dw == 1 && cg == C
	for r := r0; r < r1; r++ {
		img, p := r/g.outSize, r%g.outSize
		oh, ow := p/OW, p%OW
		dst := a[(r-r0)*cv.kpad : (r-r0+1)*cv.kpad]
		iw0 := ow*sw - pl
		rowInside := iw0 >= 0 && iw0+(kw-1)*dw < W
		off := 0
		for y := 0; y < cv.kh; y++ {
			ih := oh*sh - pt + y*dh
			if ih < 0 || ih >= H {
				fill(dst[off:off+run], cv.xPad)
				off += run
				continue
			}
			src := x[((img*H+ih)*W)*C:]
			if contiguous && rowInside {
				copyFlip(dst[off:off+run], src[iw0*C:iw0*C+run], cv.flip)
				off += run
				continue
			}
			for t := 0; t < kw; t++ {
				iw := iw0 + t*dw
				if iw < 0 || iw >= W {
					fill(dst[off:off+cg], cv.xPad)
				} else {
					copyFlip(dst[off:off+cg], src[iw*C+c0:iw*C+c0+cg], cv.flip)
				}
				off += cg
			}
		}
		fill(dst[cv.k:], cv.xPad)
	}
}

// copyFlip copies src to dst, flipping the sign bit of every byte when flip is 0x80 (int8
// values become the unsigned bytes the GEMM takes, shifted by 128 like their zero point).
func copyFlip(dst, src []uint8, flip uint8) {
	if flip == 0 {
		copy(dst, src)
		return
	}
	for i, v := range src[:len(dst)] {
		dst[i] = v ^ flip
	}
}

// fill sets every byte of b to v, doubling the filled prefix with copy (memmove) rather
// than storing a byte at a time.
func fill(b []uint8, v uint8) {
	if len(b) == 0 {
		return
	}
	b[0] = v
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// runNCHW runs the convolution on an NCHW tensor, as QLinearConv and ConvInteger nodes of
// ordinary graphs have them: the input is transposed to NHWC and the output back.
func (cv *convNHWC) runNCHW(ctx *kernel.Context, x *kernel.Tensor) (*kernel.Tensor, error) {
	want := ir.Uint8
	if cv.spec.xSigned {
		want = ir.Int8
	}
	if x.DType != want {
		return nil, fmt.Errorf("input x has type %s, the zero point %s", x.DType, want)
	}
	g, err := cv.geometry(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3])
	if err != nil {
		return nil, err
	}
	xb, _ := byteData(x)
	// The transposed copies of x and of the output (int32 without requantization) come
	// from the buffer pool: weigh them, and run's own scratch, first.
	copies := int64(len(xb)) + int64(g.n)*int64(g.outSize)*int64(g.m)*4
	if err := kernel.Reserve(copies); err != nil {
		return nil, err
	}
	if err := cv.reserveScratch(g); err != nil {
		return nil, err
	}
	hw := len(xb) / max(1, g.n*g.c)
	xs := linalg.GetBytes(len(xb))
	defer xs.Release()
	transposeImages(xb, g.n, g.c, hw, xs.Buf)
	threads := ctx.Parallelism()
	if !cv.spec.requant {
		y := ctx.Alloc(ir.Int32, g.nchwOut...)
		ys := linalg.GetInt32s(g.n * g.outSize * g.m)
		defer ys.Release()
		cv.run(threads, g, xs.Buf, nil, ys.Buf, g.m)
		transposeImages(ys.Buf, g.n, g.outSize, g.m, y.Data.([]int32))
		return y, nil
	}
	y := ctx.Alloc(byteType(cv.spec.ySigned), g.nchwOut...)
	yb, _ := byteData(y)
	ys := linalg.GetBytes(len(yb))
	defer ys.Release()
	cv.run(threads, g, xs.Buf, ys.Buf, nil, g.m)
	transposeImages(ys.Buf, g.n, g.outSize, g.m, yb)
	return y, nil
}
