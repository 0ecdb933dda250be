//go:build amd64 && !noasm

package linalg

import (
	"math"

	"golang.org/x/sys/cpu"
)

//go:generate sh -c "go run qgemm_gen.go > qgemm_amd64.s"

// The assembly micro-kernels (qgemm_amd64.s, written by qgemm_gen.go). Each computes, for
// r < rows (1..6) and j < n,
//
//	c[r*ldc+j] = init[j] + Σ_{t<ntaps} Σ_{p<4·k4t} a[offs[t]+r*lda+p]·B[4·k4t·t+p][j]
//
// with B in QMatrixB's packed layout starting at b, exactly as qgemmKernelGo does.

//go:noescape
func qgemmVNNI512(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, c *int32, ldc int, rows int, n int, init *int32)

//go:noescape
func qgemmVNNI512Requant(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, y *uint8, ldy int, rows int, n int, init *int32, rq *qrequantParams)

//go:noescape
func qgemmAVXVNNI(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, c *int32, ldc int, rows int, n int, init *int32)

//go:noescape
func qgemmAVX2(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, c *int32, ldc int, rows int, n int, init *int32)

//go:noescape
func qgemmAVX2Wide(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, c *int32, ldc int, rows int, n int, init *int32)

//go:noescape
func qgemmAVX2Requant(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, y *uint8, ldy int, rows int, n int, init *int32, rq *qrequantParams)

//go:noescape
func qgemmAVX2WideRequant(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, y *uint8, ldy int, rows int, n int, init *int32, rq *qrequantParams)

var (
	hasVNNI512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
	hasAVXVNNI = cpu.X86.HasAVX2 && cpu.X86.HasAVXVNNI
	hasAVX2    = cpu.X86.HasAVX2

	qKernelVNNI512  = withFused(asmQKernel("avx512vnni", qGroup, 1, qgemmVNNI512), qgemmVNNI512Requant)
	qKernelAVXVNNI  = asmQKernel("avxvnni", qBlock, 1, qgemmAVXVNNI)
	qKernelAVX2     = withFused16(asmQKernel("avx2", qBlock, 1, qgemmAVX2), qgemmAVX2Requant)
	qKernelAVX2Wide = wideQKernel("avx2wide", withFused16(asmQKernel("avx2wide", qBlock, 1, qgemmAVX2Wide), qgemmAVX2WideRequant)) // steps of 64 bytes, as one plane
)

// asmQKernel wraps an assembly kernel with the bounds checks it relies on.
func asmQKernel(name string, group, planes int, fn func(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, c *int32, ldc int, rows int, n int, init *int32)) *qKernel {
	return &qKernel{name: name, group: group, planes: planes, fn: func(a []uint8, offs []int, k4t, lda int, b []int8, c []int32, ldc, rows, n int, init []int32) {
		if rows < 1 || rows > qRows || n < 1 || k4t < 1 || len(offs) < 1 {
			panic("qgemm: kernel called with an empty or oversized tile")
		}
		for _, o := range offs {
			_ = a[o+(rows-1)*lda+4*k4t-1]
		}
		_ = b[len(offs)*k4t*4*planes*qRoundUp(n, qBlock)-1]
		_ = c[(rows-1)*ldc+n-1]
		_ = init[qRoundUp(n, qBlock)-1]
		fn(&a[0], &offs[0], len(offs), k4t, lda, &b[0], &c[0], ldc, rows, n, &init[0])
	}}
}

// qrequantParams is what the fused kernel reads besides init: the offset in bytes from init
// to the column scales, and the output zero point and clamp.
type qrequantParams struct {
	delta      int
	zp, lo, hi float32
}

// withFused gives k the kernel that requantizes in registers.
func withFused(k *qKernel, fn func(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, y *uint8, ldy int, rows int, n int, init *int32, rq *qrequantParams)) *qKernel {
	k.fused = func(a []uint8, offs []int, k4t, lda int, b []int8, y []uint8, ldy, rows, n int, init []int32, npad int, rq *QRequant) {
		if rows < 1 || rows > qRows || n < 1 || k4t < 1 || len(offs) < 1 {
			panic("qgemm: kernel called with an empty or oversized tile")
		}
		for _, o := range offs {
			_ = a[o+(rows-1)*lda+4*k4t-1]
		}
		_ = b[len(offs)*k4t*4*k.planes*qRoundUp(n, qBlock)-1]
		_ = y[(rows-1)*ldy+n-1]
		_ = init[npad+qRoundUp(n, qBlock)-1]
		p := qrequantParams{delta: 4 * npad, zp: rq.zeroPoint, lo: rq.lo, hi: rq.hi}
		fn(&a[0], &offs[0], len(offs), k4t, lda, &b[0], &y[0], ldy, rows, n, &init[0], &p)
	}
	return k
}

// withFused16 gives k a fused kernel whose assembly requantizes whole blocks of 16 columns
// (the ymm kernels'): a last, partial block goes through k's plain kernel into a tile of
// int32 sums, requantized in Go with the scales the fused kernel reads.
func withFused16(k *qKernel, fn func(a *uint8, offs *int, ntaps int, k4t int, lda int, b *int8, y *uint8, ldy int, rows int, n int, init *int32, rq *qrequantParams)) *qKernel {
	full := withFused(&qKernel{name: k.name, group: k.group, planes: k.planes}, fn).fused
	plain := k.fn
	k.fused = func(a []uint8, offs []int, k4t, lda int, b []int8, y []uint8, ldy, rows, n int, init []int32, npad int, rq *QRequant) {
		n16 := n &^ (qBlock - 1)
		if n16 > 0 {
			full(a, offs, k4t, lda, b, y, ldy, rows, n16, init, npad, rq)
		}
		if n16 == n {
			return
		}
		var tile [qRows * qBlock]int32
		var scale [qBlock]float32
		blockBytes := len(offs) * k4t * 4 * qBlock * k.planes
		plain(a, offs, k4t, lda, b[n16/qBlock*blockBytes:], tile[:], qBlock, rows, n-n16, init[n16:])
		for j := range scale[:n-n16] {
			scale[j] = math.Float32frombits(uint32(init[npad+n16+j]))
		}
		for r := 0; r < rows; r++ {
			rq.requantGo(tile[r*qBlock:r*qBlock+n-n16], scale[:n-n16], y[r*ldy+n16:])
		}
	}
	return k
}

