package linalg

import (
	"fmt"
	"math"
)

// Integer GEMM (QGemm): uint8 activations A (m×k, row-major) times int8 weights B (k×n)
// packed once, into int32:
//
//	C[i][j] = init[j] + Σ_k (A[i][k] − zeroA)·(B[k][j] − zeroB[j])
//
// The micro-kernels multiply raw bytes, so the zero points are taken out around them:
//
//	Σ (a − za)(b − zb) = Σ a·b − za·colSum[j] − zb[j]·rowSum[i] + K·za·zb[j]
//
// The column terms are folded into the accumulators' initial values (with the bias), and the
// row term, needed only when B has a nonzero zero point (rare: weights are quantized
// symmetrically), is subtracted afterwards.
//
// Packed layout of B: columns are padded to a multiple of 16 and cut into groups of up to
// 64 (four 16-column blocks). A group of nb blocks holds, for each step kk of ⌈K/4⌉, the
// bytes B[4kk+t][j] for t < 4 of each column j of the group (4 consecutive bytes per
// column, columns in order), past K padded with zeros. That is the operand order of
// vpdpbusd: one dword of A (4 depths of one row) broadcast against 16 dwords of B (4
// depths of 16 columns). The wide layout of the int16 AVX2 kernel (see qgemm_gen.go) stores
// each step as two steps of two depths, every value an int16.

const (
	qBlock = 16 // columns per block (one zmm of int32)
	qGroup = 64 // columns per group (four blocks)
	qRows  = 6  // rows per micro-kernel call
)

// qKernel is one micro-kernel: fn computes, for r < rows (≤ qRows) and j < n,
//
//	c[r*ldc+j] = init[j] + Σ_t Σ_{p<4·k4t} a[offs[t]+r*lda+p]·B[4·k4t·t+p][j]
//
// with b at the first column group of B's packed layout (planes per step as the kernel
// expects) and init holding at least n rounded up to 16 values. A is read in taps (see
// QGemmTaps); a plain product has offs = {0}.
type qKernel struct {
	name   string
	group  int // columns per group of the packed layout: 64 or 16
	planes int // 2 for the wide layout (twice the bytes)
	// wide kernels multiply int16: B holds int16 pairs of depths (see genYmm's avx2wide) and
	// A is widened per tile by the kernel's wrapper.
	wide bool
	fn   func(a []uint8, offs []int, k4t, lda int, b []int8, c []int32, ldc, rows, n int, init []int32)
	// fused, when the kernel has one, requantizes in registers: it writes bytes to y (row
	// stride ldy) instead of int32s, with init followed, npad values on, by the columns'
	// scales (float32 bits) and rq's zero point and clamp.
	fused func(a []uint8, offs []int, k4t, lda int, b []int8, y []uint8, ldy, rows, n int, init []int32, npad int, rq *QRequant)
}

// The portable kernel; qgemm_amd64.go adds the assembly ones.
var qKernelGo = &qKernel{name: "go", group: qBlock, planes: 1, fn: qgemmKernelGo}

// QMatrixB is a constant int8 matrix B (K×N) packed for QGemm. It is immutable after
// PackQMatrixB and safe for concurrent use.
type QMatrixB struct {
	K, N int
	k4   int
	kern *qKernel
	data []int8
	// colSums[j] = Σ_k B[k][j]; zeroPoints[j] is B's zero point for column j (nil: all 0).
	colSums    []int32
	zeroPoints []int32
}

// PackQMatrixB packs B (K×N with row stride ldb; N×K when trans) and its zero points
// (nil, one for all columns, or one per column) for the kernel this CPU runs best.
func PackQMatrixB(k, n int, b []int8, ldb int, trans bool, zeroPoints []int8) (*QMatrixB, error) {
	return packQMatrixB(k, n, b, ldb, trans, zeroPoints, nil)
}

