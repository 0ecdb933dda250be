//go:build amd64 && !noasm

package quant

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/whittle-ml/whittle/ir"
)

// The elementwise kernels of kernels_amd64.s: QAdd's arithmetic and the byte maximum of
// QMaxPoolNHWC, for each signedness of their inputs.

//go:noescape
func qaddAVX512UU(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qaddAVX512US(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qaddAVX512SU(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qaddAVX512SS(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qaddAVX2UU(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qaddAVX2US(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qaddAVX2SU(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qaddAVX2SS(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qmulAVX2UU(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qmulAVX2US(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qmulAVX2SU(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qmulAVX2SS(a, b, y *uint8, n int, c *qaddConsts)

//go:noescape
func qmaxTapsAVX512U(dst *uint8, taps **uint8, ntaps int, n int)

//go:noescape
func qmaxTapsAVX512S(dst *uint8, taps **uint8, ntaps int, n int)

//go:noescape
func qmaxTapsAVX2U(dst *uint8, taps **uint8, ntaps int, n int)

//go:noescape
func qmaxTapsAVX2S(dst *uint8, taps **uint8, ntaps int, n int)

//go:noescape
func qcolSumsAVX2U(x *uint8, rows, stride, n int, sums *int32)

//go:noescape
func qcolSumsAVX2S(x *uint8, rows, stride, n int, sums *int32)

//go:noescape
func qcolSumsAVX512U(x *uint8, rows, stride, n int, sums *int32)

//go:noescape
func qcolSumsAVX512S(x *uint8, rows, stride, n int, sums *int32)

//go:noescape
func qmulChannelsAVX512U(a *uint8, bf *float32, y *uint8, pixels, c int, k *qaddConsts)

//go:noescape
func qmulChannelsAVX512S(a *uint8, bf *float32, y *uint8, pixels, c int, k *qaddConsts)

//go:noescape
func qlookupVBMI(t *[256]uint8, x, y *uint8, n int)

var hasAVX512Elementwise = hasAVX512BW && cpu.X86.HasBMI2

// hasVBMI: the "avx512" elementwise set also looks bytes up with VPERMI2B.
var hasVBMI = hasAVX512Elementwise && cpu.X86.HasAVX512VBMI

// elementwiseVariant is the elementwise kernel set in use: "avx512", "avx2" or "go" (tests
// switch it).
var elementwiseVariant = func() string {
	switch {
	case hasAVX512Elementwise:
		return "avx512"
	case cpu.X86.HasAVX2:
		return "avx2"
	}
	return "go"
}()

// elementwiseVariants lists the elementwise kernel sets this machine can run.
func elementwiseVariants() []string {
	vs := []string{"go"}
	if cpu.X86.HasAVX2 {
		vs = append(vs, "avx2")
	}
	if hasAVX512Elementwise {
		vs = append(vs, "avx512")
	}
	return vs
}

var (
	qaddAVX512 = [2][2]func(a, b, y *uint8, n int, c *qaddConsts){{qaddAVX512UU, qaddAVX512US}, {qaddAVX512SU, qaddAVX512SS}}
	qaddAVX2   = [2][2]func(a, b, y *uint8, n int, c *qaddConsts){{qaddAVX2UU, qaddAVX2US}, {qaddAVX2SU, qaddAVX2SS}}
	qmulAVX2   = [2][2]func(a, b, y *uint8, n int, c *qaddConsts){{qmulAVX2UU, qmulAVX2US}, {qmulAVX2SU, qmulAVX2SS}}
)

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (k *qadd) add(a, b, y []uint8) {
	n := len(y)
	if n == 0 {
		return
	}
	_, _ = a[n-1], b[n-1]
	as, bs := b2i(k.aType == ir.Int8), b2i(k.bType == ir.Int8)
	switch elementwiseVariant {
	case "avx512":
		qaddAVX512[as][bs](&a[0], &b[0], &y[0], n, &k.consts)
		return
	case "avx2":
		n8 := n &^ 7
		if n8 > 0 {
			qaddAVX2[as][bs](&a[0], &b[0], &y[0], n8, &k.consts)
		}
		k.addGo(a[n8:], b[n8:], y[n8:])
		return
	}
	k.addGo(a, b, y)
}

// mulRun computes y[i] from a[i] and b[i]: the AVX2 kernel (also where AVX-512 is
// present) on whole vectors of 8, the Go loop on the rest.
func (k *qmul) mulRun(a, b, y []uint8) {
	n := len(y)
	if n == 0 {
		return
	}
	_, _ = a[n-1], b[n-1]
	n8 := 0
	if elementwiseVariant != "go" {
		n8 = n &^ 7
		if n8 > 0 {
			qmulAVX2[b2i(k.aType == ir.Int8)][b2i(k.bType == ir.Int8)](&a[0], &b[0], &y[0], n8, &k.consts)
		}
	}
	k.mulRunGo(a[n8:n], b[n8:n], y[n8:])
}

func maxBytes(dst []uint8, srcs [][]uint8, signed bool) {
	n := len(dst)
	if len(srcs) == 0 || n == 0 || elementwiseVariant == "go" {
		maxBytesGo(dst, srcs, signed)
		return
	}
	var ptrs [maxDepthwiseTaps]*uint8
	for i, s := range srcs {
		_ = s[n-1]
		ptrs[i] = unsafe.SliceData(s)
	}
	if elementwiseVariant == "avx512" {
		if signed {
			qmaxTapsAVX512S(&dst[0], &ptrs[0], len(srcs), n)
		} else {
			qmaxTapsAVX512U(&dst[0], &ptrs[0], len(srcs), n)
		}
		return
	}
	n32 := n &^ 31
	if n32 > 0 {
		if signed {
			qmaxTapsAVX2S(&dst[0], &ptrs[0], len(srcs), n32)
		} else {
			qmaxTapsAVX2U(&dst[0], &ptrs[0], len(srcs), n32)
		}
	}
	if n32 < n {
		tails := make([][]uint8, 0, maxDepthwiseTaps)
		for _, s := range srcs {
			tails = append(tails, s[n32:n])
		}
		maxBytesGo(dst[n32:], tails, signed)
	}
}

//go:noescape
func qquantizeAVX512(x *float32, n int, c *quantizeConsts, y *uint8)

//go:noescape
func qquantizeAVX2(x *float32, n int, c *quantizeConsts, y *uint8)

// quantizePlane quantizes x into y (same length) with QuantizeLinear's arithmetic.
func quantizePlane(x []float32, c *quantizeConsts, y []uint8) {
	n := len(y)
	if n == 0 {
		return
	}
	_ = x[n-1]
	switch elementwiseVariant {
	case "avx512":
		qquantizeAVX512(&x[0], n, c, &y[0])
		return
	case "avx2":
		n8 := n &^ 7
		if n8 > 0 {
			qquantizeAVX2(&x[0], n8, c, &y[0])
		}
		quantizePlaneGo(x[n8:n], c, y[n8:])
		return
	}
	quantizePlaneGo(x, c, y)
}

// lookupBytes sets y[i] = t[x[i]] for i < len(y): 64 bytes per step with AVX-512 VBMI,
// else the Go loop.
func lookupBytes(t *[256]uint8, x, y []uint8) {
	n := len(y)
	if n == 0 {
		return
	}
	_ = x[n-1]
	if elementwiseVariant == "avx512" && hasVBMI {
		qlookupVBMI(t, &x[0], &y[0], n)
		return
	}
	lookupBytesGo(t, x, y)
}

// colSums adds to sums[j] the bytes x[r*stride+j] of rows r < rows, for j < len(sums):
// with AVX-512, 64 columns at a time; with AVX2, 32, the last n mod 8 by the Go loop; else
// the Go loop.
func colSums(x []uint8, rows, stride int, sums []int32, signed bool) {
	n := len(sums)
	if rows <= 0 || n == 0 {
		return
	}
	_ = x[(rows-1)*stride+n-1]
	switch elementwiseVariant {
	case "avx512":
		if signed {
			qcolSumsAVX512S(&x[0], rows, stride, n, &sums[0])
		} else {
			qcolSumsAVX512U(&x[0], rows, stride, n, &sums[0])
		}
		return
	case "avx2":
		n8 := n &^ 7
		if n8 > 0 {
			if signed {
				qcolSumsAVX2S(&x[0], rows, stride, n8, &sums[0])
			} else {
				qcolSumsAVX2U(&x[0], rows, stride, n8, &sums[0])
			}
		}
		if n8 < n {
			colSumsGo(x[n8:], rows, stride, sums[n8:], signed)
		}
		return
	}
	colSumsGo(x, rows, stride, sums, signed)
}

// mulChannels computes y from whole pixels of a, each multiplied channel by channel by b
// (len(b) channels; bf holds their dequantized values): with AVX-512 16 channels at a time,
// with AVX2 a pixel at a time by mulRun, else the Go loop.
func (k *qmul) mulChannels(a, b []uint8, bf []float32, y []uint8) {
	c := len(bf)
	if c == 0 || len(y) < c {
		return
	}
	pixels := len(y) / c
	_ = a[pixels*c-1]
	switch elementwiseVariant {
	case "avx512":
		if k.aType == ir.Int8 {
			qmulChannelsAVX512S(&a[0], &bf[0], &y[0], pixels, c, &k.consts)
		} else {
			qmulChannelsAVX512U(&a[0], &bf[0], &y[0], pixels, c, &k.consts)
		}
	case "avx2":
		for p := 0; p < pixels*c; p += c {
			k.mulRun(a[p:p+c], b[:c], y[p:p+c])
		}
	default:
		k.mulChannelsGo(a, bf, y)
	}
}
