package linalg

import "fmt"

// DepthwiseRow computes one output row of a 2-D depthwise convolution on channels-last
// data: for each of ow output pixels and each of c channels,
//
//	y[ox·c + ch] = bias[ch] + Σ_t x[origin(ox) + taps[t] + ch] · w[t·wstride + ch]
//	             (+ z[ox·c + ch]) (then clamped to [lo, hi] when clamp)
//
// where origin(ox) = xOff + ox·xstep is where pixel ox's window starts in x (a padded
// image, so that every tap is inside it), taps are element offsets from that origin, and
// w holds one row of wstride >= c weights per tap (wstride a multiple of 16, the padding
// zero; bias likewise holds wstride values). z may be nil.
func DepthwiseRow(y []float32, x []float32, xOff, xstep int, taps []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32) {
	if ow <= 0 || c <= 0 {
		return
	}
	if wstride < c || wstride%16 != 0 || len(w) < len(taps)*wstride || len(bias) < wstride || len(y) < ow*c ||
		(z != nil && len(z) < ow*c) {
		panic(fmt.Sprintf("linalg: DepthwiseRow: inconsistent sizes (c %d, wstride %d)", c, wstride))
	}
	lo0, hi0 := taps[0], taps[0]
	for _, t := range taps {
		lo0, hi0 = min(lo0, t), max(hi0, t)
	}
	if xOff+lo0 < 0 || xOff+(ow-1)*xstep+hi0+c > len(x) {
		panic("linalg: DepthwiseRow: windows outside x")
	}
	depthwiseImpl(y, x, xOff, xstep, taps, w, wstride, bias, ow, c, z, clamp, lo, hi)
}

var depthwiseImpl = depthwiseGo

func depthwiseGo(y []float32, x []float32, xOff, xstep int, taps []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32) {
	for ox := 0; ox < ow; ox++ {
		dst := y[ox*c : (ox+1)*c]
		copy(dst, bias[:c])
		origin := xOff + ox*xstep
		for t, off := range taps {
			src := x[origin+off : origin+off+c]
			wt := w[t*wstride : t*wstride+c]
			for i := range dst {
				dst[i] += src[i] * wt[i]
			}
		}
		if z != nil {
			addToGo(dst, z[ox*c:(ox+1)*c])
		}
		if clamp {
			clampGo(dst, lo, hi)
		}
	}
}

// dwArgs is the argument block of the assembly depthwise row; see go_asm.h offsets.
type dwArgs struct {
	x       *float32
	taps    *int // byte offsets
	ntaps   int
	xstep   int // bytes
	w       *float32
	wstride int // bytes
	bias    *float32
	y       *float32
	z       *float32
	ow      int
	c       int
	flags   int // 1: residual, 2: clamp
	lo, hi  float32
}

// depthwiseAsm adapts DepthwiseRow's arguments to an assembly row kernel.
func depthwiseAsm(kernel func(*dwArgs)) func(y []float32, x []float32, xOff, xstep int, taps []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32) {
	return func(y []float32, x []float32, xOff, xstep int, taps []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32) {
		bt := tapScratch.Get(len(taps))
		defer bt.Release()
		for i, t := range taps {
			bt.Buf[i] = 4 * t
		}
		a := dwArgs{x: &x[xOff], taps: &bt.Buf[0], ntaps: len(taps), xstep: 4 * xstep, w: &w[0], wstride: 4 * wstride,
			bias: &bias[0], y: &y[0], ow: ow, c: c, lo: lo, hi: hi}
		if z != nil {
			a.z, a.flags = &z[0], 1
		}
		if clamp {
			a.flags |= 2
		}
		kernel(&a)
	}
}