// packQMatrixB packs for kern, or for the best kernel of this CPU when kern is nil.
func packQMatrixB(k, n int, b []int8, ldb int, trans bool, zeroPoints []int8, kern *qKernel) (*QMatrixB, error) {
	if k < 1 || n < 1 {
		return nil, fmt.Errorf("qgemm: B must be at least 1×1, got %d×%d", k, n)
	}
	rows, cols := k, n
	if trans {
		rows, cols = n, k
	}
	if ldb < cols || len(b) < (rows-1)*ldb+cols {
		return nil, fmt.Errorf("qgemm: B (%d×%d, stride %d) needs %d values, has %d", rows, cols, ldb, (rows-1)*ldb+cols, len(b))
	}
	if len(zeroPoints) != 0 && len(zeroPoints) != 1 && len(zeroPoints) != n {
		return nil, fmt.Errorf("qgemm: %d zero points for %d columns (want 0, 1 or %d)", len(zeroPoints), n, n)
	}
	at := func(kk, j int) int8 {
		if trans {
			return b[j*ldb+kk]
		}
		return b[kk*ldb+j]
	}
	pb := &QMatrixB{K: k, N: n, k4: (k + 3) / 4, colSums: make([]int32, n)}
	for j := 0; j < n; j++ {
		var s int32
		for kk := 0; kk < k; kk++ {
			s += int32(at(kk, j))
		}
		pb.colSums[j] = s
	}
	for _, z := range zeroPoints {
		if z != 0 {
			pb.zeroPoints = make([]int32, n)
			for j := range pb.zeroPoints {
				pb.zeroPoints[j] = int32(zeroPoints[min(j, len(zeroPoints)-1)])
			}
			break
		}
	}
	if kern == nil {
		kern = bestQKernel(pairsSaturate(k, n, at))
	}
	pb.kern = kern
	planes, group := kern.planes, kern.group
	npad := qRoundUp(n, qBlock)
	pb.data = make([]int8, pb.k4*4*npad*planes)
	for g := 0; g*group < npad; g++ {
		width := min(group, npad-g*group)
		base := g * pb.k4 * 4 * group * planes
		rowBytes := 4 * width * planes
		for kk := 0; kk < pb.k4; kk++ {
			for jj := 0; jj < width; jj++ {
				j := g*group + jj
				for t := 0; t < 4; t++ {
					d := 4*kk + t
					var v int8
					if j < n && d < k {
						v = at(d, j)
					}
					if kern.wide {
						// Two int16 steps of two depths each: 64 bytes per step.
						off := base + kk*rowBytes + (t/2)*64 + 4*jj + (t%2)*2
						w := int16(v)
						pb.data[off], pb.data[off+1] = int8(w), int8(w>>8)
						continue
					}
					pb.data[base+kk*rowBytes+4*jj+t] = v
				}
			}
		}
	}
	return pb, nil
}

// pairsSaturate reports whether vpmaddubsw could saturate on B: it adds the products of two
// adjacent depths (4kk, 4kk+1 and 4kk+2, 4kk+3) in int16, and with A up to 255 that sum
// exceeds int16 when the positive (or negative) parts of a pair add to more than 128.
// Weights quantized to 7 bits (reduce-range) never do.
func pairsSaturate(k, n int, at func(kk, j int) int8) bool {
	for j := 0; j < n; j++ {
		for kk := 0; kk+1 < k; kk += 2 {
			b0, b1 := int(at(kk, j)), int(at(kk+1, j))
			if max(b0, 0)+max(b1, 0) > 128 || max(-b0, 0)+max(-b1, 0) > 128 {
				return true
			}
		}
	}
	return false
}

// QKernelName names the micro-kernel B was packed for (for reports and benchmarks).
func (b *QMatrixB) QKernelName() string { return b.kern.name }

// groupOffset is the offset in data of the column group starting at column j.
func (b *QMatrixB) groupOffset(j int) int {
	return j / b.kern.group * b.k4 * 4 * b.kern.group * b.kern.planes
}

// QGemm computes C[i][j] = bias[j] + Σ_k (A[i][k] − zeroA)·(B[k][j] − zeroB[j]) for i < m,
// j < B.N, with int32 wrap-around as in the ONNX reference. A is m×K with row stride lda;
// bias may be nil. C has row stride ldc; only its m×N elements are written. Up to threads
// goroutines share the rows (see For).
func QGemm(threads, m int, a []uint8, lda int, zeroA uint8, b *QMatrixB, bias []int32, c []int32, ldc int) {
	if m <= 0 {
		return
	}
	checkPlain(m, a, lda, b, bias)
	if ldc < b.N || len(c) < (m-1)*ldc+b.N {
		panic(fmt.Sprintf("qgemm: C (%d×%d, stride %d) has %d values", m, b.N, ldc, len(c)))
	}
	qgemm(threads, m, a, wholeRow, b.K, lda, zeroA, b, bias, qOutput{c: c, ldc: ldc})
}

