package linalg

// Products with fewer multiply-adds than this, or fewer rows than smallM, use the plain
// loop: packing B would cost more than it saves.
const (
	gemmSmall = 16 * 16 * 16
	smallM    = 4
)

// gemmParallelMACs is the product size under which Mul stays on one goroutine: about
// ten microseconds of work, what handing work to a worker can cost.
const gemmParallelMACs = 1 << 21

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32 matrices, where
// op(A) is m×k (A is k×m when transA), op(B) is k×n (B is n×k when transB) and C is m×n;
// lda, ldb and ldc are the row strides. As in BLAS, beta == 0 overwrites C without reading
// it (so NaNs in C do not propagate). Products large enough to pay for it are split over
// up to threads goroutines (see For). SgemmRef is the definition.
func Sgemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(defaultTileKernel, threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemmWith(kern *tileKernel, threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || alpha == 0 || m*n*k < gemmSmall || m < smallM {
		scaleC(m, n, beta, c, ldc)
		if k > 0 && alpha != 0 {
			gemmAccumulateSimple(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc)
		}
		return
	}
	pb := packBScratch(kern, transB, k, n, b, ldb)
	defer pb.release()
	rows := RowsOf{LD: lda, KC: k}
	if transA {
		// Rows of op(A) are columns of A: copy them out once.
		at := GetFloat32(m * k)
		defer at.Release()
		for p := 0; p < k; p++ {
			for i, v := range a[p*lda : p*lda+m] {
				at.Buf[i*k+p] = v
			}
		}
		a, rows.LD = at.Buf, k
	}
	ep := Epilogue{Alpha: alpha}
	switch beta {
	case 0:
	case 1:
		ep.Accumulate = true
	default:
		scaleC(m, n, beta, c, ldc)
		ep.Accumulate = true
	}
	pb.Mul(threads, m, a, rows, c, ldc, &ep)
}

// Mul computes rows [0, m) of C = A·B under the epilogue, for every column, splitting the
// work into jobs of row blocks × panel groups over up to threads goroutines: MulRows for
// whole products. An epilogue's Z, when set, is indexed like C (ZOff is added).
//
// Each job streams its rows of A past its panels of B, so every extra row block reads B
// once more and every extra panel group reads A once more: a B larger than half the L2
// cache is split by panels unless A is the larger (m ≥ n). A 7×7 layer's 49 rows against
// a megabyte of weights thus splits the weights, read once in all, instead of reading
// them from memory once per row block; a B that stays in L2 is split by rows, whose
// blocks of C are whole rows (one activation call each).
func (pb *PackedB) Mul(threads, m int, a []float32, rows RowsOf, c []float32, ldc int, ep *Epilogue) {
	if m <= 0 {
		return
	}
	mr := pb.kern.maxMR
	panels := pb.Panels()
	if m*pb.n*pb.k < gemmParallelMACs {
		threads = 1
	}
	parts := 1
	if threads > 1 {
		parts = 4 * threads // at least four jobs per thread, so that unequal jobs even out
	}
	rowsFirst := m >= pb.n || 4*pb.k*pb.n <= l2Half
	mc := RowBlock(pb.k, pb.kern) // rows of A that stay in L2
	if !rowsFirst && m <= wholeRowsBelow {
		// B larger than L2 and than A, and few rows (a 7×7 layer's 49): one row block, so
		// that B comes from memory once rather than once per block; A, the smaller, is
		// what is read again, once per panel.
		mc = m
	}
	pc := panels      // panels per job
	split := func() { // rows, then panels, until there are parts jobs
		if rowsFirst && ceilDiv(m, mc) < parts {
			mc = min(mc, max(mr, roundUp(ceilDiv(m, parts), mr)))
		}
		if jm := ceilDiv(m, mc); jm < parts {
			pc = min(pc, ceilDiv(panels, ceilDiv(parts, jm)))
		}
		if jobs := ceilDiv(m, mc) * ceilDiv(panels, pc); jobs < parts {
			mc = min(mc, max(mr, roundUp(ceilDiv(m, ceilDiv(parts, ceilDiv(panels, pc))), mr)))
		}
	}
	split()
	done := ep != nil && ep.Done != nil
	if done {
		// A job's block of C stays in L2 until Done applies the activation to it: shrink
		// the blocks along the side being split.
		width := pb.panels[0].width
		for 4*min(mc, m)*pc*width > doneBlockBytes {
			if (rowsFirst || pc == 1) && mc > mr {
				mc = max(mr, roundUp(mc/2, mr))
			} else if pc > 1 {
				pc = ceilDiv(pc, 2)
			} else {
				break
			}
		}
	}
	jobsM, jobsN := ceilDiv(m, mc), ceilDiv(panels, pc)
	For(threads, jobsM*jobsN, func(job int) {
		bi, bj := job/jobsN, job%jobsN
		i0 := bi * mc
		p0 := bj * pc
		r := rows
		r.Off += i0 * rows.LD
		jep := ep
		if ep != nil && ep.Z != nil {
			e := *ep
			e.ZOff += i0 * ep.LDZ
			jep = &e
		}
		p1 := min(panels, p0+pc)
		pb.MulRows(min(mc, m-i0), a, r, c, i0*ldc, ldc, p0, p1, jep)
		if done {
			j0, _ := pb.PanelCols(p0)
			_, j1 := pb.PanelCols(p1 - 1)
			ep.Done(i0, i0+min(mc, m-i0), j0, j1)
		}
	})
}

// wholeRowsBelow is the row count up to which a product whose B does not stay in L2 runs
// all its rows against each panel. ResNet-18, two threads, 2-vCPU Zen 5: 11.4 -> 10.5 ms
// (its three 7×7 layers' 9.4 MB of weights were read four times each); ResNet-50 25.8 ->
// 24.7 ms.
const wholeRowsBelow = 64

// l2Half is half the L2 cache of one core, about what a B that is read repeatedly may
// take and still be there on its next pass.
const l2Half = 512 << 10

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// RowBlock returns how many rows of A a product of depth k should take at a time so that
// they stay in the L2 cache while B's panels stream past them: a multiple of the tile
// height, about 256 KiB of A.
func RowBlock(k int, kern *tileKernel) int {
	if kern == nil {
		kern = defaultTileKernel
	}
	rows := (256 << 10) / (4 * max(k, 1))
	return max(kern.maxMR, rows/kern.maxMR*kern.maxMR)
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

// scratchPackedB is a PackedB whose panels live in a pooled buffer, for one product.
type scratchPackedB struct {
	PackedB
	buf *Scratch[float32]
}

func (s *scratchPackedB) release() { s.buf.Release() }

// packBScratch packs op(B) like PackB, into pooled memory.
func packBScratch(kern *tileKernel, transB bool, k, n int, b []float32, ldb int) *scratchPackedB {
	s := &scratchPackedB{PackedB: PackedB{k: k, n: n, kern: kern}}
	size := layoutPanels(&s.PackedB)
	s.buf = GetFloat32(size)
	s.data = s.buf.Buf
	for _, pn := range s.panels {
		d := s.data[pn.off : pn.off+pn.width*k]
		for p := 0; p < k; p++ {
			row := d[p*pn.width : (p+1)*pn.width]
			if transB {
				for j := 0; j < pn.cols; j++ {
					row[j] = b[(pn.col+j)*ldb+p]
				}
			} else {
				copy(row, b[p*ldb+pn.col:p*ldb+pn.col+pn.cols])
			}
			clear(row[pn.cols:])
		}
	}
	return s
}

// PackedA is a matrix op(A) (m×k) kept for repeated products with different B
// (SgemmPackedA).
type PackedA struct {
	m, k int
	data []float32
}

// Rows returns m.
func (p *PackedA) Rows() int { return p.m }

// Cols returns k, the depth of the products.
func (p *PackedA) Cols() int { return p.k }

// PackA copies op(A) (m×k; A is k×m when transA) into contiguous rows for SgemmPackedA.
func PackA(transA bool, m, k int, a []float32, lda int) *PackedA {
	p := &PackedA{m: m, k: k, data: make([]float32, m*k)}
	for i := 0; i < m; i++ {
		for q := 0; q < k; q++ {
			if transA {
				p.data[i*k+q] = a[q*lda+i]
			} else {
				p.data[i*k+q] = a[i*lda+q]
			}
		}
	}
	return p
}

// SgemmPackedA computes C = alpha·A·op(B) + beta·C with A from PackA: A is m×k, op(B)
// is k×n (B is n×k when transB), C is m×n with row stride ldc. It equals Sgemm on the
// unpacked A.
func SgemmPackedA(threads int, pa *PackedA, transB bool, n int, alpha float32, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(threads, false, transB, pa.m, n, pa.k, alpha, pa.data, max(pa.k, 1), b, ldb, beta, c, ldc)
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }
