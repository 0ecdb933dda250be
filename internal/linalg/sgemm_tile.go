package linalg

import (
	"fmt"
	"sync"
	"unsafe"
)

// tileArgs is the argument block of one tile micro-kernel call; the assembly reads it
// through the offsets go_asm.h gives (tileArgs_a, ...), so the fields may be reordered but
// must keep their names and types. See sgemm_gen.go for what a kernel computes.
type tileArgs struct {
	a     *float32 // row 0 of A, before tap offsets
	lda   int      // bytes between rows of A
	taps  *int     // byte offset of each tap
	ntaps int
	kc    int      // depth of each tap, >= 1
	b     *float32 // packed B panel: ntaps·kc rows of the panel's width
	c     *float32
	ldc   int // bytes
	bias  *float32
	z     *float32
	ldz   int // bytes
	flags int
	alpha float32
	lo    float32
	hi    float32
	mask  uint32 // lanes of the last vector that are columns of C (AVX-512)
}

// Flags of tileArgs, applied in this order after the product: acc·alpha, + C, + bias,
// + Z, clamp to [lo, hi].
const (
	tileAccumulate = 1
	tileBias       = 2
	tileResidual   = 4
	tileClamp      = 8
	tileAlpha      = 16
)

// A tileKernel computes tiles of up to maxMR rows and one of the panel widths nrs (widest
// first) of columns. Masked kernels handle a last panel narrower than its width; the
// others compute into a scratch tile that the driver copies.
type tileKernel struct {
	name   string
	maxMR  int
	nrs    []int
	masked bool
	// bare kernels ignore the epilogue flags: the driver always has them compute into a
	// scratch tile and applies the epilogue itself.
	bare bool
	// call computes a tile of mr rows and panel width nr.
	call func(mr, nr int, t *tileArgs)
}

// Epilogue says what happens to each product element C[i][j] = Σ A·B before it is stored:
//
//	v = Alpha·sum (Alpha 0 means 1) + C[i][j] (if Accumulate) + Bias[j] + Z[ZOff+i·LDZ+j]
//	C[i][j] = min(max(v, Lo), Hi) (if Clamp)
//
// Column j and row i are those of the whole product (Bias has one value per column of
// B). Activations other than a clamp (Relu is a clamp to [0, +Inf]) are applied by the
// caller afterwards, while the rows are still in cache.
type Epilogue struct {
	Alpha      float32
	Accumulate bool
	Bias       []float32
	Z          []float32
	ZOff, LDZ  int
	Clamp      bool
	Lo, Hi     float32
	// Done, when set, is called by PackedB.Mul as each block of C is complete, with the
	// block's rows [i0, i1) and columns [j0, j1), on the goroutine that computed it: the
	// caller applies another activation there while the block is in cache. Mul then keeps
	// blocks to about doneBlockBytes of C. MulRows ignores it.
	Done func(i0, i1, j0, j1 int)
}

// doneBlockBytes bounds the C block of a product with an Epilogue.Done: it stays in L2
// between its product and the activation.
const doneBlockBytes = 128 << 10

// PackedB is a k×n matrix B packed into column panels of the micro-kernel's widths, for
// products with many different A: Conv packs its constant weights this way when the
// session is built. It is only read afterwards, so concurrent products may share it.
type PackedB struct {
	k, n   int
	kern   *tileKernel
	data   []float32
	panels []bPanel
}

type bPanel struct {
	col, cols int // first column of B and number of columns
	width     int // packed width (the kernel's nr); columns past cols are zero
	off       int // offset in data
}

// Rows returns k, the depth of the products.
func (pb *PackedB) Rows() int { return pb.k }

// Cols returns n.
func (pb *PackedB) Cols() int { return pb.n }

// Panels returns the number of column panels; MulRows computes a range of them.
func (pb *PackedB) Panels() int { return len(pb.panels) }

// PanelCols returns the columns [j0, j1) of panel p.
func (pb *PackedB) PanelCols(p int) (j0, j1 int) {
	return pb.panels[p].col, pb.panels[p].col + pb.panels[p].cols
}

// PackB packs op(B) (k×n; B is n×k when transB) with row stride ldb.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	if transB {
		return PackBFunc(k, n, func(p, j int) float32 { return b[j*ldb+p] })
	}
	return packBWith(defaultTileKernel, k, n, func(p, j int) float32 { return b[p*ldb+j] })
}

