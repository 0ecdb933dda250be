package quant

import (
	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Convolutions without im2col. With one group and contiguous kernel columns (dilation 1
// along W), the receptive field of an output pixel in an NHWC image is KH runs of KW·C
// contiguous bytes, one per kernel row; linalg.QGemmTaps reads A as such runs ("taps") at
// fixed offsets from a row base, so the GEMM reads the input in place:
//
//   - the input is copied once into a buffer padded with its zero point (skipped when the
//     convolution has no padding), Hp × Wp pixels;
//   - with stride 1, GEMM row q = oh·Wp + ow reads, for kernel row kh, the bytes at
//     (q + kh·dh·Wp)·C: consecutive rows are consecutive pixels of the padded image, so the
//     whole output is one product whose rows include Wp − OW unused ones per output row
//     (computed and dropped: a few percent on large maps);
//   - with a larger stride along W, each output row is one product of OW rows C·sw bytes
//     apart.
//
// B is packed with each kernel row's KW·C values padded to a multiple of 4 with zero
// weights (the kernels read whole dwords; the bytes past a run meet zeros).

// tapsEligible reports whether the convolution can run on taps: one group, dilation 1 along
// W, a window wider than one pixel, weights without zero points (QGemmTaps takes none).
func tapsEligible(cv *convNHWC) bool {
	s := cv.spec
	if cv.group != 1 || cv.kh*cv.kw == 1 {
		return false
	}
	if d := s.attrs.dilations; len(d) == 2 && d[1] != 1 {
		return false
	}
	for _, z := range s.wZero {
		if z != 0 {
			return false
		}
	}
	return true
}

// packTaps packs the weights for QGemmTaps: rows (kh, kw, c), each kernel row padded to
// kTapPad with zeros.
func packTaps(cv *convNHWC) (*linalg.QMatrixB, error) {
	kTap := cv.kw * cv.c
	kpad := (kTap + 3) &^ 3
	b, err := kernel.MakeScratchShaped[int8]([]int64{int64(cv.kh), int64(kpad), int64(cv.m)})
	if err != nil {
		return nil, err
	}
	for mo := 0; mo < cv.m; mo++ {
		for ci := 0; ci < cv.c; ci++ {
			for y := 0; y < cv.kh; y++ {
				for x := 0; x < cv.kw; x++ {
					row := y*kpad + x*cv.c + ci
					b[row*cv.m+mo] = cv.spec.w[((mo*cv.c+ci)*cv.kh+y)*cv.kw+x]
				}
			}
		}
	}
	return linalg.PackQMatrixB(cv.kh*kpad, cv.m, b, cv.m, false, nil)
}

// tapsGeometry is where a tap run reads: the padded image's extent and the kernel rows'
// offsets in it.
type tapsGeometry struct {
	hp, wp int
	pt, pl int
	offs   []int
	copy   bool // the input needs a padded copy
}

func (cv *convNHWC) tapsGeometry(g *convGeom) tapsGeometry {
	H, W := g.in[0], g.in[1]
	OH, OW := g.out[0], g.out[1]
	t := tapsGeometry{pt: g.padBegin[0], pl: g.padBegin[1]}
	t.hp = max(t.pt+H, (OH-1)*g.stride[0]+(cv.kh-1)*g.dil[0]+1)
	t.wp = max(t.pl+W, (OW-1)*g.stride[1]+cv.kw)
	// A copy also when the runs are not whole dwords: the kernels read up to 3 bytes past
	// each, which the copy's slack holds and the caller's tensor may not.
	t.copy = t.pt != 0 || t.pl != 0 || t.hp != H || t.wp != W || cv.flip != 0 || (cv.kw*cv.c)%4 != 0
	t.offs = make([]int, cv.kh)
	for kh := range t.offs {
		t.offs[kh] = kh * g.dil[0] * t.wp * cv.c
	}
	return t
}

// runTaps is run for tap convolutions.
func (cv *convNHWC) runTaps(threads int, g *convGeom, x []uint8, y []uint8, y32 []int32, ldy int) {
	C, M := cv.c, cv.m
	OH, OW := g.out[0], g.out[1]
	t := cv.tapsGeometry(g)
	kTap := cv.kw * C
	kpad := (kTap + 3) &^ 3
	imgIn := g.in[0] * g.in[1] * C
	// The padded image, plus slack for the last run's dword padding.
	padded := t.hp*t.wp*C + kpad
	var pbuf *linalg.Scratch[uint8]
	if t.copy {
		pbuf = linalg.GetBytes(padded)
		defer pbuf.Release()
	}
	stride1 := g.stride[0] == 1 && g.stride[1] == 1
	for img := 0; img < g.n; img++ {
		src := x[img*imgIn : (img+1)*imgIn]
		if t.copy {
			cv.padImage(threads, g, t, src, pbuf.Buf)
			src = pbuf.Buf
		}
		out := img * OH * OW
		if stride1 && kTap%4 == 0 && 5*(t.wp-OW) > t.wp {
			// A narrow image (7×7 padded to 9 columns): the product over padded rows would
			// compute 2 wasted rows in 9. Gather each output pixel's taps instead; with
			// whole-dword taps B's packing is that of a plain product of depth kh·kw·C.
			k := len(t.offs) * kTap
			pix := OH * OW
			abuf := linalg.GetBytes(pix * k)
			for p := 0; p < pix; p++ {
				q := (p/OW)*t.wp + p%OW
				for ti, o := range t.offs {
					copy(abuf.Buf[p*k+ti*kTap:p*k+(ti+1)*kTap], src[q*C+o:q*C+o+kTap])
				}
			}
			if cv.spec.requant {
				linalg.QGemmRequant(threads, pix, abuf.Buf, k, cv.xPad, cv.gemm[0], cv.spec.bias, cv.rqGroups[0], y[out*ldy:], ldy)
			} else {
				linalg.QGemm(threads, pix, abuf.Buf, k, cv.xPad, cv.gemm[0], cv.spec.bias, y32[out*ldy:], ldy)
			}
			abuf.Release()
			continue
		}
		if stride1 {
			// One product over rows q = oh·Wp + ow; rows with ow ≥ OW are dropped.
			rows := (OH-1)*t.wp + OW
			// block computes rows [q0, q1) of the product on th threads.
			block := func(q0, q1, th int) {
				if !cv.spec.requant {
					acc := linalg.GetInt32s((q1 - q0) * M)
					defer acc.Release()
					linalg.QGemmTaps(th, q1-q0, src[q0*C:], t.offs, kTap, C, cv.xPad, cv.gemm[0], cv.spec.bias, acc.Buf, M)
					t.eachRun(q0, q1, OW, func(q, p, n int) {
						for i := 0; i < n; i++ {
							copy(y32[(out+p+i)*ldy:(out+p+i)*ldy+M], acc.Buf[(q-q0+i)*M:(q-q0+i+1)*M])
						}
					})
					return
				}
				bytes := linalg.GetBytes((q1 - q0) * M)
				defer bytes.Release()
				linalg.QGemmTapsRequant(th, q1-q0, src[q0*C:], t.offs, kTap, C, cv.xPad, cv.gemm[0], cv.spec.bias, cv.rqGroups[0], bytes.Buf, M)
				t.eachRun(q0, q1, OW, func(q, p, n int) {
					if ldy == M {
						copy(y[(out+p)*M:(out+p+n)*M], bytes.Buf[(q-q0)*M:(q-q0+n)*M])
						return
					}
					for i := 0; i < n; i++ {
						copy(y[(out+p+i)*ldy:(out+p+i)*ldy+M], bytes.Buf[(q-q0+i)*M:(q-q0+i+1)*M])
					}
				})
			}
			per, th := max(6, min(1024, (64<<10)/max(M, 1))/6*6), 1
			switch {
			case threads > 1 && cv.gemm[0].PrefersColumnSplit(rows):
				// Weights larger than the image (the 14×14 and 7×7 layers): one product whose
				// threads share B's columns, each reading its part of B once.
				per, th = rows, threads
			case threads > 1:
				per = max(6, min(per, (rows+4*threads-1)/(4*threads)+5)/6*6)
			}
			jobs := (rows + per - 1) / per
			linalg.ForCost(threads, jobs, per*cv.k*M, func(job int) {
				block(job*per, min(rows, (job+1)*per), th)
			})
			continue
		}
		rowBytes := g.stride[0] * t.wp * C
		// One product per output row, the rows shared between the threads, or with weights
		// larger than the image the rows in turn, each product's columns shared.
		rowThreads, th := threads, 1
		if threads > 1 && cv.gemm[0].PrefersColumnSplit(OH*OW) {
			rowThreads, th = 1, threads
		}
		linalg.ForCost(rowThreads, OH, OW*cv.k*M, func(oh int) {
			p := out + oh*OW
			if cv.spec.requant {
				linalg.QGemmTapsRequant(th, OW, src[oh*rowBytes:], t.offs, kTap, g.stride[1]*C, cv.xPad, cv.gemm[0], cv.spec.bias, cv.rqGroups[0], y[p*ldy:], ldy)
				return
			}
			linalg.QGemmTaps(th, OW, src[oh*rowBytes:], t.offs, kTap, g.stride[1]*C, cv.xPad, cv.gemm[0], cv.spec.bias, y32[p*ldy:], ldy)
		})
	}
}

// eachRun calls fn(q, p, n) for each run of n consecutive GEMM rows from q on (within
// [q0, q1)) that are output pixels p, p+1, ... of one output row: the rows of the padded
// width past the output's are skipped.
func (t tapsGeometry) eachRun(q0, q1, ow int, fn func(q, p, n int)) {
	for q := q0; q < q1; {
		oh, c := q/t.wp, q%t.wp
		if c >= ow {
			q += t.wp - c
			continue
		}
		n := min(ow-c, q1-q)
		fn(q, oh*ow+c, n)
		q += n
	}
}

// padImage writes one NHWC image into the padded buffer: the zero point around it (and in
// the slack after it), input bytes flipped to unsigned for int8 inputs. Its rows are
// split over the threads in order, as the product's are, so that each core pads about
// the rows it then reads: a copy made on one core and read on the other costs a
// cache-to-cache transfer per line, and on one core it is a serial step of every layer.
func (cv *convNHWC) padImage(threads int, g *convGeom, t tapsGeometry, src, dst []uint8) {
	H, W, C := g.in[0], g.in[1], cv.c
	rowBytes := t.wp * C
	linalg.ForCost(threads, t.hp, rowBytes, func(ih int) {
		row := dst[ih*rowBytes : (ih+1)*rowBytes]
		r := ih - t.pt
		if r < 0 || r >= H {
			fill(row, cv.xPad)
			return
		}
		fill(row[:t.pl*C], cv.xPad)
		copyFlip(row[t.pl*C:(t.pl+W)*C], src[r*W*C:(r+1)*W*C], cv.flip)
		fill(row[(t.pl+W)*C:], cv.xPad)
	})
	fill(dst[t.hp*rowBytes:], cv.xPad)
}
