package fused

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

func init() {
	float := []ir.DataType{ir.Float}
	kernel.Register(
		kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpReorder, SinceVersion: 1, Types: float, New: newReorder},
		kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpNhwcMaxPool, SinceVersion: 1, Types: float, New: newNhwcPool},
		kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpNhwcAveragePool, SinceVersion: 1, Types: float, New: newNhwcPool},
		kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpNhwcGlobalAveragePool, SinceVersion: 1, Types: float, New: newNhwcGlobalAveragePool},
	)
}

// reorder transposes [N, C, H, W] to [N, H, W, C] (toNHWC) or back.
type reorder struct {
	node   *ir.Node
	toNHWC bool
}

func newReorder(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	switch to := n.AttrString("to", ""); to {
	case "NHWC", "NCHW":
		return &reorder{node: n, toNHWC: to == "NHWC"}, nil
	default:
		return nil, fmt.Errorf("%s: attribute to = %q: want NHWC or NCHW", n.Describe(), to)
	}
}

func (k *reorder) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || len(x.Shape) != 4 {
		return nil, fmt.Errorf("%s: X %v: want a 4-D tensor", k.node.Describe(), shapeOf(x))
	}
	xd, ok := x.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("%s: X must be float", k.node.Describe())
	}
	s := x.Shape
	var out *kernel.Tensor
	var rows, cols int // x is nb matrices rows×cols, transposed into cols×rows
	if k.toNHWC {
		out = ctx.Alloc(ir.Float, s[0], s[2], s[3], s[1])
		rows, cols = int(s[1]), int(s[2]*s[3])
	} else {
		out = ctx.Alloc(ir.Float, s[0], s[3], s[1], s[2])
		rows, cols = int(s[1]*s[2]), int(s[3])
	}
	nb := int(s[0])
	transposeBatch(ctx.Parallelism(), xd, out.Float32s(), nb, rows, cols)
	return []*kernel.Tensor{out}, nil
}

// transposeBatch writes the transpose of each of nb rows×cols matrices of x into y, in
// 16×16 blocks so that both sides are read and written a cache line at a time.
//
// Jobs are blocks of rows by spans of columns: an image's 3 channels are a single block
// of rows, and the first layer's input would be one serial job without the column spans.
func transposeBatch(threads int, x, y []float32, nb, rows, cols int) {
	const blk = 16
	rb := (rows + blk - 1) / blk
	span, cb := linalg.Chunks((cols+blk-1)/blk, 4*threads, 64)
	span *= blk
	linalg.ForCost(threads, nb*rb*cb, blk*span, func(job int) {
		n, r0, cs := job/(rb*cb), (job/cb%rb)*blk, (job%cb)*span
		r1 := min(rows, r0+blk)
		xs := x[n*rows*cols : (n+1)*rows*cols]
		ys := y[n*rows*cols : (n+1)*rows*cols]
		for c0 := cs; c0 < min(cols, cs+span); c0 += blk {
			c1 := min(cols, c0+blk)
			for r := r0; r < r1; r++ {
				src := xs[r*cols+c0 : r*cols+c1]
				for j, v := range src {
					ys[(c0+j)*rows+r] = v
				}
			}
		}
	})
}

// nhwcPool is MaxPool or AveragePool on [N, H, W, C]: each output pixel reduces the
// channel vectors of its window, so the inner loops run along contiguous channels.
type nhwcPool struct {
	node      *ir.Node
	win       window2D
	max       bool
	countPads bool
	kh, kw    int
}

func newNhwcPool(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	ks := n.AttrInts("kernel_shape", nil)
	if len(ks) != 2 {
		return nil, fmt.Errorf("%s: kernel_shape %v: want two values", n.Describe(), ks)
	}
	win, err := parseWindow2D(n, int(ks[0]), int(ks[1]))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	return &nhwcPool{node: n, win: win, max: n.OpType == prepare.OpNhwcMaxPool,
		countPads: n.AttrInt("count_include_pad", 0) != 0}, nil
}