// PackBFunc packs the k×n matrix whose element (p, j) is at(p, j): convolutions use it to
// lay out their weights in the order their rows of A are read.
func PackBFunc(k, n int, at func(p, j int) float32) *PackedB {
	return packBWith(defaultTileKernel, k, n, at)
}

func packBWith(kern *tileKernel, k, n int, at func(p, j int) float32) *PackedB {
	pb := &PackedB{k: k, n: n, kern: kern}
	pb.data = make([]float32, layoutPanels(pb))
	for _, pn := range pb.panels {
		d := pb.data[pn.off : pn.off+pn.width*k]
		for p := 0; p < k; p++ {
			for j := 0; j < pn.cols; j++ {
				d[p*pn.width+j] = at(p, pn.col+j)
			}
		}
	}
	return pb
}

// RowsOf says where MulRows reads rows of A: row i of the product, over tap t, is the kc
// elements starting at A[Off + i·LD + Taps[t]]; the product's depth is len(Taps)·KC (a
// nil Taps is one tap at offset 0). A plain matrix is {Off, lda, nil, k}; a convolution
// over a padded NHWC image reads one tap per kernel position.
type RowsOf struct {
	Off, LD int
	Taps    []int
	KC      int
}

var zeroTap = []int{0}

// layoutPanels splits pb's columns into panels of the kernel's widths (the widest, then
// the narrowest width that covers the rest) and returns the packed size.
func layoutPanels(pb *PackedB) int {
	size := 0
	for j := 0; j < pb.n; {
		w := pb.kern.nrs[0]
		for _, nr := range pb.kern.nrs {
			if nr >= pb.n-j {
				w = nr
			}
		}
		cols := min(w, pb.n-j)
		pb.panels = append(pb.panels, bPanel{col: j, cols: cols, width: w, off: size})
		size += w * pb.k
		j += cols
	}
	return size
}

// MulRows computes rows [0, m) and panels [p0, p1) of C = A·B with the epilogue applied:
// C[cOff + i·ldc + j] for the columns j of those panels. It runs on the caller's
// goroutine; callers split work over panels and row ranges themselves (see SgemmPackedB).
func (pb *PackedB) MulRows(m int, a []float32, rows RowsOf, c []float32, cOff, ldc int, p0, p1 int, ep *Epilogue) {
	if m <= 0 || p0 >= p1 {
		return
	}
	taps := rows.Taps
	if taps == nil {
		taps = zeroTap
	}
	if len(taps)*rows.KC != pb.k || rows.KC < 1 {
		panic(fmt.Sprintf("linalg: MulRows: %d taps of depth %d for a %d-row B", len(taps), rows.KC, pb.k))
	}
	// Check once the extent every access stays in, so the kernels need no checks.
	lo, hi := taps[0], taps[0]
	for _, t := range taps {
		lo, hi = min(lo, t), max(hi, t)
	}
	if rows.Off+lo < 0 || rows.Off+(m-1)*rows.LD+hi+rows.KC > len(a) {
		panic(fmt.Sprintf("linalg: MulRows: rows of A out of range (len %d)", len(a)))
	}
	j0, _ := pb.PanelCols(p0)
	_, j1 := pb.PanelCols(p1 - 1)
	checkMatrix("C", c, cOff+j0, m, j1-j0, ldc)
	var flags int
	// The argument block goes to the kernels through a function value, so it would escape
	// to the heap if it lived on the stack: take it from a pool instead.
	tp := tileArgsPool.Get().(*tileArgs)
	defer tileArgsPool.Put(tp)
	*tp = tileArgs{ntaps: len(taps), kc: rows.KC, lda: 4 * rows.LD, ldc: 4 * ldc}
	t := tp
	if ep != nil {
		if ep.Alpha != 0 && ep.Alpha != 1 {
			flags |= tileAlpha
			t.alpha = ep.Alpha
		}
		if ep.Accumulate {
			flags |= tileAccumulate
		}
		if ep.Bias != nil {
			flags |= tileBias
			if len(ep.Bias) < j1 {
				panic("linalg: MulRows: short bias")
			}
		}
		if ep.Z != nil {
			flags |= tileResidual
			checkMatrix("Z", ep.Z, ep.ZOff+j0, m, j1-j0, ep.LDZ)
			t.ldz = 4 * ep.LDZ
		}
		if ep.Clamp {
			flags |= tileClamp
			t.lo, t.hi = ep.Lo, ep.Hi
		}
	}
	t.flags = flags
	byteTaps := tapScratch.Get(len(taps))
	defer byteTaps.Release()
	for i, off := range taps {
		byteTaps.Buf[i] = 4 * off
	}
	t.taps = &byteTaps.Buf[0]
	kern := pb.kern
	var tile *Scratch[float32]
	for p := p0; p < p1; p++ {
		pn := pb.panels[p]
		t.b = &pb.data[pn.off]
		if flags&tileBias != 0 {
			t.bias = &ep.Bias[pn.col]
		}
		full := pn.cols == pn.width
		if !full && kern.masked {
			t.mask = uint32(1)<<(pn.cols-(pn.width-16)) - 1
		} else {
			t.mask = 0xffff
		}
		// The rows in tiles of nearly equal height: a row of 14 output pixels is 5+5+4
		// on 6-row tiles, not 6+6+2 (a 2-row tile loads B once per two multiply-adds).
		tiles := (m + kern.maxMR - 1) / kern.maxMR
		for ti, next := 0, 0; ti < tiles; ti++ {
			i, mr := next, (m-next)/(tiles-ti)
			next += mr
			t.a = &a[rows.Off+i*rows.LD]
			if (full || kern.masked) && !kern.bare {
				t.c = &c[cOff+i*ldc+pn.col]
				if flags&tileResidual != 0 {
					t.z = &ep.Z[ep.ZOff+i*ep.LDZ+pn.col]
				}
				kern.call(mr, pn.width, t)
				continue
			}
			// A narrow last panel on an unmasked kernel, or a bare kernel: compute the bare
			// product into a scratch tile, then apply the epilogue to the columns that exist.
			if tile == nil {
				tile = GetFloat32(kern.maxMR * kern.nrs[0])
				defer tile.Release()
			}
			bare := tileArgsPool.Get().(*tileArgs)
			*bare = *t
			bare.flags, bare.c, bare.ldc = 0, &tile.Buf[0], 4*pn.width
			kern.call(mr, pn.width, bare)
			tileArgsPool.Put(bare)
			for r := 0; r < mr; r++ {
				applyEpilogue(tile.Buf[r*pn.width:r*pn.width+pn.cols], c[cOff+(i+r)*ldc+pn.col:], ep, i+r, pn.col)
			}
		}
	}
}

