package fused

import (
	"fmt"
	"sync/atomic"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

func init() {
	kernel.Register(kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpNhwcConv, SinceVersion: 1,
		Types: []ir.DataType{ir.Float}, New: newNhwcConv})
}

// nhwcConv is a 2-D convolution on channels-last tensors, with bias, residual and
// activation applied as each output tile is stored. Dense convolutions are products of
// the packed weights (k = kH·kW·C rows, tap-major) with rows of the input read in place:
// each output row of the image is one run of rows of A whose taps are offsets into a
// zero-padded copy of the input (or, for inputs with few channels, an im2col copy of
// that output row). Depthwise convolutions multiply each channel by its own filter.
type nhwcConv struct {
	node      *ir.Node
	win       window2D
	cin, cout int
	depthwise bool
	act       activation
	bias      []float32
	pb        *linalg.PackedB // dense weights
	dww       []float32       // depthwise weights, [tap][dwStride] (zero-padded)
	dwBias    []float32       // depthwise bias, dwStride values (zeros when absent)
	dwStride  int             // cout rounded up to 16
	dw        atomic.Pointer[dwPlan]
}

// im2colBelow is the tap depth (the values a tap reads in place: kW·C, or C with a
// dilation) under which a dense convolution copies its input rows (im2col, one output
// row at a time) instead: with shorter taps the tile kernel would spend its time
// switching taps. A 3-channel 3×3 stem reads 9 per tap in place: its three taps run
// within 10% of one depth-27 tap, and copying out the windows cost more than that.
const im2colBelow = 8

func newNhwcConv(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", n.Describe(), fmt.Sprintf(format, args...))
	}
	if len(info.Consts) < 2 || info.Consts[1] == nil {
		return nil, fail("the weights must be constant")
	}
	wt := info.Consts[1]
	w, ok := wt.Data.([]float32)
	if !ok || len(wt.Shape) != 4 {
		return nil, fail("weights %s: want float [M, C/group, kH, kW]", wt)
	}
	m, cg, kh, kw := int(wt.Shape[0]), int(wt.Shape[1]), int(wt.Shape[2]), int(wt.Shape[3])
	group := int(n.AttrInt("group", 1))
	act, err := parseActivation(n)
	if err != nil {
		return nil, fail("%v", err)
	}
	win, err := parseWindow2D(n, kh, kw)
	if err != nil {
		return nil, fail("%v", err)
	}
	if win.kh != kh || win.kw != kw {
		return nil, fail("kernel_shape %dx%d does not match the weights %v", win.kh, win.kw, wt.Shape)
	}
	k := &nhwcConv{node: n, win: win, cin: cg * group, cout: m, act: act}
	switch {
	case group == 1:
	case group == m && cg == 1:
		k.depthwise = true
	default:
		return nil, fail("group %d with weights %v: only dense and depthwise convolutions", group, wt.Shape)
	}
	if len(info.Consts) > 2 && info.Consts[2] != nil {
		b, ok := info.Consts[2].Data.([]float32)
		if !ok || len(b) != m {
			return nil, fail("bias %s: want %d floats", info.Consts[2], m)
		}
		k.bias = append([]float32(nil), b...)
	} else if len(info.Consts) > 2 && n.Input(2) != nil {
		return nil, fail("the bias must be constant")
	}
	taps := kh * kw
	if k.depthwise {
		k.dwStride = (m + 15) / 16 * 16
		k.dww = make([]float32, taps*k.dwStride)
		for c := 0; c < m; c++ {
			for t := 0; t < taps; t++ {
				k.dww[t*k.dwStride+c] = w[c*taps+t]
			}
		}
		k.dwBias = make([]float32, k.dwStride)
		copy(k.dwBias, k.bias)
		return k, nil
	}
	// Row p of B is tap p/C, channel p%C; column j is output channel j.
	cin := k.cin
	k.pb = linalg.PackBFunc(taps*cin, m, func(p, j int) float32 {
		t, c := p/cin, p%cin
		return w[(j*cin+c)*taps+t]
	})
	return k, nil
}

