package grad

import (
	"fmt"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	register("Conv", ruleDef{diff: allInputs, build: withKernel(func(b *nodeBuild, k kernelFwd) (*convOp, error) {
		win, err := parseWindow(b.node)
		if err != nil {
			return nil, err
		}
		op := &convOp{kernelFwd: k, win: win, group: int(b.node.AttrInt("group", 1))}
		if op.group < 1 {
			return nil, fmt.Errorf("group %d must be positive", op.group)
		}
		return op, nil
	})})
	register("ConvTranspose", ruleDef{diff: allInputs, build: withKernel(func(b *nodeBuild, k kernelFwd) (*convTransposeOp, error) {
		win, err := parseWindow(b.node)
		if err != nil {
			return nil, err
		}
		op := &convTransposeOp{kernelFwd: k, win: win, group: int(b.node.AttrInt("group", 1)),
			outputPadding: ints(b.node.AttrInts("output_padding", nil)), outputShape: ints(b.node.AttrInts("output_shape", nil))}
		if op.group < 1 {
			return nil, fmt.Errorf("group %d must be positive", op.group)
		}
		return op, nil
	})})
}

// convOp differentiates Conv, lowered per image and group to the products of its forward
// im2col form Y_g = W_g·col(X_g):
//
//	dW_g += dY_g·col(X_g)ᵀ,   dX_g = col2im(W_gᵀ·dY_g),   dB = Σ dY.
type convOp struct {
	kernelFwd
	win   windowAttrs
	group int
}

// forward computes 2-D convolutions itself, the images of a chunk side by side (see
// backwardRows): in training the weights change every step, so the runtime kernel, which
// packs constant weights once, would repack them for every image. Other convolutions use
// the runtime kernel.
func (o *convOp) forward(c *runCtx, in []*kernel.Tensor) ([]*kernel.Tensor, any, error) {
	x, w, b := kernel.Input(in, 0), kernel.Input(in, 1), kernel.Input(in, 2)
	if x == nil || w == nil || len(x.Shape) != 4 || len(w.Shape) != 4 || x.DType != ir.Float || w.DType != ir.Float ||
		(b != nil && b.DType != ir.Float) {
		return o.kernelFwd.forward(c, in)
	}
	nBatch, ch, m := int(x.Shape[0]), int(x.Shape[1]), int(w.Shape[0])
	g := o.group
	if ch%g != 0 || m%g != 0 || int(w.Shape[1]) != ch/g || (ch == g && m == g) ||
		(o.win.kernel != nil && fmt.Sprint(o.win.kernel) != fmt.Sprint(ints(w.Shape[2:]))) {
		return o.kernelFwd.forward(c, in)
	}
	geo, err := o.win.resolve(ints(x.Shape[2:]), ints(w.Shape[2:]))
	if err != nil {
		return nil, nil, err
	}
	cg, mg := ch/g, m/g
	kk := cg * prod(geo.kernel)
	inSize, outSize := prod(geo.in), prod(geo.out)
	if b != nil && b.Len() != m {
		return nil, nil, fmt.Errorf("B has %d elements, want %d", b.Len(), m)
	}
	y := c.a.tensor([]int64{int64(nBatch), int64(m), int64(geo.out[0]), int64(geo.out[1])})
	xd, wd, yd := x.Float32s(), w.Float32s(), y.Float32s()
	if outSize == 0 || nBatch == 0 {
		return []*kernel.Tensor{y}, nil, nil
	}
	per := max(1, min(nBatch, rowsTarget/outSize))
	cols, yCols := linalg.GetFloat32(per*outSize*kk), linalg.GetFloat32(per*outSize*mg)
	defer cols.Release()
	defer yCols.Release()
	for gi := 0; gi < g; gi++ {
		wg := wd[gi*mg*kk : (gi+1)*mg*kk]
		for n0 := 0; n0 < nBatch; n0 += per {
			nb := min(per, nBatch-n0)
			rows := nb * outSize
			first := (n0*ch + gi*cg) * inSize
			linalg.ForCost(c.threads, nb, outSize*kk, func(i int) {
				im2col2D(xd[first+i*ch*inSize:], cg, geo, cols.Buf[i*outSize:], rows, false)
			})
			sgemm(c.threads, false, false, mg, rows, kk, 1, wg, kk, cols.Buf, rows, 0, yCols.Buf, rows)
			linalg.ForCost(c.threads, nb, outSize*mg, func(i int) {
				for oc := 0; oc < mg; oc++ {
					dst := yd[((n0+i)*m+gi*mg+oc)*outSize : ((n0+i)*m+gi*mg+oc+1)*outSize]
					copy(dst, yCols.Buf[oc*rows+i*outSize:])
					if b != nil {
						bias := b.Float32s()[gi*mg+oc]
						for p := range dst {
							dst[p] += bias
						}
					}
				}
			})
		}
	}
	return []*kernel.Tensor{y}, nil, nil
}

