package linalg

// Blocking parameters of the packed GEMM (GotoBLAS layout). A gemmMC×gemmKC block of A
// (72 KiB) stays in L2 while nr-wide panels of B stream through L1. gemmMC is a multiple
// of every kernel's mr.
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

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32 matrices, where
// op(A) is m×k (A is k×m when transA), op(B) is k×n (B is n×k when transB) and C is m×n;
// lda, ldb and ldc are the row strides. As in BLAS, beta == 0 overwrites C without reading
// it (so NaNs in C do not propagate). Products large enough to pay for it are split over
// up to threads goroutines (see For). SgemmRef is the definition.
func Sgemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(defaultKernel, threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemmWith(kern *microKernel, threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
	src := &aSource{transA: transA, a: a, lda: lda, kern: kern}
	gemmParallelBlocks(kern, threads, src, m, n, k, alpha, transB, b, ldb, c, ldc)
}

// SgemmRef is the reference definition of Sgemm: no blocking, no packing, float64
// accumulation,
//
//	C[i][j] = alpha·Σ_p op(A)[i][p]·op(B)[p][j] + beta·C[i][j]   (C not read when beta == 0)
func SgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
// laid out as mr-row panels (see packA). buf is scratch the provider may pack into.
type aProvider interface {
	block(ic, pc, mc, kc int, buf []float32) []float32
}

// aSource packs A on the fly.
type aSource struct {
	transA bool
	a      []float32
	lda    int
	kern   *microKernel
}

func (s *aSource) block(ic, pc, mc, kc int, buf []float32) []float32 {
	packA(s.kern.mr, s.transA, s.a, s.lda, ic, mc, pc, kc, buf)
	return buf
}

// PackedA is a matrix A (m×k) packed once, block by block, for repeated products with
// different B: Conv packs its constant weights this way when the session is built. It
// records the micro-kernel it was packed for and is only read afterwards, so concurrent
// products may share it.
type PackedA struct {
	m, k   int
	blocks [][]float32 // index (ic/gemmMC)*numPC + pc/gemmKC
	numPC  int
	kern   *microKernel
}

// Rows and Cols return the dimensions of op(A).
func (p *PackedA) Rows() int { return p.m }

// Cols returns the number of columns of op(A) (the depth of the product).
func (p *PackedA) Cols() int { return p.k }

// PackA packs op(A) (m×k; A is k×m when transA) for SgemmPackedA.
func PackA(transA bool, m, k int, a []float32, lda int) *PackedA {
	return packAWith(defaultKernel, transA, m, k, a, lda)
}

func packAWith(kern *microKernel, transA bool, m, k int, a []float32, lda int) *PackedA {
	p := &PackedA{m: m, k: k, numPC: (k + gemmKC - 1) / gemmKC, kern: kern}
	for ic := 0; ic < m; ic += gemmMC {
		mc := min(gemmMC, m-ic)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			buf := make([]float32, roundUp(mc, kern.mr)*kc)
			packA(kern.mr, transA, a, lda, ic, mc, pc, kc, buf)
			p.blocks = append(p.blocks, buf)
		}
	}
	return p
}

func (p *PackedA) block(ic, pc, mc, kc int, _ []float32) []float32 {
	return p.blocks[(ic/gemmMC)*p.numPC+pc/gemmKC]
}