// epilogue returns the linear-algebra epilogue for the activation: a clamp for Relu and
// Clip; other activations are applied afterwards (post).
func (k *nhwcConv) epilogue() (ep linalg.Epilogue, post bool) {
	ep.Bias = k.bias
	lo, hi, ok := k.act.clamp()
	if ok {
		ep.Clamp, ep.Lo, ep.Hi = true, lo, hi
	}
	return ep, k.act.kind != "" && !ok
}

func (k *nhwcConv) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x, z := kernel.Input(inputs, 0), kernel.Input(inputs, 3)
	if x == nil || len(x.Shape) != 4 || int(x.Shape[3]) != k.cin {
		return nil, fmt.Errorf("%s: X %v: want [N, H, W, %d]", k.node.Describe(), shapeOf(x), k.cin)
	}
	xd, ok := x.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("%s: X must be float", k.node.Describe())
	}
	nb, ih, iw := int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2])
	g, err := k.win.resolve(ih, iw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	out := ctx.Alloc(ir.Float, int64(nb), int64(g.oh), int64(g.ow), int64(k.cout))
	y := out.Float32s()
	var zd []float32
	if z != nil {
		if zd, ok = z.Data.([]float32); !ok || len(zd) != len(y) {
			return nil, fmt.Errorf("%s: Z %v does not match Y %v", k.node.Describe(), shapeOf(z), out.Shape)
		}
	}
	if len(y) == 0 {
		return []*kernel.Tensor{out}, nil
	}
	threads := ctx.Parallelism()
	if k.depthwise {
		// Depthwise convolutions read the input in place: padding a copy costs more than
		// treating the border pixels apart, even on 7×7 images.
		k.runDepthwise(threads, xd, g, nb, y, zd)
		return []*kernel.Tensor{out}, nil
	}
	// The padded copy of the input is sized by the padding, strides and dilations
	// (attributes), not by the output: 2^30 rows of top padding with a stride of 2^30
	// give two output rows and a copy of 2^30. Weigh it before padInput takes it from the
	// pool.
	hp := paddedSize(g.ih, g.oh, g.kh, g.sh, g.dh, g.pt)
	wp := paddedSize(g.iw, g.ow, g.kw, g.sw, g.dw, g.pl)
	if g.pt != 0 || g.pl != 0 || hp > g.ih || wp > g.iw {
		if _, err := kernel.CheckedCount(ir.Float, []int64{int64(nb), int64(hp), int64(wp), int64(k.cin)}); err != nil {
			return nil, fmt.Errorf("%s: padded input: %w", k.node.Describe(), err)
		}
	}
	img := padInput(threads, xd, nb, k.cin, g)
	defer img.release()
	k.runDense(threads, img, g, nb, y, zd)
	return []*kernel.Tensor{out}, nil
}

func shapeOf(t *kernel.Tensor) any {
	if t == nil {
		return "missing"
	}
	return t.Shape
}

// paddedImage is the convolution input, with the padding as zeros, [N, hp, wp, C].
type paddedImage struct {
	data        []float32
	hp, wp, c   int
	offY, offX  int // where input (0, 0) sits: the top and left padding
	scratch     *linalg.Scratch[float32]
	contiguousM bool
}

func (p *paddedImage) release() { p.scratch.Release() }