func (o *convOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	x, w := f.in[0], f.in[1]
	xd, err := floats(x)
	if err != nil {
		return err
	}
	wd, err := floats(w)
	if err != nil {
		return err
	}
	geo, err := o.win.resolve(ints(x.Shape[2:]), ints(w.Shape[2:]))
	if err != nil {
		return err
	}
	nBatch, ch, m := int(x.Shape[0]), int(x.Shape[1]), int(w.Shape[0])
	g := o.group
	cg, mg := ch/g, m/g
	kk := cg * prod(geo.kernel)
	inSize, outSize := prod(geo.in), prod(geo.out)
	gy := gout[0].Float32s()
	wantX, wantW := c.needGrad[0], c.needGrad[1]
	wantB := len(f.in) > 2 && f.in[2] != nil && c.needGrad[2]
	var gx []float32
	if wantX {
		t := newZeroGrad(c, x.Shape)
		gx = t.Float32s()
		gin[0] = t
	}
	if len(geo.in) == 2 && !(cg == 1 && mg == 1) {
		o.backwardRows(c, f, geo, gout[0].Float32s(), gx, gin)
		return nil
	}
	direct := geo.pointwise()
	workers := splitWork(c.threads, nBatch, nBatch*m*outSize*kk)
	inner := innerThreads(c.threads, workers)
	// Each worker sums the weight gradient of its images into its own buffer; the buffers
	// are added in worker order afterwards, so results depend on the worker count only.
	acc := newWeightGrads(c, workers, len(wd), m, wantW, wantB)
	type scratch struct{ col, dcol []float32 }
	sc := make([]scratch, workers)
	for i := range sc {
		if !direct && wantW {
			sc[i].col = c.a.floats(kk * outSize)
		}
		if !direct && wantX {
			sc[i].dcol = c.a.floats(kk * outSize)
		}
	}
	forChunks(c.threads, nBatch, workers, func(wk, n int) {
		s := &sc[wk]
		for gi := 0; gi < g; gi++ {
			xg := xd[(n*ch+gi*cg)*inSize : (n*ch+(gi+1)*cg)*inSize]
			gyg := gy[(n*m+gi*mg)*outSize : (n*m+(gi+1)*mg)*outSize]
			wg := wd[gi*mg*kk : (gi+1)*mg*kk]
			if wantW {
				col := xg
				if !direct {
					im2col(xg, cg, geo, s.col)
					col = s.col
				}
				sgemm(inner, false, true, mg, kk, outSize, 1, gyg, outSize, col, outSize, 1, acc.w[wk][gi*mg*kk:], kk)
			}
			if wantX {
				gxg := gx[(n*ch+gi*cg)*inSize : (n*ch+(gi+1)*cg)*inSize]
				if direct {
					sgemm(inner, true, false, kk, outSize, mg, 1, wg, kk, gyg, outSize, 0, gxg, outSize)
				} else {
					sgemm(inner, true, false, kk, outSize, mg, 1, wg, kk, gyg, outSize, 0, s.dcol, outSize)
					col2im(s.dcol, cg, geo, gxg)
				}
			}
		}
		acc.addBias(wk, gy[n*m*outSize:(n+1)*m*outSize], outSize)
	})
	acc.finish(c, f, gin)
	return nil
}

// rowsTarget is how many output positions (rows of the patch matrix) backwardRows
// gathers per product: enough for the GEMM to run at speed, few enough that the patch
// matrices of a chunk stay a few MiB.
const rowsTarget = 4096

