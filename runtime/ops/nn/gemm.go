package nn

import (
	"runtime"
	"sync"
)

// The micro-kernel and its tile, chosen once at start-up for this CPU (gemm_amd64.go):
// microKernel adds alpha·(a-panel × b-panel) to a gemmMR×gemmNR tile of C. The portable
// kernel is kernel3x4: 3×4 is the largest tile whose accumulators and operands fit the 15
// float registers Go's compiler allocates on amd64 without spilling in the inner loop
// (4×4 and 4×8 spill, and measured slower). With AVX2 and FMA an assembly kernel keeps a
// 6×16 tile in twelve 8-wide registers.
var (
	gemmMR, gemmNR = 3, 4
	microKernel    = kernel3x4
)

// Blocking parameters of the packed GEMM (GotoBLAS layout). A gemmMC×gemmKC block of A
// (72 KiB) stays in L2 while gemmNR-wide panels of B stream through L1. gemmMC is a
// multiple of every kernel's gemmMR.
const (
	gemmKC = 256
	gemmMC = 72
	gemmNC = 2048
	// Products with fewer multiply-adds than this use the plain loop: packing would cost
	// more than it saves.
	gemmSmall = 16 * 16 * 16
	// Products with fewer multiply-adds than this run on one goroutine.
	gemmParallel = 1 << 18
)

// sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32 matrices, where
// op(A) is m×k (A is k×m when transA), op(B) is k×n (B is n×k when transB) and C is m×n.
// lda, ldb and ldc are the row strides. As in BLAS, beta == 0 overwrites C without reading
// it (so NaNs in C do not propagate). Large products are split across goroutines.
//
// This is the single entry point later assembly kernels will sit behind.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	scaleC(m, n, beta, c, ldc)
	if k <= 0 || alpha == 0 {
		return
	}
	if m*n*k < gemmSmall {
		gemmAccumulateSimple(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc)
		return
	}
	src := aSource{transA: transA, a: a, lda: lda}
	gemmParallelBlocks(&src, m, n, k, alpha, transB, b, ldb, c, ldc)
}

// sgemmRef is the reference definition sgemm is tested against: no blocking, no packing,
// float64 accumulation.
func sgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			v := alpha * float32(s)
			if beta != 0 {
				v += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = v
		}
	}
}

// scaleC applies beta to C in place.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemmAccumulateSimple adds alpha·op(A)·op(B) to C with an i-p-j loop whose inner loop runs
// along contiguous rows of B and C.
func gemmAccumulateSimple(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		for p := 0; p < k; p++ {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			av *= alpha
			if av == 0 {
				continue
			}
			if transB {
				for j := range crow {
					crow[j] += av * b[j*ldb+p]
				}
			} else {
				brow := b[p*ldb : p*ldb+n]
				for j, bv := range brow {
					crow[j] += av * bv
				}
			}
		}
	}
}

// aProvider hands out packed blocks of A: the gemmMC×gemmKC block at rows ic, depth pc,
// laid out as gemmMR-row panels (see packA). buf is scratch the provider may pack into.
type aProvider interface {
	block(ic, pc, mc, kc int, buf []float32) []float32
}

// aSource packs A on the fly.
type aSource struct {
	transA bool
	a      []float32
	lda    int
}

func (s *aSource) block(ic, pc, mc, kc int, buf []float32) []float32 {
	packA(s.transA, s.a, s.lda, ic, mc, pc, kc, buf)
	return buf
}

// packedA is a matrix A (m×k) packed once, block by block, for repeated products with
// different B: Conv packs its constant weights this way when the session is built.
type packedA struct {
	m, k   int
	blocks [][]float32 // index (ic/gemmMC)*numPC + pc/gemmKC
	numPC  int
}

