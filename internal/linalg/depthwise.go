package linalg

import (
	"fmt"
	"unsafe"
)

// DepthwiseRow computes one output row of a 2-D depthwise convolution on channels-last
// data: for each of ow output pixels and each of c channels,
//
//	y[ox·c + ch] = bias[ch] + Σ_t x[origin(ox) + taps[t] + ch] · w[wrow[t]·wstride + ch]
//	             (+ z[ox·c + ch]) (then clamped to [lo, hi] when clamp)
//
// where origin(ox) = xOff + ox·xstep is where pixel ox's window starts in x, taps are the
// element offsets from that origin of the kernel positions that fall inside the image
// (windows at the image's border pass fewer taps; an origin may itself lie outside x as
// long as every tap lands inside), wrow[t] is the weight row of tap t (nil: row t), and w
// holds one row of wstride >= c weights per kernel position (wstride a multiple of 16, the
// padding zero; bias likewise holds wstride values). z may be nil.
func DepthwiseRow(y []float32, x []float32, xOff, xstep int, taps, wrow []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32) {
	if ow <= 0 || c <= 0 {
		return
	}
	if len(taps) == 0 {
		panic("linalg: DepthwiseRow: no taps")
	}
	if wstride < c || wstride%16 != 0 || len(bias) < wstride || len(y) < ow*c || (z != nil && len(z) < ow*c) ||
		(wrow != nil && len(wrow) != len(taps)) {
		panic(fmt.Sprintf("linalg: DepthwiseRow: inconsistent sizes (c %d, wstride %d)", c, wstride))
	}
	lo0, hi0 := taps[0], taps[0]
	for t, off := range taps {
		lo0, hi0 = min(lo0, off), max(hi0, off)
		r := t
		if wrow != nil {
			r = wrow[t]
		}
		if r < 0 || (r+1)*wstride > len(w) {
			panic("linalg: DepthwiseRow: weight row out of range")
		}
	}
	if xOff+lo0 < 0 || xOff+(ow-1)*xstep+hi0+c > len(x) {
		panic("linalg: DepthwiseRow: windows outside x")
	}
	depthwiseImpl(y, x, xOff, xstep, taps, wrow, w, wstride, bias, ow, c, z, clamp, lo, hi)
}

var depthwiseImpl = depthwiseGo

func depthwiseGo(y []float32, x []float32, xOff, xstep int, taps, wrow []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32) {
	for ox := 0; ox < ow; ox++ {
		dst := y[ox*c : (ox+1)*c]
		copy(dst, bias[:c])
		origin := xOff + ox*xstep
		for t, off := range taps {
			r := t
			if wrow != nil {
				r = wrow[t]
			}
			src := x[origin+off : origin+off+c]
			wt := w[r*wstride : r*wstride+c]
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
	taps    *int // (input, weight) byte offsets per tap
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
	tapsEnd *int // one past the last tap
	cb      int  // bytes per pixel of y and z: 4·c
	blocks  int  // blocks of 8 pixels done by the 8-pixel loop before the one-pixel loop
}

// depthwiseFunc is the signature of DepthwiseRow's implementations.
type depthwiseFunc = func(y []float32, x []float32, xOff, xstep int, taps, wrow []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32)

// depthwiseAsm adapts DepthwiseRow's arguments to an assembly row kernel: a table of
// (input, weight) byte offsets per tap, relative to the lowest input any tap reads from
// pixel 0's origin (so that the base pointer is inside x).
func depthwiseAsm(kernel func(*dwArgs)) depthwiseFunc {
	return func(y []float32, x []float32, xOff, xstep int, taps, wrow []int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32) {
		low := taps[0]
		for _, t := range taps {
			low = min(low, t)
		}
		bt := tapScratch.Get(2 * len(taps))
		defer bt.Release()
		for i, t := range taps {
			r := i
			if wrow != nil {
				r = wrow[i]
			}
			bt.Buf[2*i], bt.Buf[2*i+1] = 4*(t-low), 4*r*wstride
		}
		a := dwArgs{x: &x[xOff+low], taps: &bt.Buf[0], ntaps: len(taps), xstep: 4 * xstep, w: &w[0], wstride: 4 * wstride,
			bias: &bias[0], y: &y[0], ow: ow, c: c, lo: lo, hi: hi, cb: 4 * c, blocks: ow / 8}
		a.tapsEnd = (*int)(unsafe.Add(unsafe.Pointer(a.taps), 16*len(taps)))
		if z != nil {
			a.z, a.flags = &z[0], 1
		}
		if clamp {
			a.flags |= 2
		}
		kernel(&a)
	}
}