func (k *nhwcPool) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || len(x.Shape) != 4 {
		return nil, fmt.Errorf("%s: X %v: want [N, H, W, C]", k.node.Describe(), shapeOf(x))
	}
	xd, ok := x.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("%s: X must be float", k.node.Describe())
	}
	nb, ih, iw, c := int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2]), int(x.Shape[3])
	g, err := k.win.resolve(ih, iw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	out := ctx.Alloc(ir.Float, int64(nb), int64(g.oh), int64(g.ow), int64(c))
	y := out.Float32s()
	linalg.ForCost(ctx.Parallelism(), nb*g.oh, g.ow*c*g.kh*g.kw, func(s int) {
		n, oy := s/g.oh, s%g.oh
		tmp := linalg.GetFloat32(iw * c)
		defer tmp.Release()
		k.row(y[(n*g.oh+oy)*g.ow*c:(n*g.oh+oy+1)*g.ow*c], xd[n*ih*iw*c:(n+1)*ih*iw*c], tmp.Buf, g, oy, c)
	})
	return []*kernel.Tensor{out}, nil
}

// row computes output row oy separably: the window's input rows are reduced into tmp
// (whole rows at a time), then each output pixel reduces its window's columns of tmp.
func (k *nhwcPool) row(dst, x, tmp []float32, g geo2D, oy, c int) {
	reduce := linalg.AddTo
	if k.max {
		reduce = linalg.MaxTo
	}
	rowLen := g.iw * c
	rows, counted := 0, 0
	for ky := 0; ky < g.kh; ky++ {
		iy := oy*g.sh - g.pt + ky*g.dh
		if iy < g.ih+g.pb {
			counted++ // count_include_pad counts the padding, not what lies past it
		}
		if iy < 0 || iy >= g.ih {
			continue
		}
		if rows == 0 {
			copy(tmp, x[iy*rowLen:(iy+1)*rowLen])
		} else {
			reduce(tmp, x[iy*rowLen:(iy+1)*rowLen])
		}
		rows++
	}
	for ox := 0; ox < g.ow; ox++ {
		d := dst[ox*c : (ox+1)*c]
		cols, colsCounted := 0, 0
		for kx := 0; kx < g.kw; kx++ {
			ix := ox*g.sw - g.pl + kx*g.dw
			if ix < g.iw+g.pr {
				colsCounted++
			}
			if rows == 0 || ix < 0 || ix >= g.iw {
				continue
			}
			if cols == 0 {
				copy(d, tmp[ix*c:(ix+1)*c])
			} else {
				reduce(d, tmp[ix*c:(ix+1)*c])
			}
			cols++
		}
		if cols == 0 {
			fill := float32(0)
			if k.max {
				fill = float32(math.Inf(-1))
			}
			for i := range d {
				d[i] = fill
			}
			continue
		}
		if !k.max {
			count := rows * cols
			if k.countPads {
				count = counted * colsCounted
			}
			linalg.MulScalar(d, d, 1/float32(count))
		}
	}
}

// nhwcGlobalAveragePool averages [N, H, W, C] over H and W.
type nhwcGlobalAveragePool struct{ node *ir.Node }

func newNhwcGlobalAveragePool(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return &nhwcGlobalAveragePool{node: info.Node}, nil
}

func (k *nhwcGlobalAveragePool) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || len(x.Shape) != 4 {
		return nil, fmt.Errorf("%s: X %v: want [N, H, W, C]", k.node.Describe(), shapeOf(x))
	}
	xd, ok := x.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("%s: X must be float", k.node.Describe())
	}
	nb, hw, c := int(x.Shape[0]), int(x.Shape[1]*x.Shape[2]), int(x.Shape[3])
	out := ctx.Alloc(ir.Float, int64(nb), int64(c), 1, 1)
	y := out.Float32s()
	for n := 0; n < nb; n++ {
		// Sum the pixels' channel vectors in float32 (the reference sums in float64: the
		// two differ by rounding only, a few ulp for the pools networks end with).
		acc := y[n*c : (n+1)*c]
		clear(acc)
		linalg.SumRows(acc, xd[n*hw*c:(n+1)*hw*c])
		if hw > 0 {
			linalg.MulScalar(acc, acc, 1/float32(hw))
		}
	}
	return []*kernel.Tensor{out}, nil
}