// packMatrixA packs op(A) (m×k) for sgemmPacked.
func packMatrixA(transA bool, m, k int, a []float32, lda int) *packedA {
	p := &packedA{m: m, k: k, numPC: (k + gemmKC - 1) / gemmKC}
	for ic := 0; ic < m; ic += gemmMC {
		mc := min(gemmMC, m-ic)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			buf := make([]float32, roundUp(mc, gemmMR)*kc)
			packA(transA, a, lda, ic, mc, pc, kc, buf)
			p.blocks = append(p.blocks, buf)
		}
	}
	return p
}

func (p *packedA) block(ic, pc, mc, kc int, _ []float32) []float32 {
	return p.blocks[(ic/gemmMC)*p.numPC+pc/gemmKC]
}

// sgemmPacked computes C = alpha·A·op(B) + beta·C with A pre-packed by packMatrixA.
func sgemmPacked(pa *packedA, transB bool, n int, alpha float32, b []float32, ldb int, beta float32, c []float32, ldc int) {
	m, k := pa.m, pa.k
	if m <= 0 || n <= 0 {
		return
	}
	scaleC(m, n, beta, c, ldc)
	if k <= 0 || alpha == 0 {
		return
	}
	gemmParallelBlocks(pa, m, n, k, alpha, transB, b, ldb, c, ldc)
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// gemmParallelBlocks splits C into column ranges (or row ranges when C is narrow) and runs
// the blocked product on each from its own goroutine.
func gemmParallelBlocks(src aProvider, m, n, k int, alpha float32, transB bool, b []float32, ldb int, c []float32, ldc int) {
	workers := runtime.GOMAXPROCS(0)
	if m*n*k < gemmParallel || workers < 2 {
		gemmBlocked(src, 0, m, 0, n, k, alpha, transB, b, ldb, c, ldc)
		return
	}
	var wg sync.WaitGroup
	if n >= workers*4*gemmNR || m < 2*gemmMC {
		chunk := roundUp((n+workers-1)/workers, gemmNR)
		for j0 := 0; j0 < n; j0 += chunk {
			j1 := min(n, j0+chunk)
			wg.Add(1)
			go func() {
				defer wg.Done()
				gemmBlocked(src, 0, m, j0, j1, k, alpha, transB, b, ldb, c, ldc)
			}()
		}
	} else {
		// Row ranges are whole gemmMC blocks so that pre-packed blocks of A line up.
		chunk := roundUp((m+workers-1)/workers, gemmMC)
		for i0 := 0; i0 < m; i0 += chunk {
			i1 := min(m, i0+chunk)
			wg.Add(1)
			go func() {
				defer wg.Done()
				gemmBlocked(src, i0, i1, 0, n, k, alpha, transB, b, ldb, c, ldc)
			}()
		}
	}
	wg.Wait()
}

// gemmBlocked adds alpha·A·op(B) to rows [i0, i1) and columns [j0, j1) of C.
func gemmBlocked(src aProvider, i0, i1, j0, j1, k int, alpha float32, transB bool, b []float32, ldb int, c []float32, ldc int) {
	// One pooled buffer holds the packed B panels, the packed A block and the edge tile.
	bSize := roundUp(min(gemmNC, j1-j0), gemmNR) * min(gemmKC, k)
	aSize := gemmMC * min(gemmKC, k)
	buf := getScratch(bSize + aSize + gemmMR*gemmNR)
	defer buf.release()
	bbuf := buf.Buf[:bSize]
	abuf := buf.Buf[bSize : bSize+aSize]
	tile := buf.Buf[bSize+aSize:]
	for jc := j0; jc < j1; jc += gemmNC {
		nc := min(gemmNC, j1-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			packB(transB, b, ldb, pc, kc, jc, nc, bbuf)
			for ic := i0; ic < i1; ic += gemmMC {
				mc := min(gemmMC, i1-ic)
				ap := src.block(ic, pc, mc, kc, abuf)
				for jr := 0; jr < nc; jr += gemmNR {
					nr := min(gemmNR, nc-jr)
					bp := bbuf[jr*kc : jr*kc+gemmNR*kc]
					for ir := 0; ir < mc; ir += gemmMR {
						mr := min(gemmMR, mc-ir)
						apanel := ap[ir*kc : ir*kc+gemmMR*kc]
						coff := (ic+ir)*ldc + jc + jr
						if mr == gemmMR && nr == gemmNR {
							microKernel(kc, alpha, apanel, bp, c[coff:], ldc)
							continue
						}
						// Edge tile: compute the full tile into scratch, add the valid part.
						clear(tile)
						microKernel(kc, alpha, apanel, bp, tile, gemmNR)
						for r := 0; r < mr; r++ {
							crow := c[coff+r*ldc : coff+r*ldc+nr]
							for j := range crow {
								crow[j] += tile[r*gemmNR+j]
							}
						}
					}
				}
			}
		}
	}
}

// packA copies op(A)[ic:ic+mc, pc:pc+kc] into dst as gemmMR-row panels: panel r holds, for
// each p, the gemmMR values of column p, zero past row mc.
func packA(transA bool, a []float32, lda, ic, mc, pc, kc int, dst []float32) {
	idx := 0
	for ir := 0; ir < mc; ir += gemmMR {
		rows := min(gemmMR, mc-ir)
		if !transA && rows == 3 && gemmMR == 3 {
			r0 := a[(ic+ir)*lda+pc:]
			r1 := a[(ic+ir+1)*lda+pc:]
			r2 := a[(ic+ir+2)*lda+pc:]
			d := dst[idx : idx+3*kc]
			for p := 0; p < kc; p++ {
				d[3*p] = r0[p]
				d[3*p+1] = r1[p]
				d[3*p+2] = r2[p]
			}
			idx += 3 * kc
			continue
		}
		for p := 0; p < kc; p++ {
			for r := 0; r < gemmMR; r++ {
				var v float32
				if r < rows {
					i := ic + ir + r
					if transA {
						v = a[(pc+p)*lda+i]
					} else {
						v = a[i*lda+pc+p]
					}
				}
				dst[idx] = v
				idx++
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as gemmNR-column panels: panel j holds,
// for each p, the gemmNR values of row p, zero past column nc.
func packB(transB bool, b []float32, ldb, pc, kc, jc, nc int, dst []float32) {
	idx := 0
	for jr := 0; jr < nc; jr += gemmNR {
		cols := min(gemmNR, nc-jr)
		if !transB && cols == gemmNR {
			for p := 0; p < kc; p++ {
				src := b[(pc+p)*ldb+jc+jr : (pc+p)*ldb+jc+jr+gemmNR]
				copy(dst[idx:idx+gemmNR], src)
				idx += gemmNR
			}
			continue
		}
		for p := 0; p < kc; p++ {
			for j := 0; j < gemmNR; j++ {
				var v float32
				if j < cols {
					if transB {
						v = b[(jc+jr+j)*ldb+pc+p]
					} else {
						v = b[(pc+p)*ldb+jc+jr+j]
					}
				}
				dst[idx] = v
				idx++
			}
		}
	}
}

// kernel3x4 adds alpha·(a-panel × b-panel) to the 3×4 tile of C at c (row stride ldc).
// a holds kc groups of 3, b kc groups of 4.
func kernel3x4(kc int, alpha float32, a, b []float32, c []float32, ldc int) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23 float32
	a = a[:3*kc]
	b = b[:4*kc]
	for len(a) >= 3 && len(b) >= 4 {
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		a0 := a[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := a[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := a[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a = a[3:]
		b = b[4:]
	}
	r := c[0:4:4]
	r[0] += alpha * c00
	r[1] += alpha * c01
	r[2] += alpha * c02
	r[3] += alpha * c03
	r = c[ldc : ldc+4 : ldc+4]
	r[0] += alpha * c10
	r[1] += alpha * c11
	r[2] += alpha * c12
	r[3] += alpha * c13
	r = c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r[0] += alpha * c20
	r[1] += alpha * c21
	r[2] += alpha * c22
	r[3] += alpha * c23
}