var (
	tapScratch   ScratchPool[int]
	tileArgsPool = sync.Pool{New: func() any { return new(tileArgs) }}
)

// applyEpilogue stores the bare products sums (row i, columns j0...) into dst under ep.
func applyEpilogue(sums, dst []float32, ep *Epilogue, i, j0 int) {
	dst = dst[:len(sums)]
	for j, s := range sums {
		v := s
		if ep != nil {
			if ep.Alpha != 0 && ep.Alpha != 1 {
				v *= ep.Alpha
			}
			if ep.Accumulate {
				v += dst[j]
			}
			if ep.Bias != nil {
				v += ep.Bias[j0+j]
			}
			if ep.Z != nil {
				v += ep.Z[ep.ZOff+i*ep.LDZ+j0+j]
			}
			if ep.Clamp {
				v = min(max(v, ep.Lo), ep.Hi)
			}
		}
		dst[j] = v
	}
}

// checkMatrix panics unless rows×cols elements at off with row stride ld fit in s.
func checkMatrix(name string, s []float32, off, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if off < 0 || ld < cols || off+(rows-1)*ld+cols > len(s) {
		panic(fmt.Sprintf("linalg: %s (%d×%d, offset %d, stride %d) does not fit in %d elements", name, rows, cols, off, ld, len(s)))
	}
}

// goTileKernel is the portable tile kernel: up to 4 rows, panels 16 and 8 wide. It
// computes the bare product only (bare), so the driver applies every epilogue in Go.
var goTileKernel = &tileKernel{name: "go", maxMR: 4, nrs: []int{16, 8}, bare: true, call: goTile}

// goTile stores the bare product of the tile t describes into t.c; it ignores t.flags.
func goTile(mr, nr int, t *tileArgs) {
	ntaps, kc := t.ntaps, t.kc
	taps := unsafe.Slice(t.taps, ntaps)
	b := unsafe.Slice(t.b, ntaps*kc*nr)
	for r := 0; r < mr; r++ {
		var acc [16]float32
		row := acc[:nr]
		for ti, off := range taps {
			arow := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(t.a), r*t.lda+off)), kc)
			bt := b[ti*kc*nr:]
			for p, av := range arow {
				brow := bt[p*nr : (p+1)*nr]
				for j, bv := range brow {
					row[j] += av * bv
				}
			}
		}
		copy(unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(t.c), r*t.ldc)), nr), row)
	}
}
