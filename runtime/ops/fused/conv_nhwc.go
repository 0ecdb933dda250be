package fused

import (
	"fmt"

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
	dww       []float32       // depthwise weights, [tap][cout]
	im2col    bool
}

// im2colBelow is the channel count under which a dense convolution copies its input rows
// (im2col, one output row at a time) instead of reading one tap at a time: with few
// channels per tap the tile kernel would spend its time switching taps.
const im2colBelow = 16

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
		k.dww = make([]float32, taps*m)
		for c := 0; c < m; c++ {
			for t := 0; t < taps; t++ {
				k.dww[t*m+c] = w[c*taps+t]
			}
		}
		return k, nil
	}
	// Row p of B is tap p/C, channel p%C; column j is output channel j.
	cin := k.cin
	k.pb = linalg.PackBFunc(taps*cin, m, func(p, j int) float32 {
		t, c := p/cin, p%cin
		return w[(j*cin+c)*taps+t]
	})
	k.im2col = cin < im2colBelow && taps > 1
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
	g := k.win.resolve(ih, iw)
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
	img := padInput(threads, xd, nb, k.cin, g)
	defer img.release()
	if k.depthwise {
		k.runDepthwise(threads, img, g, nb, y, zd)
	} else {
		k.runDense(threads, img, g, nb, y, zd)
	}
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

// runDense computes the dense convolution: jobs are ranges of output rows × ranges of
// weight panels, sized so that a job's panels stay in L2 while its rows stream past.
func (k *nhwcConv) runDense(threads int, img *paddedImage, g geo2D, nb int, y, z []float32) {
	kdim := k.pb.Rows()
	ep, post := k.epilogue()
	if z != nil {
		ep.Z, ep.LDZ = z, k.cout
	}
	taps := make([]int, 0, g.kh*g.kw)
	for ky := 0; ky < g.kh; ky++ {
		for kx := 0; kx < g.kw; kx++ {
			taps = append(taps, (ky*g.dh*img.wp+kx*g.dw)*img.c)
		}
	}
	// A segment is a run of output pixels whose input rows are equally spaced: one output
	// row, or for an unpadded pointwise convolution with unit strides the whole image in
	// chunks.
	pointwise := g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && img.hp == g.oh && img.wp == g.ow
	segRows, nSeg := g.ow, nb*g.oh
	if pointwise {
		total := nb * g.oh * g.ow
		segRows = max(14, linalg.RowBlock(kdim, nil)/2)
		nSeg = (total + segRows - 1) / segRows
	}
	segment := func(s int) (aOff, cOff, rows int) {
		if pointwise {
			i0 := s * segRows
			return i0 * k.cin, i0 * k.cout, min(segRows, nb*g.oh*g.ow-i0)
		}
		n, oy := s/g.oh, s%g.oh
		return ((n*img.hp + oy*g.sh) * img.wp) * img.c, (n*g.oh + oy) * g.ow * k.cout, g.ow
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
	work := nSeg * segRows * kdim * k.cout
	linalg.ForCost(threads, sJobs*pJobs, work/(sJobs*pJobs), func(job int) {
		s0 := (job / pJobs) * sPerJob
		s1 := min(nSeg, s0+sPerJob)
		p0 := (job % pJobs) * pPerJob
		p1 := min(panels, p0+pPerJob)
		jep := ep
		if k.im2col {
			col := linalg.GetFloat32(g.ow * kdim)
			defer col.Release()
			for s := s0; s < s1; s++ {
				aOff, cOff, rows := segment(s)
				im2colRow(col.Buf, img, g, aOff, taps, kdim)
				jep.ZOff = cOff
				k.pb.MulRows(rows, col.Buf, linalg.RowsOf{LD: kdim, KC: kdim}, y, cOff, k.cout, p0, p1, &jep)
			}
		} else {
			rows := linalg.RowsOf{LD: g.sw * img.c, Taps: taps, KC: k.cin}
			if pointwise {
				rows.Taps, rows.LD = nil, k.cin
			}
			for p := p0; p < p1; p++ {
				for s := s0; s < s1; s++ {
					aOff, cOff, n := segment(s)
					rows.Off = aOff
					jep.ZOff = cOff
					k.pb.MulRows(n, img.data, rows, y, cOff, k.cout, p, p+1, &jep)
				}
			}
		}
		if post {
			j0, _ := k.pb.PanelCols(p0)
			_, j1 := k.pb.PanelCols(p1 - 1)
			for s := s0; s < s1; s++ {
				_, cOff, rows := segment(s)
				for r := 0; r < rows; r++ {
					k.act.apply(y[cOff+r*k.cout+j0 : cOff+r*k.cout+j1])
				}
			}
		}
	})
}

// im2colRow copies the receptive fields of one output row (whose first window starts at
// aOff in the padded image) into col, one row of kdim = taps·C values per output pixel.
func im2colRow(col []float32, img *paddedImage, g geo2D, aOff int, taps []int, kdim int) {
	c := img.c
	for ox := 0; ox < g.ow; ox++ {
		base := aOff + ox*g.sw*c
		dst := col[ox*kdim : (ox+1)*kdim]
		for t, off := range taps {
			copy(dst[t*c:(t+1)*c], img.data[base+off:base+off+c])
		}
	}
}

// runDepthwise computes a depthwise convolution one output row at a time.
func (k *nhwcConv) runDepthwise(threads int, img *paddedImage, g geo2D, nb int, y, z []float32) {
	c := k.cout
	ep, post := k.epilogue()
	nSeg := nb * g.oh
	linalg.ForCost(threads, nSeg, g.ow*c*g.kh*g.kw, func(s int) {
		n, oy := s/g.oh, s%g.oh
		row := y[(n*g.oh+oy)*g.ow*c : (n*g.oh+oy+1)*g.ow*c]
		base := (n*img.hp + oy*g.sh) * img.wp * c
		depthwiseRowGo(row, img.data, base, img.wp*c, g, k.dww, c, ep.Bias)
		if z != nil {
			addInto(row, z[(n*g.oh+oy)*g.ow*c:])
		}
		if ep.Clamp {
			clampInto(row, ep.Lo, ep.Hi)
		}
		if post {
			k.act.apply(row)
		}
	})
}

// depthwiseRowGo is the portable depthwise row: for every output pixel and channel,
// bias + Σ taps x·w.
func depthwiseRowGo(row, x []float32, base, rowStride int, g geo2D, w []float32, c int, bias []float32) {
	for ox := 0; ox < g.ow; ox++ {
		dst := row[ox*c : (ox+1)*c]
		if bias != nil {
			copy(dst, bias)
		} else {
			clear(dst)
		}
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				off := base + ky*g.dh*rowStride + (ox*g.sw+kx*g.dw)*c
				src := x[off : off+c]
				wt := w[(ky*g.kw+kx)*c : (ky*g.kw+kx+1)*c]
				for i := range dst {
					dst[i] += src[i] * wt[i]
				}
			}
		}
	}
}

func addInto(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

func clampInto(dst []float32, lo, hi float32) {
	for i, v := range dst {
		dst[i] = min(max(v, lo), hi)
	}
}
