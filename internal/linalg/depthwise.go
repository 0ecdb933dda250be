package linalg

import (
	"fmt"
	"sync"
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
		a := dwArgsPool.Get().(*dwArgs)
		defer putDwArgs(a)
		*a = dwArgs{x: &x[xOff+low], taps: &bt.Buf[0], ntaps: len(taps), xstep: 4 * xstep, w: &w[0], wstride: 4 * wstride,
			bias: &bias[0], y: &y[0], ow: ow, c: c, lo: lo, hi: hi, cb: 4 * c, blocks: ow / 8}
		a.tapsEnd = (*int)(unsafe.Add(unsafe.Pointer(a.taps), 16*len(taps)))
		if z != nil {
			a.z, a.flags = &z[0], 1
		}
		if clamp {
			a.flags |= 2
		}
		kernel(a)
	}
}

// The argument block goes to the kernels through a function value, so one on the stack
// would escape to the heap on every row: take it from a pool (cleared when put back, so
// that it holds no pointers into the caller's tensors).
var dwArgsPool = sync.Pool{New: func() any { return new(dwArgs) }}

func putDwArgs(a *dwArgs) {
	*a = dwArgs{}
	dwArgsPool.Put(a)
}

// DepthwiseRowS1 is DepthwiseRow for unit stride and dilation, with the taps given by
// kernel row: row r of the kernel reads x[origin(ox) + rowOff[r] + kx·c + ch] for kx < kw
// (origin(ox) = xOff + ox·c) with the weights of kernel position wRow[r]·kw + kx. Kernels
// 3, 5 and 7 wide load each input vector once for the whole row of taps.
func DepthwiseRowS1(y []float32, x []float32, xOff int, rowOff, wRow []int, kw int, w []float32, wstride int, bias []float32, ow, c int, z []float32, clamp bool, lo, hi float32) {
	if ow <= 0 || c <= 0 {
		return
	}
	if len(rowOff) == 0 || len(wRow) != len(rowOff) || kw <= 0 {
		panic("linalg: DepthwiseRowS1: no kernel rows")
	}
	sc := tapScratch.Get(4 * len(rowOff) * kw)
	defer sc.Release()
	taps, wrows := sc.Buf[:len(rowOff)*kw], sc.Buf[len(rowOff)*kw:2*len(rowOff)*kw]
	for r, off := range rowOff {
		for kx := 0; kx < kw; kx++ {
			taps[r*kw+kx], wrows[r*kw+kx] = off+kx*c, wRow[r]*kw+kx
		}
	}
	blocks := 0
	if s1 := depthwiseS1Impl(kw); s1 != nil {
		blocks = ow / 8
	}
	if blocks > 0 {
		// The checks DepthwiseRow makes, for the pixels the block kernel computes.
		low, high, maxRow := rowOff[0], rowOff[0], 0
		for r, off := range rowOff {
			low, high, maxRow = min(low, off), max(high, off), max(maxRow, wRow[r])
		}
		high += (kw - 1) * c
		if wstride < c || wstride%16 != 0 || len(bias) < wstride || (maxRow+1)*kw*wstride > len(w) ||
			len(y) < 8*blocks*c || (z != nil && len(z) < 8*blocks*c) ||
			xOff+low < 0 || xOff+(8*blocks-1)*c+high+c > len(x) {
			panic(fmt.Sprintf("linalg: DepthwiseRowS1: inconsistent sizes (c %d, wstride %d, kw %d)", c, wstride, kw))
		}
		rows := sc.Buf[2*len(rowOff)*kw : 2*len(rowOff)*kw+2*len(rowOff)]
		for r, off := range rowOff {
			rows[2*r], rows[2*r+1] = 4*(off-low), 4*wRow[r]*kw*wstride
		}
		a := dwArgsPool.Get().(*dwArgs)
		defer putDwArgs(a)
		*a = dwArgs{x: &x[xOff+low], taps: &rows[0], ntaps: len(rowOff), xstep: 4 * c, w: &w[0], wstride: 4 * wstride,
			bias: &bias[0], y: &y[0], c: c, lo: lo, hi: hi, cb: 4 * c, blocks: blocks}
		a.tapsEnd = (*int)(unsafe.Add(unsafe.Pointer(a.taps), 16*len(rowOff)))
		if z != nil {
			a.z, a.flags = &z[0], 1
		}
		if clamp {
			a.flags |= 2
		}
		depthwiseS1Impl(kw)(a)
	}
	done := 8 * blocks
	if done < ow {
		var zs []float32
		if z != nil {
			zs = z[done*c:]
		}
		DepthwiseRow(y[done*c:], x, xOff+done*c, c, taps, wrows, w, wstride, bias, ow-done, c, zs, clamp, lo, hi)
	}
}

// depthwiseS1Impl returns the block kernel for kernel width kw, or nil (then every pixel
// goes through DepthwiseRow).
var depthwiseS1Impl = func(kw int) func(*dwArgs) { return nil }