// QGemmRequant is QGemm followed by rq: the int32 sums become 8-bit values in y (row stride
// ldy), requantized in the micro-kernel's registers where it can (the AVX512-VNNI and AVX2
// kernels), else tile by tile, so that no m×N int32 matrix is written.
func QGemmRequant(threads, m int, a []uint8, lda int, zeroA uint8, b *QMatrixB, bias []int32, rq *QRequant, y []uint8, ldy int) {
	if m <= 0 {
		return
	}
	checkPlain(m, a, lda, b, bias)
	checkBytes(m, b, rq, y, ldy)
	qgemm(threads, m, a, wholeRow, b.K, lda, zeroA, b, bias, qOutput{rq: rq, y: y, ldy: ldy})
}

func checkPlain(m int, a []uint8, lda int, b *QMatrixB, bias []int32) {
	if lda < b.K || len(a) < (m-1)*lda+b.K {
		panic(fmt.Sprintf("qgemm: A (%d×%d, stride %d) has %d values", m, b.K, lda, len(a)))
	}
	if bias != nil && len(bias) < b.N {
		panic(fmt.Sprintf("qgemm: %d bias values for %d columns", len(bias), b.N))
	}
}

func checkBytes(m int, b *QMatrixB, rq *QRequant, y []uint8, ldy int) {
	if rq.Columns() != b.N {
		panic(fmt.Sprintf("qgemm: requantization of %d columns for %d", rq.Columns(), b.N))
	}
	if ldy < b.N || len(y) < (m-1)*ldy+b.N {
		panic(fmt.Sprintf("qgemm: Y (%d×%d, stride %d) has %d bytes", m, b.N, ldy, len(y)))
	}
}

// qOutput is where a product goes: int32 sums in c, or bytes in y through rq.
type qOutput struct {
	c   []int32
	ldc int
	rq  *QRequant
	y   []uint8
	ldy int
}

// wholeRow is the tap list of a plain product: each row of A in one piece.
var wholeRow = []int{0}

// QGemmTaps is QGemm with A read in taps, the shape of a convolution over its input in
// place: row i of A is the concatenation over t of the kTap bytes at a[offs[t]+i·lda:],
// each tap rounded up to a multiple of 4 bytes (the bytes past kTap, which the kernels also
// read, meet zero weights). B must have been packed with K = len(offs)·roundUp(kTap, 4), the
// rows of tap t at t·roundUp(kTap, 4), zeros in the padding, and without zero points (a
// tap's padding bytes would count in a row sum). a must hold offs[t] + (m-1)·lda +
// roundUp(kTap, 4) bytes for every t.
func QGemmTaps(threads, m int, a []uint8, offs []int, kTap, lda int, zeroA uint8, b *QMatrixB, bias []int32, c []int32, ldc int) {
	if m <= 0 {
		return
	}
	checkTaps(m, a, offs, kTap, lda, b)
	if ldc < b.N || len(c) < (m-1)*ldc+b.N {
		panic(fmt.Sprintf("qgemm: C (%d×%d, stride %d) has %d values", m, b.N, ldc, len(c)))
	}
	qgemm(threads, m, a, offs, kTap, lda, zeroA, b, bias, qOutput{c: c, ldc: ldc})
}

// QGemmTapsRequant is QGemmTaps followed by rq, as QGemmRequant is QGemm followed by rq.
func QGemmTapsRequant(threads, m int, a []uint8, offs []int, kTap, lda int, zeroA uint8, b *QMatrixB, bias []int32, rq *QRequant, y []uint8, ldy int) {
	if m <= 0 {
		return
	}
	checkTaps(m, a, offs, kTap, lda, b)
	checkBytes(m, b, rq, y, ldy)
	qgemm(threads, m, a, offs, kTap, lda, zeroA, b, bias, qOutput{rq: rq, y: y, ldy: ldy})
}