// padInput returns x itself when no window reaches outside it, otherwise a copy with the
// padding materialised as zeros.
func padInput(threads int, x []float32, nb, c int, g geo2D) *paddedImage {
	hp := paddedSize(g.ih, g.oh, g.kh, g.sh, g.dh, g.pt)
	wp := paddedSize(g.iw, g.ow, g.kw, g.sw, g.dw, g.pl)
	if g.pt == 0 && g.pl == 0 && hp <= g.ih && wp <= g.iw {
		return &paddedImage{data: x, hp: g.ih, wp: g.iw, c: c}
	}
	s := linalg.GetFloat32(nb * hp * wp * c)
	p := &paddedImage{data: s.Buf, hp: hp, wp: wp, c: c, offY: g.pt, offX: g.pl, scratch: s}
	rowLen := wp * c
	linalg.ForCost(threads, nb*hp, rowLen, func(r int) {
		n, yy := r/hp, r%hp
		dst := p.data[r*rowLen : (r+1)*rowLen]
		iy := yy - g.pt
		if iy < 0 || iy >= g.ih {
			clear(dst)
			return
		}
		clear(dst[:g.pl*c])
		copy(dst[g.pl*c:], x[(n*g.ih+iy)*g.iw*c:(n*g.ih+iy+1)*g.iw*c])
		clear(dst[(g.pl+g.iw)*c:])
	})
	return p
}

// Dense convolutions run in one of four ways, chosen per input size:
//
//   - pointwise: a 1×1 convolution with unit strides and no padding is one product of
//     all pixels (rows of A, read in place) with the weights;
//   - implicit: each output row is a run of rows of A read in place from the padded
//     image, one tap per kernel row (a kernel row's kW pixels are contiguous channels-last),
//     so that nothing is copied but the padding;
//   - im2col by rows: with few input channels a tap is too short to run the tile kernel
//     on, so each output row's windows are first copied out (a row of kH·kW·C per pixel);
//   - im2col by image: outputs narrower than a tile (7×7) copy the windows of the whole
//     image, so that tiles span output rows and the weights, large in such layers,
//     stream past once.
const (
	modePointwise = iota
	modeImplicit
	modeIm2colRows
	modeIm2colImage
)

// im2colImageBytes bounds the receptive-field matrix of the images one product of the
// im2col-by-image mode covers: about L2.
const im2colImageBytes = 1 << 20

// tileRows is the height of the widest tile kernel's tiles; outputs narrower than this
// use im2col by image.
const tileRows = 14