// SgemmPackedA computes C = alpha·A·op(B) + beta·C with A packed by PackA: A is m×k, op(B)
// is k×n (B is n×k when transB), C is m×n with row stride ldc. It equals Sgemm on the
// unpacked A.
func SgemmPackedA(threads int, pa *PackedA, transB bool, n int, alpha float32, b []float32, ldb int, beta float32, c []float32, ldc int) {
	m, k := pa.m, pa.k
	if m <= 0 || n <= 0 {
		return
	}
	scaleC(m, n, beta, c, ldc)
	if k <= 0 || alpha == 0 {
		return
	}
	gemmParallelBlocks(pa.kern, threads, pa, m, n, k, alpha, transB, b, ldb, c, ldc)
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// gemmParallelBlocks splits C into column ranges (or row ranges when C is narrow) and runs
// the blocked product on each, on up to threads goroutines.
func gemmParallelBlocks(kern *microKernel, threads int, src aProvider, m, n, k int, alpha float32, transB bool, b []float32, ldb int, c []float32, ldc int) {
	if m*n*k < gemmParallel || threads < 2 {
		gemmBlocked(kern, src, 0, m, 0, n, k, alpha, transB, b, ldb, c, ldc)
		return
	}
	if n >= threads*4*kern.nr || m < 2*gemmMC {
		chunk := roundUp((n+threads-1)/threads, kern.nr)
		For(threads, (n+chunk-1)/chunk, func(job int) {
			j0 := job * chunk
			gemmBlocked(kern, src, 0, m, j0, min(n, j0+chunk), k, alpha, transB, b, ldb, c, ldc)
		})
		return
	}
	// Row ranges are whole gemmMC blocks so that pre-packed blocks of A line up.
	chunk := roundUp((m+threads-1)/threads, gemmMC)
	For(threads, (m+chunk-1)/chunk, func(job int) {
		i0 := job * chunk
		gemmBlocked(kern, src, i0, min(m, i0+chunk), 0, n, k, alpha, transB, b, ldb, c, ldc)
	})
}

// gemmBlocked adds alpha·A·op(B) to rows [i0, i1) and columns [j0, j1) of C.
func gemmBlocked(kern *microKernel, src aProvider, i0, i1, j0, j1, k int, alpha float32, transB bool, b []float32, ldb int, c []float32, ldc int) {
	mr, nr := kern.mr, kern.nr
	// One pooled buffer holds the packed B panels, the packed A block and the edge tile.
	bSize := roundUp(min(gemmNC, j1-j0), nr) * min(gemmKC, k)
	aSize := gemmMC * min(gemmKC, k)
	buf := GetFloat32(bSize + aSize + mr*nr)
	defer buf.Release()
	bbuf := buf.Buf[:bSize]
	abuf := buf.Buf[bSize : bSize+aSize]
	tile := buf.Buf[bSize+aSize:]
	for jc := j0; jc < j1; jc += gemmNC {
		nc := min(gemmNC, j1-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			packB(nr, transB, b, ldb, pc, kc, jc, nc, bbuf)
			for ic := i0; ic < i1; ic += gemmMC {
				mc := min(gemmMC, i1-ic)
				ap := src.block(ic, pc, mc, kc, abuf)
				for jr := 0; jr < nc; jr += nr {
					nrr := min(nr, nc-jr)
					bp := bbuf[jr*kc : jr*kc+nr*kc]
					for ir := 0; ir < mc; ir += mr {
						mrr := min(mr, mc-ir)
						apanel := ap[ir*kc : ir*kc+mr*kc]
						coff := (ic+ir)*ldc + jc + jr
						if mrr == mr && nrr == nr {
							kern.fn(kc, alpha, apanel, bp, c[coff:], ldc)
							continue
						}
						// Edge tile: compute the full tile into scratch, add the valid part.
						clear(tile)
						kern.fn(kc, alpha, apanel, bp, tile, nr)
						for r := 0; r < mrr; r++ {
							crow := c[coff+r*ldc : coff+r*ldc+nrr]
							for j := range crow {
								crow[j] += tile[r*nr+j]
							}
						}
					}
				}
			}
		}
	}
}

// packA copies op(A)[ic:ic+mc, pc:pc+kc] into dst as mr-row panels: panel r holds, for
// each p, the mr values of column p, zero past row mc.
func packA(mr int, transA bool, a []float32, lda, ic, mc, pc, kc int, dst []float32) {
	idx := 0
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		if !transA && rows == 3 && mr == 3 {
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
			for r := 0; r < mr; r++ {
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

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as nr-column panels: panel j holds, for
// each p, the nr values of row p, zero past column nc.
func packB(nr int, transB bool, b []float32, ldb, pc, kc, jc, nc int, dst []float32) {
	idx := 0
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		if !transB && cols == nr {
			for p := 0; p < kc; p++ {
				src := b[(pc+p)*ldb+jc+jr : (pc+p)*ldb+jc+jr+nr]
				copy(dst[idx:idx+nr], src)
				idx += nr
			}
			continue
		}
		for p := 0; p < kc; p++ {
			for j := 0; j < nr; j++ {
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