func checkTaps(m int, a []uint8, offs []int, kTap, lda int, b *QMatrixB) {
	k4t := (kTap + 3) / 4
	if len(offs) == 0 || b.K != len(offs)*4*k4t || b.zeroPoints != nil {
		panic(fmt.Sprintf("qgemm: B (K=%d, zero points %v) does not fit %d taps of %d bytes", b.K, b.zeroPoints != nil, len(offs), kTap))
	}
	for _, o := range offs {
		if o < 0 || o+(m-1)*lda+4*k4t > len(a) {
			panic(fmt.Sprintf("qgemm: tap at %d of %d rows (stride %d) overruns A (%d bytes)", o, m, lda, len(a)))
		}
	}
}

// qgemm runs a checked product: the accumulators' start values (and, for a fused
// requantization, the column scales after them), then jobs of whole 6-row tiles, a few per
// thread.
func qgemm(threads, m int, a []uint8, offs []int, kTap, lda int, zeroA uint8, b *QMatrixB, bias []int32, out qOutput) {
	npad := qRoundUp(b.N, qBlock)
	init := GetInt32s(2 * npad)
	defer init.Release()
	b.initValues(zeroA, bias, init.Buf[:npad])
	fused := out.rq != nil && b.kern.fused != nil && b.zeroPoints == nil
	if fused {
		for j, s := range out.rq.scale {
			init.Buf[npad+j] = int32(math.Float32bits(s))
		}
	}
	size, jobs := Chunks((m+qRows-1)/qRows, 4*threads, 1)
	j := qgemmJobs{m: m, size: size * qRows, a: a, offs: offs, kTap: kTap, lda: lda, b: b, init: init.Buf, npad: npad, fused: fused, out: out}
	cost := j.size * b.N * b.K // multiply-adds per job
	if threads > 1 && j.splitColumns(threads) {
		jobs, cost = j.colJobs, m*j.cols*b.K
	}
	if threads < 2 || jobs < 2 || jobs*cost < minParallelCost {
		// Serial calls build no closure: a product inside another kernel's job allocates
		// nothing.
		for job := 0; job < jobs; job++ {
			j.run(job)
		}
		return
	}
	jp := j
	ForCost(threads, jobs, cost, func(job int) { jp.run(job) })
}

// qgemmJobs is a product split into jobs of size rows or, when colJobs > 1, into colJobs
// jobs of cols columns over every row.
type qgemmJobs struct {
	m, size       int
	cols, colJobs int
	a             []uint8
	offs          []int
	kTap          int
	lda           int
	b             *QMatrixB
	init          []int32
	npad          int
	fused         bool
	out           qOutput
}

// splitColumns makes the jobs column ranges over every row when B is the larger operand
// and more than L2 can hold: split by rows, every job would stream all of B from the
// shared cache (a 3×3 512-channel layer's 2.4 MB for each of its few 7×7 row blocks),
// split by columns each core reads its part of B once. It needs the requantization to
// run in the kernel (or no requantization and no B zero points), which works on any
// columns; it reports whether it split.
func (j *qgemmJobs) splitColumns(threads int) bool {
	b := j.b
	if !b.PrefersColumnSplit(j.m) || !(j.fused || (j.out.rq == nil && b.zeroPoints == nil)) {
		return false
	}
	unit := max(qGroup, b.kern.group)
	groups := (b.N + unit - 1) / unit                        // at least two: PrefersColumnSplit
	j.cols = (groups + 2*threads - 1) / (2 * threads) * unit // two jobs per thread
	j.colJobs = (b.N + j.cols - 1) / j.cols
	return true
}

// PrefersColumnSplit reports whether a product of m rows with b is better shared between
// threads by columns of B than by rows of A (B is at least twice the L2 budget of one
// pass and twice A): callers that split rows themselves should then hand all the rows to
// one threaded call.
func (b *QMatrixB) PrefersColumnSplit(m int) bool {
	bBytes := b.K * b.N
	return bBytes >= 2*qgemmBlockBytes && bBytes >= 2*m*b.K && b.N >= 2*max(qGroup, b.kern.group)
}

