package quant

import (
	"math"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// depthwise is a prepared depthwise convolution (one input and one output channel per
// group) on NHWC bytes. Weights are centered on their zero points and stored per tap as
// int32 words whose low int16 is the weight (the layout the row kernels multiply with
// vpmaddwd); the input zero point's share, zx·Σ_t w[t][c], is folded with the bias into
// init, and padding reads the zero point, so every output sums all taps.
type depthwise struct {
	cv   *convNHWC
	c    int
	cpad int
	taps int
	w    []int32 // [taps][cpad]
	// wPairs holds the weights two taps to a dword for the AVX2 kernel (see kernels_gen.go's
	// genDWPairs): per pair of taps and block of 16 channels, the dwords (w[2p][ch],
	// w[2p+1][ch]) of channels 0-3, 8-11, then 4-7, 12-15 of the block.
	wPairs []int32 // [(taps+1)/2][cpad]
	init   []int32 // [cpad]
	// initScale is init followed by the channels' requantization scales (float32 bits), for
	// the kernels that requantize in registers; zp, lo and hi complete them.
	initScale  []int32
	zp, lo, hi float32
}

// maxDepthwiseTaps bounds the kernel window the row kernels take (their frame holds one
// address per tap).
const maxDepthwiseTaps = 64

func newDepthwise(cv *convNHWC) (*depthwise, error) {
	s := cv.spec
	d := &depthwise{cv: cv, c: cv.m, cpad: (cv.m + 15) &^ 15, taps: cv.kh * cv.kw}
	// The repacked weights are a few times W (sized by its shape): weigh them together.
	if err := kernel.Reserve(int64(d.taps+1+d.taps+2) * int64(d.cpad) * 4); err != nil {
		return nil, err
	}
	d.w = make([]int32, d.taps*d.cpad)
	d.init = make([]int32, d.cpad)
	for ch := 0; ch < d.c; ch++ {
		var zw int32
		switch len(s.wZero) {
		case 1:
			zw = int32(s.wZero[0])
		case d.c:
			zw = int32(s.wZero[ch])
		}
		var sum int32
		for t := 0; t < d.taps; t++ {
			v := int32(s.w[ch*d.taps+t]) - zw // within [-255, 255]: fits the low int16
			d.w[t*d.cpad+ch] = int32(uint16(int16(v)))
			sum += v
		}
		var b int32
		if s.bias != nil {
			b = s.bias[ch]
		}
		d.init[ch] = b - s.xZero*sum
	}
	pairs := (d.taps + 1) / 2
	d.wPairs = make([]int32, pairs*d.cpad)
	order := [16]int{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15}
	for pr := 0; pr < pairs; pr++ {
		for b := 0; b < d.cpad; b += 16 {
			for i, o := range order {
				ch := b + o
				lo := uint32(uint16(d.w[2*pr*d.cpad+ch]))
				var hi uint32
				if 2*pr+1 < d.taps {
					hi = uint32(uint16(d.w[(2*pr+1)*d.cpad+ch]))
				}
				d.wPairs[pr*d.cpad+b+i] = int32(lo | hi<<16)
			}
		}
	}
	d.initScale = make([]int32, 2*d.cpad)
	copy(d.initScale, d.init)
	for ch := 0; ch < d.c; ch++ {
		d.initScale[d.cpad+ch] = int32(math.Float32bits(s.scales[min(ch, len(s.scales)-1)]))
	}
	d.zp, d.lo, d.hi = float32(s.yZero), float32(s.yLo), float32(s.yHi)
	return d, nil
}

// run convolves x into y (rows of ldy bytes), one output row per job step.
func (d *depthwise) run(threads int, g *convGeom, x []uint8, y []uint8, ldy int) {
	if pg, px := d.padWidth(threads, g, x); px != nil {
		defer px.Release()
		g, x = pg, px.Buf
	}
	H, W, C := g.in[0], g.in[1], d.c
	OH, OW := g.out[0], g.out[1]
	kh, kw := d.cv.kh, d.cv.kw
	if g.n*OH*OW == 0 {
		return
	}
	// Column offsets of every (output column, kernel column), -1 in the padding.
	colOff := linalg.GetInt32s(OW * kw)
	defer colOff.Release()
	for o := 0; o < OW; o++ {
		for j := 0; j < kw; j++ {
			iw := o*g.stride[1] - g.padBegin[1] + j*g.dil[1]
			v := int32(-1)
			if iw >= 0 && iw < W {
				v = int32(iw * C)
			}
			colOff.Buf[o*kw+j] = v
		}
	}
	// A row of zero points stands in for padding rows; its first cpad bytes also serve as
	// the zero-point pixel.
	zrow := linalg.GetBytes(max(W*C, d.cpad))
	defer zrow.Release()
	fill(zrow.Buf, uint8(d.cv.spec.xZero))
	rows := g.n * OH
	linalg.ForCost(threads, rows, OW*C*d.taps, func(job int) {
		img, oh := job/OH, job%OH
		var rowPtrs [maxDepthwiseTaps][]uint8
		for i := 0; i < kh; i++ {
			ih := oh*g.stride[0] - g.padBegin[0] + i*g.dil[0]
			if ih < 0 || ih >= H {
				rowPtrs[i] = zrow.Buf
			} else {
				rowPtrs[i] = x[(img*H+ih)*W*C : (img*H+ih+1)*W*C]
			}
		}
		if d.interior(g, &rowPtrs, colOff.Buf, zrow.Buf[:d.cpad], OW, y[job*OW*ldy:], ldy) {
			return
		}
		if d.rowRequant(rowPtrs[:kh], colOff.Buf, zrow.Buf[:d.cpad], OW, y[job*OW*ldy:], ldy) {
			return
		}
		acc := linalg.GetInt32s(OW * d.cpad)
		defer acc.Release()
		d.row(rowPtrs[:kh], colOff.Buf, zrow.Buf[:d.cpad], OW, acc.Buf)
		d.cv.rq.Rows(OW, acc.Buf, d.cpad, y[job*OW*ldy:], ldy)
	})
}

// padWidth returns x with its rows widened by their left and right padding (zero-point
// pixels), and the geometry of that input without width padding, for a 5×5 window whose
// padded pixels would leave more than a quarter of each row to the general kernel (small
// images: EfficientNet's 5×5 layers on 14×14 and 7×7); nil otherwise. There the copy, one
// pass over the input, costs less than the border pixels on the general kernel: 70 against
// 83 us on 14×14×672, 38 against 49 on 7×7×1152; on 28×28×240 (a seventh of each row in
// the border) and for 3×3 windows (whose border pixels cost little more) it costs more.
func (d *depthwise) padWidth(threads int, g *convGeom, x []uint8) (*convGeom, *linalg.Scratch[uint8]) {
	k := d.cv.kh
	if d.cv.kw != k || k != 5 || g.dil[0] != 1 || g.dil[1] != 1 || !d.kxkRuns() {
		return nil, nil
	}
	H, W, C, OW, s, pl := g.in[0], g.in[1], d.c, g.out[1], g.stride[1], g.padBegin[1]
	lo := (pl + s - 1) / s
	hi := min(OW, (W-k+pl)/s+1)
	interior := max(0, hi-lo)
	if W < k || 4*(OW-interior) <= OW || g.n*H*OW == 0 {
		return nil, nil
	}
	pr := max(0, (OW-1)*s+k-pl-W) // padding the last window reaches into
	if pl >= k || pr >= k {
		return nil, nil // windows wholly in the padding: not worth a wider copy
	}
	wp := pl + W + pr
	buf := linalg.GetBytes(g.n * H * wp * C)
	zp := uint8(d.cv.spec.xZero)
	linalg.ForCost(threads, g.n*H, wp*C, func(r int) {
		dst := buf.Buf[r*wp*C : (r+1)*wp*C]
		fill(dst[:pl*C], zp)
		copy(dst[pl*C:], x[r*W*C:(r+1)*W*C])
		fill(dst[(pl+W)*C:], zp)
	})
	pg := *g
	pg.in = []int{H, wp}
	pg.padBegin = []int{g.padBegin[0], 0}
	return &pg, buf
}

// interior runs a 3×3 or 5×5 row's pixels whose windows lie inside the input width on the
// kernel that keeps the weights in registers, and the border pixels on the general one;
// false when that kernel does not apply.
func (d *depthwise) interior(g *convGeom, rowPtrs *[maxDepthwiseTaps][]uint8, colOff []int32, zx []uint8, OW int, y []uint8, ldy int) bool {
	k := d.cv.kh
	if d.cv.kw != k || (k != 3 && k != 5) || g.dil[0] != 1 || g.dil[1] != 1 {
		return false
	}
	s, pl, W, C := g.stride[1], g.padBegin[1], g.in[1], d.c
	lo := (pl + s - 1) / s      // first window starting at column >= 0
	hi := min(OW, (W-k+pl)/s+1) // windows ending at column <= W-1
	if W < k || hi <= lo {
		return false
	}
	var rows [5][]uint8
	for i := range k {
		rows[i] = rowPtrs[i][(lo*s-pl)*C:]
	}
	if !d.rowKxK(rows[:k], hi-lo, s*C, y[lo*ldy:], ldy) {
		return false
	}
	if lo > 0 && !d.rowRequant(rowPtrs[:k], colOff, zx, lo, y, ldy) {
		panic("depthwise: no kernel for the border pixels")
	}
	if hi < OW && !d.rowRequant(rowPtrs[:k], colOff[hi*k:], zx, OW-hi, y[hi*ldy:], ldy) {
		panic("depthwise: no kernel for the border pixels")
	}
	return true
}

// rowGo computes channels [c0, c) of one output row: the portable kernel, and the channel
// tail of the AVX2 one.
func (d *depthwise) rowGo(rows [][]uint8, colOff []int32, zx []uint8, ow, c0 int, out []int32) {
	kw := d.cv.kw
	signed := d.cv.spec.xSigned
	for o := 0; o < ow; o++ {
		acc := out[o*d.cpad : o*d.cpad+d.cpad]
		copy(acc[c0:d.c], d.init[c0:d.c])
		for t := 0; t < d.taps; t++ {
			i, j := t/kw, t%kw
			src := zx
			if off := colOff[o*kw+j]; off >= 0 {
				src = rows[i][off:]
			}
			wt := d.w[t*d.cpad : t*d.cpad+d.cpad]
			for ch := c0; ch < d.c; ch++ {
				xv := int32(src[ch])
				if signed {
					xv = int32(int8(src[ch]))
				}
				acc[ch] += xv * int32(int16(wt[ch]))
			}
		}
	}
}