// backwardRows is Conv's backward for two spatial axes with the images of a chunk side by
// side. With col the chunk's patches (the forward's layout: a row per input channel and
// tap, a column per output position of every image), G_cols the output gradient as a row
// per output channel and G_rows the same transposed:
//
//	dW_gᵀ = col·G_rows,   dcol = W_gᵀ·G_cols,   dX = the adjoint of the patch gather of dcol,
//
// two GEMMs per chunk whatever the image size, each with its large operand untransposed
// (a transposed operand costs the GEMM's packing up to three times the product itself).
func (o *convOp) backwardRows(c *runCtx, f *fwd, geo *window, gy, gx []float32, gin []*kernel.Tensor) {
	x, w := f.in[0], f.in[1]
	xd, wd := x.Float32s(), w.Float32s()
	nBatch, ch, m := int(x.Shape[0]), int(x.Shape[1]), int(w.Shape[0])
	g := o.group
	cg, mg := ch/g, m/g
	kk := cg * prod(geo.kernel)
	inSize, outSize := prod(geo.in), prod(geo.out)
	wantW := c.needGrad[1]
	wantB := len(f.in) > 2 && f.in[2] != nil && c.needGrad[2]
	acc := newWeightGrads(c, 1, len(wd), m, wantW, wantB)
	per := max(1, min(nBatch, rowsTarget/max(outSize, 1)))
	maxRows := per * outSize
	gCols := linalg.GetFloat32(maxRows * mg)
	defer gCols.Release()
	var patches, dcols, gRows, dwT *linalg.Scratch[float32]
	if wantW {
		patches, gRows, dwT = linalg.GetFloat32(maxRows*kk), linalg.GetFloat32(maxRows*mg), linalg.GetFloat32(kk*mg)
		defer patches.Release()
		defer gRows.Release()
		defer dwT.Release()
	}
	if gx != nil {
		dcols = linalg.GetFloat32(maxRows * kk)
		defer dcols.Release()
	}
	for gi := 0; gi < g; gi++ {
		wg := wd[gi*mg*kk : (gi+1)*mg*kk]
		for n0 := 0; n0 < nBatch; n0 += per {
			nb := min(per, nBatch-n0)
			rows := nb * outSize
			linalg.ForCost(c.threads, nb, mg*outSize, func(i int) {
				for oc := 0; oc < mg; oc++ {
					copy(gCols.Buf[oc*rows+i*outSize:], gy[((n0+i)*m+gi*mg+oc)*outSize:((n0+i)*m+gi*mg+oc+1)*outSize])
				}
			})
			first := (n0*ch + gi*cg) * inSize
			if wantW {
				linalg.ForCost(c.threads, nb, outSize*kk, func(i int) {
					im2col2D(xd[first+i*ch*inSize:], cg, geo, patches.Buf[i*outSize:], rows, false)
					for oc := 0; oc < mg; oc++ {
						src := gCols.Buf[oc*rows+i*outSize : oc*rows+(i+1)*outSize]
						dst := gRows.Buf[i*outSize*mg:]
						for p, v := range src {
							dst[p*mg+oc] = v
						}
					}
				})
				// dWᵀ (kk × mg) = col·G_rows, then added into dW transposed.
				sgemm(c.threads, false, false, kk, mg, rows, 1, patches.Buf, rows, gRows.Buf, mg, 0, dwT.Buf, mg)
				dw := acc.w[0][gi*mg*kk:]
				for r := 0; r < kk; r++ {
					for oc := 0; oc < mg; oc++ {
						dw[oc*kk+r] += dwT.Buf[r*mg+oc]
					}
				}
			}
			if gx != nil {
				sgemm(c.threads, true, false, kk, rows, mg, 1, wg, kk, gCols.Buf, rows, 0, dcols.Buf, rows)
				linalg.ForCost(c.threads, nb, outSize*kk, func(i int) {
					im2col2D(gx[first+i*ch*inSize:], cg, geo, dcols.Buf[i*outSize:], rows, true)
				})
			}
		}
	}
	for n := 0; n < nBatch; n++ {
		acc.addBias(0, gy[n*m*outSize:(n+1)*m*outSize], outSize)
	}
	acc.finish(c, f, gin)
}