func (j *qgemmJobs) run(job int) {
	a, offs, kTap, lda, b, init, npad, out := j.a, j.offs, j.kTap, j.lda, j.b, j.init, j.npad, j.out
	if j.colJobs > 1 {
		c0, c1 := job*j.cols, min(b.N, (job+1)*j.cols)
		if out.rq == nil {
			qgemmCols(0, j.m, c0, c1, a, offs, kTap, lda, b, init, npad, out.c, out.ldc, nil, nil, 0)
		} else {
			qgemmCols(0, j.m, c0, c1, a, offs, kTap, lda, b, init, npad, nil, 0, out.rq, out.y, out.ldy)
		}
		return
	}
	i0, i1 := job*j.size, min(j.m, (job+1)*j.size)
	switch {
	case out.rq == nil:
		qgemmRows(i0, i1, a, offs, kTap, lda, b, init, npad, out.c[i0*out.ldc:], out.ldc, nil, nil, 0)
		b.subtractRowTerms(i0, i1, a, lda, out.c, out.ldc)
	case j.fused:
		qgemmRows(i0, i1, a, offs, kTap, lda, b, init, npad, nil, 0, out.rq, out.y[i0*out.ldy:], out.ldy)
	default:
		// Requantize after the product, a block of rows at a time.
		const block = 8 * qRows
		acc := GetInt32s(block * b.N)
		defer acc.Release()
		for r0 := i0; r0 < i1; r0 += block {
			r1 := min(i1, r0+block)
			qgemmRows(r0, r1, a, offs, kTap, lda, b, init, npad, acc.Buf, b.N, nil, nil, 0)
			b.subtractRowTermsFrom(r0, r0, r1, a, lda, acc.Buf, b.N)
			out.rq.Rows(r1-r0, acc.Buf, b.N, out.y[r0*out.ldy:], out.ldy)
		}
	}
}

// initValues fills init with each column's starting value: bias − za·colSum + K·za·zb.
func (b *QMatrixB) initValues(zeroA uint8, bias []int32, init []int32) {
	za := int32(zeroA)
	for j := 0; j < b.N; j++ {
		v := -za * b.colSums[j]
		if bias != nil {
			v += bias[j]
		}
		if b.zeroPoints != nil {
			v += int32(b.K) * za * b.zeroPoints[j]
		}
		init[j] = v
	}
	clear(init[b.N:])
}

// subtractRowTerms takes zb[j]·Σ_k A[i][k] off rows [i0, i1) of C when B has zero points.
// (Only plain products have zero points; QGemmTaps refuses them.) c holds row i0 at
// (i0-c0)·ldc: c0 is the row C starts at.
func (b *QMatrixB) subtractRowTerms(i0, i1 int, a []uint8, lda int, c []int32, ldc int) {
	b.subtractRowTermsFrom(0, i0, i1, a, lda, c, ldc)
}

func (b *QMatrixB) subtractRowTermsFrom(c0, i0, i1 int, a []uint8, lda int, c []int32, ldc int) {
	if b.zeroPoints == nil {
		return
	}
	for i := i0; i < i1; i++ {
		var s int32
		for _, v := range a[i*lda : i*lda+b.K] {
			s += int32(v)
		}
		row := c[(i-c0)*ldc : (i-c0)*ldc+b.N]
		for j := range row {
			row[j] -= b.zeroPoints[j] * s
		}
	}
}

// qgemmBlockBytes bounds the packed B bytes one pass over A's rows streams through: they stay
// in L2 while a 6-row slice of A stays in L1.
const qgemmBlockBytes = 256 << 10

// qgemmRows runs the micro-kernel over rows [i0, i1) of A (init already made), A read in
// taps of kTap bytes (b.K for a plain product), writing row i at c[(i-i0)·ldc:] or, when
// rq is set (a fused kernel), at y[(i-i0)·ldy:].
func qgemmRows(i0, i1 int, a []uint8, offs []int, kTap, lda int, b *QMatrixB, init []int32, npad int, c []int32, ldc int, rq *QRequant, y []uint8, ldy int) {
	qgemmCols(i0, i1, 0, b.N, a, offs, kTap, lda, b, init, npad, c, ldc, rq, y, ldy)
}