// runDense computes the dense convolution: jobs are ranges of output rows × ranges of
// weight panels, sized so that a job's panels stay in L2 while its rows stream past.
func (k *nhwcConv) runDense(threads int, img *paddedImage, g geo2D, nb int, y, z []float32) {
	kdim := k.pb.Rows()
	ep, post := k.epilogue()
	if z != nil {
		ep.Z, ep.LDZ = z, k.cout
	}
	// Taps: one per kernel row when a row's pixels are adjacent (no dilation across it),
	// each kW·C long; otherwise one per kernel position.
	kc := k.cin
	if g.dw == 1 {
		kc = g.kw * k.cin
	}
	mode := modeImplicit
	switch {
	case g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && img.hp == g.oh && img.wp == g.ow:
		mode = modePointwise
	case g.ow < tileRows && g.kh*g.kw > 1:
		mode = modeIm2colImage
	case kc < im2colBelow && g.kh*g.kw > 1:
		mode = modeIm2colRows
	}
	var taps []int
	if g.dw == 1 {
		for ky := 0; ky < g.kh; ky++ {
			taps = append(taps, ky*g.dh*img.wp*img.c)
		}
	} else {
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				taps = append(taps, (ky*g.dh*img.wp+kx*g.dw)*img.c)
			}
		}
	}
	if post {
		// The activation runs on each block of the product as it completes, in cache.
		ep.Done = func(i0, i1, j0, j1 int) {
			if j0 == 0 && j1 == k.cout {
				k.act.apply(y[i0*k.cout : i1*k.cout])
				return
			}
			for i := i0; i < i1; i++ {
				k.act.apply(y[i*k.cout+j0 : i*k.cout+j1])
			}
		}
	}
	if mode == modePointwise {
		k.pb.Mul(threads, nb*g.oh*g.ow, img.data, linalg.RowsOf{LD: k.cin, KC: k.cin}, y, k.cout, &ep)
		return
	}
	if mode == modeIm2colImage {
		// Several images per product when they are small (a batch of 7×7 feature maps):
		// one image's 49 rows make jobs too short to share between threads, and every
		// product reads all of B again.
		pix := g.oh * g.ow
		per := max(1, min(nb, im2colImageBytes/(4*pix*kdim)))
		col := linalg.GetFloat32(per * pix * kdim)
		defer col.Release()
		for n0 := 0; n0 < nb; n0 += per {
			imgs := min(per, nb-n0)
			linalg.ForCost(threads, imgs*g.oh, g.ow*kdim, func(r int) {
				n, oy := n0+r/g.oh, r%g.oh
				aOff := ((n*img.hp + oy*g.sh) * img.wp) * img.c
				im2colRow(col.Buf[r*g.ow*kdim:(r+1)*g.ow*kdim], img, g, aOff, taps, kc)
			})
			jep := ep
			jep.ZOff = n0 * pix * k.cout
			if post {
				yn := y[n0*pix*k.cout:]
				jep.Done = func(i0, i1, j0, j1 int) {
					for i := i0; i < i1; i++ {
						k.act.apply(yn[i*k.cout+j0 : i*k.cout+j1])
					}
				}
			}
			k.pb.Mul(threads, imgs*pix, col.Buf, linalg.RowsOf{LD: kdim, KC: kdim}, y[n0*pix*k.cout:], k.cout, &jep)
		}
		return
	}
	// One segment per output row.
	nSeg := nb * g.oh
	segment := func(s int) (aOff, cOff int) {
		n, oy := s/g.oh, s%g.oh
		return ((n*img.hp + oy*g.sh) * img.wp) * img.c, (n*g.oh + oy) * g.ow * k.cout
	}
	panels := k.pb.Panels()
	panelBytes := kdim * 32 * 4
	pPerJob := max(1, min(panels, (512<<10)/panelBytes))
	pJobs := (panels + pPerJob - 1) / pPerJob
	sPerJob := max(1, nSeg*pJobs/(8*threads))
	if threads == 1 {
		sPerJob = nSeg
	}
	sJobs := (nSeg + sPerJob - 1) / sPerJob
	work := nSeg * g.ow * kdim * k.cout
	linalg.ForCost(threads, sJobs*pJobs, work/(sJobs*pJobs), func(job int) {
		s0 := (job / pJobs) * sPerJob
		s1 := min(nSeg, s0+sPerJob)
		p0 := (job % pJobs) * pPerJob
		p1 := min(panels, p0+pPerJob)
		jep := ep
		if mode == modeIm2colRows {
			col := linalg.GetFloat32(g.ow * kdim)
			defer col.Release()
			for s := s0; s < s1; s++ {
				aOff, cOff := segment(s)
				im2colRow(col.Buf, img, g, aOff, taps, kc)
				jep.ZOff = cOff
				k.pb.MulRows(g.ow, col.Buf, linalg.RowsOf{LD: kdim, KC: kdim}, y, cOff, k.cout, p0, p1, &jep)
				k.activateRow(post, y, cOff, g.ow, p0, p1)
			}
			return
		}
		// The job's panels stay in L2 (pPerJob) while its output rows pass; each row's
		// activation runs as soon as the row is done, while it is in cache.
		rows := linalg.RowsOf{LD: g.sw * img.c, Taps: taps, KC: kc}
		for s := s0; s < s1; s++ {
			aOff, cOff := segment(s)
			rows.Off = aOff
			jep.ZOff = cOff
			k.pb.MulRows(g.ow, img.data, rows, y, cOff, k.cout, p0, p1, &jep)
			k.activateRow(post, y, cOff, g.ow, p0, p1)
		}
	})
}

// activateRow applies the activation, when post, to panels [p0, p1) of the ow pixels of
// the output row at cOff.
func (k *nhwcConv) activateRow(post bool, y []float32, cOff, ow, p0, p1 int) {
	if !post {
		return
	}
	j0, _ := k.pb.PanelCols(p0)
	_, j1 := k.pb.PanelCols(p1 - 1)
	if j0 == 0 && j1 == k.cout {
		k.act.apply(y[cOff : cOff+ow*k.cout])
		return
	}
	for r := 0; r < ow; r++ {
		k.act.apply(y[cOff+r*k.cout+j0 : cOff+r*k.cout+j1])
	}
}