// convTransposeOp differentiates ConvTranspose, the adjoint of Conv: per image and group
// its forward is Y_g = col2im(W_gᵀ·X_g) over the transposed window, so
//
//	dX_g = W_g·col(dY_g),   dW_g += X_g·col(dY_g)ᵀ,   dB = Σ dY,
//
// where col gathers dY through the same window.
type convTransposeOp struct {
	kernelFwd
	win                        windowAttrs
	group                      int
	outputPadding, outputShape []int
}

func (o *convTransposeOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	x, w := f.in[0], f.in[1]
	xd, err := floats(x)
	if err != nil {
		return err
	}
	wd, err := floats(w)
	if err != nil {
		return err
	}
	geo, err := o.resolve(ints(x.Shape[2:]), ints(w.Shape[2:]))
	if err != nil {
		return err
	}
	if outSp := ints(f.out[0].Shape[2:]); fmt.Sprint(outSp) != fmt.Sprint(geo.out) {
		return fmt.Errorf("output %v does not match the resolved window %v", f.out[0].Shape, geo.out)
	}
	nBatch, ch := int(x.Shape[0]), int(x.Shape[1])
	g := o.group
	cg, mg := ch/g, int(w.Shape[1])
	m := mg * g
	kSize := prod(geo.kernel)
	rows := mg * kSize
	inSize, outSize := prod(geo.in), prod(geo.out)
	// Gathering dY through the window: the "image" is the output, the positions the input.
	tw := &window{in: geo.out, out: geo.in, kernel: geo.kernel, strides: geo.strides, dilations: geo.dilations,
		padBegin: geo.padBegin, padEnd: geo.padEnd}
	gy := gout[0].Float32s()
	wantX, wantW := c.needGrad[0], c.needGrad[1]
	wantB := len(f.in) > 2 && f.in[2] != nil && c.needGrad[2]
	var gx []float32
	if wantX {
		t := newGrad(c, x.Shape)
		gx = t.Float32s()
		gin[0] = t
	}
	workers := splitWork(c.threads, nBatch, nBatch*ch*inSize*rows)
	inner := innerThreads(c.threads, workers)
	acc := newWeightGrads(c, workers, len(wd), m, wantW, wantB)
	cols := make([][]float32, workers)
	for i := range cols {
		if wantX || wantW {
			cols[i] = c.a.floats(rows * inSize)
		}
	}
	forChunks(c.threads, nBatch, workers, func(wk, n int) {
		col := cols[wk]
		for gi := 0; gi < g; gi++ {
			if !wantX && !wantW {
				break
			}
			gyg := gy[(n*m+gi*mg)*outSize : (n*m+(gi+1)*mg)*outSize]
			im2col(gyg, mg, tw, col)
			wg := wd[gi*cg*rows : (gi+1)*cg*rows]
			if wantX {
				gxg := gx[(n*ch+gi*cg)*inSize : (n*ch+(gi+1)*cg)*inSize]
				sgemm(inner, false, false, cg, inSize, rows, 1, wg, rows, col, inSize, 0, gxg, inSize)
			}
			if wantW {
				xg := xd[(n*ch+gi*cg)*inSize : (n*ch+(gi+1)*cg)*inSize]
				sgemm(inner, false, true, cg, rows, inSize, 1, xg, inSize, col, inSize, 1, acc.w[wk][gi*cg*rows:], rows)
			}
		}
		acc.addBias(wk, gy[n*m*outSize:(n+1)*m*outSize], outSize)
	})
	acc.finish(c, f, gin)
	return nil
}