// qgemmCols is qgemmRows for columns [jLo, jHi) only; jLo is a multiple of the packed
// layout's group width.
func qgemmCols(i0, i1, jLo, jHi int, a []uint8, offs []int, kTap, lda int, b *QMatrixB, init []int32, npad int, c []int32, ldc int, rq *QRequant, y []uint8, ldy int) {
	kern := b.kern
	k4 := b.k4
	k4t := (kTap + 3) / 4
	// Columns per pass: a multiple of the group width whose packed B fits the budget.
	nc := max(qGroup, qgemmBlockBytes/(4*k4*kern.planes)/qGroup*qGroup)
	nc = nc / kern.group * kern.group
	// The kernel reads 4·k4 bytes of each row: a final row shorter than that (K not a
	// multiple of 4, A ending at the row) is copied into a padded tile.
	var tail *Scratch[uint8]
	defer func() { tail.Release() }()
	for j0 := jLo; j0 < jHi; j0 += nc {
		n := min(nc, jHi-j0)
		bp := b.data[b.groupOffset(j0):]
		// Tiles of nearly equal height (a 14-row product is 5+5+4, not 6+6+2), as MulRows.
		tiles := (i1 - i0 + qRows - 1) / qRows
		for ti, next := 0, i0; ti < tiles; ti++ {
			i, rows := next, (i1-next)/(tiles-ti)
			next += rows
			ap, ldap := a[i*lda:], lda
			if len(offs) == 1 && (rows-1)*lda+4*k4 > len(ap) {
				if tail == nil {
					tail = GetBytes(qRows * 4 * k4)
				}
				ap, ldap = padRows(ap, lda, rows, b.K, 4*k4, tail.Buf)
			}
			if rq != nil {
				kern.fused(ap, offs, k4t, ldap, bp, y[(i-i0)*ldy+j0:], ldy, rows, n, init[j0:], npad, rq)
			} else {
				kern.fn(ap, offs, k4t, ldap, bp, c[(i-i0)*ldc+j0:], ldc, rows, n, init[j0:])
			}
		}
	}
}

// padRows copies rows×k values of a into buf as rows of kpad bytes (zeros after k).
func padRows(a []uint8, lda, rows, k, kpad int, buf []uint8) ([]uint8, int) {
	buf = buf[:rows*kpad]
	clear(buf)
	for r := 0; r < rows; r++ {
		copy(buf[r*kpad:r*kpad+k], a[r*lda:r*lda+k])
	}
	return buf, kpad
}

// qgemmKernelGo is the portable micro-kernel on the one-plane, 16-column-group layout.
func qgemmKernelGo(a []uint8, offs []int, k4t, lda int, b []int8, c []int32, ldc, rows, n int, init []int32) {
	const width = qBlock
	k4 := len(offs) * k4t
	var acc [width]int32
	for g := 0; g*width < n; g++ {
		gb := b[g*k4*4*width:]
		cols := min(width, n-g*width)
		for r := 0; r < rows; r++ {
			copy(acc[:], init[g*width:g*width+width])
			for t, off := range offs {
				arow := a[off+r*lda : off+r*lda+4*k4t]
				for kk := 0; kk < k4t; kk++ {
					a0, a1, a2, a3 := int32(arow[4*kk]), int32(arow[4*kk+1]), int32(arow[4*kk+2]), int32(arow[4*kk+3])
					step := gb[(t*k4t+kk)*4*width : (t*k4t+kk+1)*4*width]
					for jj := 0; jj < width; jj++ {
						w := step[4*jj : 4*jj+4 : 4*jj+4]
						acc[jj] += a0*int32(w[0]) + a1*int32(w[1]) + a2*int32(w[2]) + a3*int32(w[3])
					}
				}
			}
			copy(c[r*ldc+g*width:r*ldc+g*width+cols], acc[:cols])
		}
	}
}

// qgemmRef is the definition QGemm is tested against.
func qgemmRef(m, n, k int, a []uint8, lda int, zeroA uint8, b []int8, ldb int, zeroB []int8, bias []int32, c []int32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int32
			if bias != nil {
				s = bias[j]
			}
			var zb int32
			if len(zeroB) > 0 {
				zb = int32(zeroB[min(j, len(zeroB)-1)])
			}
			for p := 0; p < k; p++ {
				s += (int32(a[i*lda+p]) - int32(zeroA)) * (int32(b[p*ldb+j]) - zb)
			}
			c[i*ldc+j] = s
		}
	}
}

func qRoundUp(x, to int) int { return (x + to - 1) / to * to }