// im2colRow copies the receptive fields of one output row (whose first window starts at
// aOff in the padded image) into col, one row of taps·kc values per output pixel: each tap
// is kc contiguous values of the image.
func im2colRow(col []float32, img *paddedImage, g geo2D, aOff int, taps []int, kc int) {
	kdim := len(taps) * kc
	if kc <= 4 {
		// A few channels (a grayscale or RGB stem): element by element, since a copy call
		// per tap of 1 to 4 values costs more than the values.
		for ox := 0; ox < g.ow; ox++ {
			base := aOff + ox*g.sw*img.c
			dst := col[ox*kdim : (ox+1)*kdim]
			for t, off := range taps {
				src := img.data[base+off : base+off+kc]
				d := dst[t*kc : (t+1)*kc]
				for i, v := range src {
					d[i] = v
				}
			}
		}
		return
	}
	for ox := 0; ox < g.ow; ox++ {
		base := aOff + ox*g.sw*img.c
		dst := col[ox*kdim : (ox+1)*kdim]
		for t, off := range taps {
			copy(dst[t*kc:(t+1)*kc], img.data[base+off:base+off+kc])
		}
	}
}

// dwPlan holds the taps of a depthwise convolution for one input size: for every output
// row, the taps of its interior pixels (windows wholly inside the image) and of each
// border pixel, as offsets from the pixel's origin, the element of x where its window's
// top-left corner would be. No padded copy of the input is made.
type dwPlan struct {
	ih, iw int
	rows   []*dwRow // by output row; rows with the same kernel rows inside share one
	oxLo   int      // interior pixels are [oxLo, oxHi)
	oxHi   int
}

type dwRow struct {
	taps, wrow []int
	// rowOff and wRow describe the same taps by kernel row, for DepthwiseRowS1.
	rowOff, kRow []int
	border       []dwPixel
}

type dwPixel struct {
	ox         int
	taps, wrow []int
}

func (k *nhwcConv) depthwisePlan(g geo2D) *dwPlan {
	if p := k.dw.Load(); p != nil && p.ih == g.ih && p.iw == g.iw {
		return p
	}
	c := k.cout
	p := &dwPlan{ih: g.ih, iw: g.iw}
	p.oxLo = min(g.ow, (g.pl+g.sw-1)/g.sw)
	p.oxHi = p.oxLo
	for ox := p.oxLo; ox < g.ow && ox*g.sw-g.pl+(g.kw-1)*g.dw < g.iw; ox++ {
		p.oxHi = ox + 1
	}
	cases := map[[2]int]*dwRow{}
	for oy := 0; oy < g.oh; oy++ {
		iy0 := oy*g.sh - g.pt
		kyLo, kyHi := g.kh, 0
		for ky := 0; ky < g.kh; ky++ {
			if iy := iy0 + ky*g.dh; iy >= 0 && iy < g.ih {
				kyLo, kyHi = min(kyLo, ky), ky+1
			}
		}
		key := [2]int{kyLo, kyHi}
		row := cases[key]
		if row == nil {
			row = &dwRow{}
			add := func(taps, wrow *[]int, kx int) {
				for ky := kyLo; ky < kyHi; ky++ {
					*taps = append(*taps, (ky*g.dh*g.iw+kx*g.dw)*c)
					*wrow = append(*wrow, ky*g.kw+kx)
				}
			}
			for kx := 0; kx < g.kw; kx++ {
				add(&row.taps, &row.wrow, kx)
			}
			for ky := kyLo; ky < kyHi; ky++ {
				row.rowOff, row.kRow = append(row.rowOff, ky*g.dh*g.iw*c), append(row.kRow, ky)
			}
			for ox := 0; ox < g.ow; ox++ {
				if ox >= p.oxLo && ox < p.oxHi {
					continue
				}
				px := dwPixel{ox: ox}
				for kx := 0; kx < g.kw; kx++ {
					if ix := ox*g.sw - g.pl + kx*g.dw; ix >= 0 && ix < g.iw {
						add(&px.taps, &px.wrow, kx)
					}
				}
				row.border = append(row.border, px)
			}
			cases[key] = row
		}
		p.rows = append(p.rows, row)
	}
	k.dw.Store(p)
	return p
}