// resolve computes ConvTranspose's output sizes and pads: explicit pads, or the split of
// the total padding that output_shape or SAME auto_pad implies.
func (o *convTransposeOp) resolve(in, k []int) (*window, error) {
	nd := len(in)
	w := o.win
	geo := &window{in: in, kernel: k, out: make([]int, nd), strides: make([]int, nd), dilations: make([]int, nd),
		padBegin: make([]int, nd), padEnd: make([]int, nd)}
	outShape := o.outputShape
	if len(outShape) == nd+2 {
		outShape = outShape[2:]
	}
	if (outShape != nil && len(outShape) != nd) || (o.outputPadding != nil && len(o.outputPadding) != nd) ||
		(w.pads != nil && len(w.pads) != 2*nd) || len(k) != nd {
		return nil, fmt.Errorf("ConvTranspose attributes do not fit %d spatial axes", nd)
	}
	for i := 0; i < nd; i++ {
		s, d, op := 1, 1, 0
		if w.strides != nil {
			s = w.strides[i]
		}
		if w.dilations != nil {
			d = w.dilations[i]
		}
		if o.outputPadding != nil {
			op = o.outputPadding[i]
		}
		geo.strides[i], geo.dilations[i] = s, d
		full := s*(in[i]-1) + op + (k[i]-1)*d + 1
		same := w.autoPad == "SAME_UPPER" || w.autoPad == "SAME_LOWER"
		if outShape != nil || same {
			out := in[i] * s
			if outShape != nil {
				out = outShape[i]
			}
			total := full - out
			half := total / 2
			if total < 0 && total%2 != 0 {
				half-- // floor division
			}
			if w.autoPad == "SAME_UPPER" {
				geo.padBegin[i], geo.padEnd[i] = half, total-half
			} else {
				geo.padBegin[i], geo.padEnd[i] = total-half, half
			}
			geo.out[i] = out
			continue
		}
		if w.pads != nil && w.autoPad != "VALID" {
			geo.padBegin[i], geo.padEnd[i] = w.pads[i], w.pads[nd+i]
		}
		geo.out[i] = full - geo.padBegin[i] - geo.padEnd[i]
	}
	return geo, nil
}

// weightGrads collects the weight and bias gradients of a convolution: each worker sums
// those of its images into its own buffers, which finish adds in worker order, so results
// depend on the worker count only.
type weightGrads struct {
	w, b [][]float32
}

func newWeightGrads(c *runCtx, workers, nw, nb int, wantW, wantB bool) *weightGrads {
	a := &weightGrads{}
	for i := 0; i < workers; i++ {
		if wantW {
			a.w = append(a.w, c.a.zeros(nw))
		}
		if wantB {
			a.b = append(a.b, c.a.zeros(nb))
		}
	}
	return a
}

// addBias adds one image's output gradient (channels × size) into worker wk's bias sums.
func (a *weightGrads) addBias(wk int, gy []float32, size int) {
	if a.b == nil {
		return
	}
	gb := a.b[wk]
	for oc := range gb {
		gb[oc] += sum(gy[oc*size : (oc+1)*size])
	}
}

// finish sums the workers' buffers into the gradients of inputs 1 (W) and 2 (B).
func (a *weightGrads) finish(c *runCtx, f *fwd, gin []*kernel.Tensor) {
	for k, parts := range [][][]float32{a.w, a.b} {
		if parts == nil {
			continue
		}
		t := newGrad(c, f.in[k+1].Shape)
		d := t.Float32s()
		copy(d, parts[0])
		for _, p := range parts[1:] {
			axpy(d, p, 1)
		}
		gin[k+1] = t
	}
}

// splitWork returns into how many chunks a loop over jobs items of the given total cost
// is cut: one when small, else one per thread. The count depends on the thread count only,
// so per-chunk partial sums add up the same way in every run.
func splitWork(threads, jobs, cost int) int {
	if threads < 2 || jobs < 2 || cost < 1<<18 {
		return 1
	}
	return min(threads, jobs)
}

// innerThreads is the thread count left to each of chunks parallel chunks' GEMMs.
func innerThreads(threads, chunks int) int {
	if chunks > 1 {
		return 1
	}
	return threads
}

// forChunks calls fn(chunk, n) for n in [0, jobs), chunk k taking the k-th contiguous
// range of chunks equal ranges; chunks run in parallel on up to threads goroutines.
func forChunks(threads, jobs, chunks int, fn func(chunk, n int)) {
	per := (jobs + chunks - 1) / max(chunks, 1)
	linalg.For(threads, chunks, func(k int) {
		for n := k * per; n < min(jobs, (k+1)*per); n++ {
			fn(k, n)
		}
	})
}

func sum(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i]
		s1 += x[i+1]
		s2 += x[i+2]
		s3 += x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}