//go:noescape
func qwidenAVX2(dst *uint8, src *uint8, n int)

// widen writes src's bytes zero-extended to little-endian uint16 into dst (2·len(src)).
func widen(dst, src []uint8) {
	n16 := len(src) &^ 15
	if n16 > 0 {
		_ = dst[2*n16-1]
		qwidenAVX2(&dst[0], &src[0], n16)
	}
	for i, v := range src[n16:] {
		dst[2*(n16+i)], dst[2*(n16+i)+1] = v, 0
	}
}

// wideQKernel wraps an int16 kernel: the rows of A (all taps, in order) are widened to int16
// into a pooled tile, which the kernel then reads as one tap of two-depth steps.
func wideQKernel(name string, k *qKernel) *qKernel {
	inner, innerFused := k.fn, k.fused
	// widened returns rows of A widened to int16 in a pooled tile, and the tile's row stride.
	widened := func(a []uint8, offs []int, k4t, lda, rows int) (*Scratch[uint8], int) {
		k4 := len(offs) * k4t
		rowBytes := 8 * k4
		tile := GetBytes(rows * rowBytes)
		if len(offs) == 1 && lda == 4*k4t {
			// Consecutive rows (a plain product or a pointwise convolution): one run.
			widen(tile.Buf[:rows*rowBytes], a[offs[0]:offs[0]+rows*4*k4t])
			return tile, rowBytes
		}
		for r := 0; r < rows; r++ {
			dst := tile.Buf[r*rowBytes : (r+1)*rowBytes]
			for t, o := range offs {
				widen(dst[8*k4t*t:8*k4t*(t+1)], a[o+r*lda:o+r*lda+4*k4t])
			}
		}
		return tile, rowBytes
	}
	wk := &qKernel{name: name, group: k.group, planes: 2, wide: true,
		fn: func(a []uint8, offs []int, k4t, lda int, b []int8, c []int32, ldc, rows, n int, init []int32) {
			tile, rowBytes := widened(a, offs, k4t, lda, rows)
			defer tile.Release()
			inner(tile.Buf, wholeRow, 2*len(offs)*k4t, rowBytes, b, c, ldc, rows, n, init)
		}}
	if innerFused != nil {
		wk.fused = func(a []uint8, offs []int, k4t, lda int, b []int8, y []uint8, ldy, rows, n int, init []int32, npad int, rq *QRequant) {
			tile, rowBytes := widened(a, offs, k4t, lda, rows)
			defer tile.Release()
			innerFused(tile.Buf, wholeRow, 2*len(offs)*k4t, rowBytes, b, y, ldy, rows, n, init, npad, rq)
		}
	}
	return wk
}

// qKernels lists the micro-kernels this machine can run, for tests and benchmarks that
// compare each with the reference.
func qKernels() []*qKernel {
	ks := []*qKernel{qKernelGo}
	if hasAVX2 {
		ks = append(ks, qKernelAVX2, qKernelAVX2Wide)
	}
	if hasAVXVNNI {
		ks = append(ks, qKernelAVXVNNI)
	}
	if hasVNNI512 {
		ks = append(ks, qKernelVNNI512)
	}
	return ks
}

// bestQKernel picks the kernel to pack B for: VNNI where present (no intermediate
// saturation), else AVX2 vpmaddubsw, or its int16 version when B's pairs could saturate it.
func bestQKernel(saturates bool) *qKernel {
	switch {
	case hasVNNI512:
		return qKernelVNNI512
	case hasAVXVNNI:
		return qKernelAVXVNNI
	case hasAVX2 && saturates:
		return qKernelAVX2Wide
	case hasAVX2:
		return qKernelAVX2
	}
	return qKernelGo
}

//go:noescape
func qrequantAVX512(c *int32, n int, scale *float32, zp float32, lo float32, hi float32, y *uint8)

//go:noescape
func qrequantAVX2(c *int32, n int, scale *float32, zp float32, lo float32, hi float32, y *uint8)

// useRequant is the requantization routine rows use: "avx512", "avx2" or "go" (tests switch
// it to compare each with the portable one).
var useRequant = func() string {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL:
		return "avx512"
	case hasAVX2:
		return "avx2"
	}
	return "go"
}()

// requantVariants lists the requantization routines this machine can run.
func requantVariants() []string {
	vs := []string{"go"}
	if hasAVX2 {
		vs = append(vs, "avx2")
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL {
		vs = append(vs, "avx512")
	}
	return vs
}

func (q *QRequant) row(c []int32, y []uint8) {
	n := len(c)
	if n == 0 {
		return
	}
	_ = y[n-1]
	_ = q.scale[n-1]
	switch useRequant {
	case "avx512":
		qrequantAVX512(&c[0], n, &q.scale[0], q.zeroPoint, q.lo, q.hi, &y[0])
		return
	case "avx2":
		n16 := n &^ 15
		if n16 > 0 {
			qrequantAVX2(&c[0], n16, &q.scale[0], q.zeroPoint, q.lo, q.hi, &y[0])
		}
		q.requantGo(c[n16:], q.scale[n16:], y[n16:])
		return
	}
	q.requantGo(c, q.scale, y)
}