// runDepthwise computes a depthwise convolution one output row at a time, reading the
// unpadded input: interior pixels in one call of the row kernel, border pixels (and rows
// whose windows reach past the top or bottom) with only the taps inside the image.
func (k *nhwcConv) runDepthwise(threads int, x []float32, g geo2D, nb int, y, z []float32) {
	c := k.cout
	ep, post := k.epilogue()
	plan := k.depthwisePlan(g)
	nSeg := nb * g.oh
	outputRow := func(s int) {
		n, oy := s/g.oh, s%g.oh
		row := y[(n*g.oh+oy)*g.ow*c : (n*g.oh+oy+1)*g.ow*c]
		var zrow []float32
		if z != nil {
			zrow = z[(n*g.oh+oy)*g.ow*c : (n*g.oh+oy+1)*g.ow*c]
		}
		rp := plan.rows[oy]
		// origin(ox) = the element where pixel ox's window would start.
		origin := func(ox int) int { return (n*g.ih*g.iw + (oy*g.sh-g.pt)*g.iw + ox*g.sw - g.pl) * c }
		if len(rp.taps) == 0 {
			// No kernel row inside the image: the bias (and the epilogue) only.
			for ox := 0; ox < g.ow; ox++ {
				copy(row[ox*c:(ox+1)*c], k.dwBias[:c])
			}
			if zrow != nil {
				linalg.AddTo(row, zrow)
			}
			if ep.Clamp {
				linalg.Clamp(row, ep.Lo, ep.Hi)
			}
		} else {
			if plan.oxHi > plan.oxLo {
				lo := plan.oxLo
				var zs []float32
				if zrow != nil {
					zs = zrow[lo*c:]
				}
				if g.sw == 1 && g.dw == 1 {
					linalg.DepthwiseRowS1(row[lo*c:], x, origin(lo), rp.rowOff, rp.kRow, g.kw, k.dww, k.dwStride, k.dwBias,
						plan.oxHi-lo, c, zs, ep.Clamp, ep.Lo, ep.Hi)
				} else {
					linalg.DepthwiseRow(row[lo*c:], x, origin(lo), g.sw*c, rp.taps, rp.wrow, k.dww, k.dwStride, k.dwBias,
						plan.oxHi-lo, c, zs, ep.Clamp, ep.Lo, ep.Hi)
				}
			}
			for _, px := range rp.border {
				dst := row[px.ox*c : (px.ox+1)*c]
				var zs []float32
				if zrow != nil {
					zs = zrow[px.ox*c:]
				}
				if len(px.taps) == 0 {
					copy(dst, k.dwBias[:c])
					if zs != nil {
						linalg.AddTo(dst, zs)
					}
					if ep.Clamp {
						linalg.Clamp(dst, ep.Lo, ep.Hi)
					}
					continue
				}
				linalg.DepthwiseRow(dst, x, origin(px.ox), g.sw*c, px.taps, px.wrow, k.dww, k.dwStride, k.dwBias,
					1, c, zs, ep.Clamp, ep.Lo, ep.Hi)
			}
		}
		if post {
			k.act.apply(row)
		}
	}
	// Jobs are runs of consecutive output rows: windows overlap, so a thread computing
	// neighbouring rows reads each input row into its cache once, where rows dealt out one
	// at a time would have every thread read most input rows.
	size, chunks := linalg.Chunks(nSeg, 4*threads, 1)
	linalg.ForCost(threads, chunks, size*g.ow*c*g.kh*g.kw, func(ch int) {
		for s := ch * size; s < min(nSeg, (ch+1)*size); s++ {
			outputRow(s)
		}
	})
}
