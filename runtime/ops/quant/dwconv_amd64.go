//go:build amd64 && !noasm

package quant

import "golang.org/x/sys/cpu"

//go:generate sh -c "go run kernels_gen.go > kernels_amd64.s"

// The depthwise row kernels (kernels_amd64.s, written by kernels_gen.go): AVX-512 on blocks of
// 16 channels (the last one masked), AVX2 on whole blocks of 8; uint8 or int8 inputs.

//go:noescape
func qdwRowAVX512(rows **uint8, colOff *int32, zx *uint8, ow int, kh int, kw int, c int, w *int32, init *int32, out *int32)

//go:noescape
func qdwRowAVX512Signed(rows **uint8, colOff *int32, zx *uint8, ow int, kh int, kw int, c int, w *int32, init *int32, out *int32)

//go:noescape
func qdwRowAVX512Requant(rows **uint8, colOff *int32, zx *uint8, ow int, kh int, kw int, c int, w *int32, init *int32, out *uint8, ldy int, rq *dwRequant)

//go:noescape
func qdwRowAVX512SignedRequant(rows **uint8, colOff *int32, zx *uint8, ow int, kh int, kw int, c int, w *int32, init *int32, out *uint8, ldy int, rq *dwRequant)

//go:noescape
func qdwRowAVX2(rows **uint8, colOff *int32, zx *uint8, ow int, kh int, kw int, c int, w *int32, init *int32, out *int32)

//go:noescape
func qdwRowAVX2Signed(rows **uint8, colOff *int32, zx *uint8, ow int, kh int, kw int, c int, w *int32, init *int32, out *int32)

//go:noescape
func qdwPairsAVX2(rows **uint8, colOff *int32, zx *uint8, ow int, kh int, kw int, c int, w *int32, init *int32, out *int32)

//go:noescape
func qdwPairsAVX2Signed(rows **uint8, colOff *int32, zx *uint8, ow int, kh int, kw int, c int, w *int32, init *int32, out *int32)

var (
	hasAVX512BW   = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
	hasAVX512VNNI = hasAVX512BW && cpu.X86.HasAVX512VNNI
)

// dwVariant is the depthwise row kernel in use: "avx512" (with VNNI where present), "avx2"
// or "go"; tests also run "avx512novnni".
var dwVariant = func() string {
	switch {
	case hasAVX512BW:
		return "avx512"
	case cpu.X86.HasAVX2:
		return "avx2"
	}
	return "go"
}()

// dwVariants lists the depthwise row kernels this machine can run.
func dwVariants() []string {
	vs := []string{"go"}
	if cpu.X86.HasAVX2 {
		vs = append(vs, "avx2")
	}
	if hasAVX512BW {
		vs = append(vs, "avx512")
	}
	if hasAVX512VNNI {
		vs = append(vs, "avx512novnni") // the AVX-512 kernels as CPUs without VNNI run them
	}
	return vs
}

// row computes one output row into out (ow × cpad int32s). rows holds the kh input rows
// (or zero-point rows), colOff the column offsets, zx cpad zero-point bytes.
func (d *depthwise) row(rows [][]uint8, colOff []int32, zx []uint8, ow int, out []int32) {
	kh, kw := d.cv.kh, d.cv.kw
	_ = colOff[ow*kw-1]
	_ = out[ow*d.cpad-1]
	_ = zx[d.cpad-1]
	// The kernels read, from each tap's address, the channels of one pixel: an input row
	// must hold every column offset plus cpad bytes, or the last block reads past it.
	var ptrs [maxDepthwiseTaps]*uint8
	for i, r := range rows {
		ptrs[i] = &r[0]
	}
	signed := d.cv.spec.xSigned
	switch dwVariant {
	case "avx512", "avx512novnni":
		if signed {
			qdwRowAVX512Signed(&ptrs[0], &colOff[0], &zx[0], ow, kh, kw, d.c, &d.w[0], &d.init[0], &out[0])
		} else {
			qdwRowAVX512(&ptrs[0], &colOff[0], &zx[0], ow, kh, kw, d.c, &d.w[0], &d.init[0], &out[0])
		}
		return
	case "avx2":
		if d.c%16 == 0 {
			// Two taps per multiply (genDWPairs); the kernel reads 16 bytes per tap.
			if signed {
				qdwPairsAVX2Signed(&ptrs[0], &colOff[0], &zx[0], ow, kh, kw, d.c, &d.wPairs[0], &d.init[0], &out[0])
			} else {
				qdwPairsAVX2(&ptrs[0], &colOff[0], &zx[0], ow, kh, kw, d.c, &d.wPairs[0], &d.init[0], &out[0])
			}
			return
		}
		if c8 := d.c &^ 7; c8 > 0 {
			if signed {
				qdwRowAVX2Signed(&ptrs[0], &colOff[0], &zx[0], ow, kh, kw, d.c, &d.w[0], &d.init[0], &out[0])
			} else {
				qdwRowAVX2(&ptrs[0], &colOff[0], &zx[0], ow, kh, kw, d.c, &d.w[0], &d.init[0], &out[0])
			}
			if c8 < d.c {
				d.rowGo(rows, colOff, zx, ow, c8, out)
			}
			return
		}
	}
	d.rowGo(rows, colOff, zx, ow, 0, out)
}

// dwRequant is what the fused depthwise rows read besides init: the offset in bytes from init
// to the channel scales, and the output zero point and clamp.
type dwRequant struct {
	delta      int
	zp, lo, hi float32
}

// rowRequant computes one output row straight into y (ow pixels, ldy bytes apart) when a
// kernel that requantizes in registers runs here, and reports whether it did.
func (d *depthwise) rowRequant(rows [][]uint8, colOff []int32, zx []uint8, ow int, y []uint8, ldy int) bool {
	if dwVariant != "avx512" && dwVariant != "avx512novnni" {
		return false
	}
	kh, kw := d.cv.kh, d.cv.kw
	_ = colOff[ow*kw-1]
	_ = zx[d.cpad-1]
	_ = y[(ow-1)*ldy+d.c-1]
	var ptrs [maxDepthwiseTaps]*uint8
	for i, r := range rows {
		ptrs[i] = &r[0]
	}
	rq := dwRequant{delta: 4 * d.cpad, zp: d.zp, lo: d.lo, hi: d.hi}
	if d.cv.spec.xSigned {
		qdwRowAVX512SignedRequant(&ptrs[0], &colOff[0], &zx[0], ow, kh, kw, d.c, &d.w[0], &d.initScale[0], &y[0], ldy, &rq)
	} else {
		qdwRowAVX512Requant(&ptrs[0], &colOff[0], &zx[0], ow, kh, kw, d.c, &d.w[0], &d.initScale[0], &y[0], ldy, &rq)
	}
	return true
}

//go:noescape
func qdw3x3AVX512(rows **uint8, ow int, step int, c int, w *int32, initScale *int32, y *uint8, ldy int, rq *dwRequant)

//go:noescape
func qdw3x3AVX512Signed(rows **uint8, ow int, step int, c int, w *int32, initScale *int32, y *uint8, ldy int, rq *dwRequant)

//go:noescape
func qdw3x3AVX512VNNI(rows **uint8, ow int, step int, c int, w *int32, initScale *int32, y *uint8, ldy int, rq *dwRequant)

//go:noescape
func qdw3x3AVX512VNNISigned(rows **uint8, ow int, step int, c int, w *int32, initScale *int32, y *uint8, ldy int, rq *dwRequant)

//go:noescape
func qdw5x5AVX512(rows **uint8, ow int, step int, c int, w *int32, initScale *int32, y *uint8, ldy int, rq *dwRequant)

//go:noescape
func qdw5x5AVX512Signed(rows **uint8, ow int, step int, c int, w *int32, initScale *int32, y *uint8, ldy int, rq *dwRequant)

//go:noescape
func qdw5x5AVX512VNNI(rows **uint8, ow int, step int, c int, w *int32, initScale *int32, y *uint8, ldy int, rq *dwRequant)

//go:noescape
func qdw5x5AVX512VNNISigned(rows **uint8, ow int, step int, c int, w *int32, initScale *int32, y *uint8, ldy int, rq *dwRequant)

var hasDW3x3 = hasAVX512BW && cpu.X86.HasBMI2

// dwKxK are the kernels with the weights in registers, by window size (3 or 5), VNNI and
// signedness.
var dwKxK = map[int][2][2]func(rows **uint8, ow int, step int, c int, w *int32, initScale *int32, y *uint8, ldy int, rq *dwRequant){
	3: {{qdw3x3AVX512, qdw3x3AVX512Signed}, {qdw3x3AVX512VNNI, qdw3x3AVX512VNNISigned}},
	5: {{qdw5x5AVX512, qdw5x5AVX512Signed}, {qdw5x5AVX512VNNI, qdw5x5AVX512VNNISigned}},
}

// kxkRuns reports whether rowKxK's kernels run here.
func (d *depthwise) kxkRuns() bool {
	return (dwVariant == "avx512" || dwVariant == "avx512novnni") && hasDW3x3
}

// rowKxK computes ow output pixels of a k×k depthwise row (k = len(rows), 3 or 5) whose
// windows lie inside the input (rows at the first window, consecutive windows step bytes
// apart) straight into y, when the AVX-512 kernel with the weights in registers runs here;
// false otherwise.
func (d *depthwise) rowKxK(rows [][]uint8, ow, step int, y []uint8, ldy int) bool {
	fns, ok := dwKxK[len(rows)]
	if !d.kxkRuns() || ow < 1 || !ok {
		return false
	}
	vnni := hasAVX512VNNI && dwVariant == "avx512"
	span := (ow-1)*step + (len(rows)-1)*d.c + d.c // the last window's bytes in each row
	var ptrs [5]*uint8
	for i, r := range rows {
		_ = r[span-1]
		ptrs[i] = &r[0]
	}
	_ = y[(ow-1)*ldy+d.c-1]
	rq := dwRequant{delta: 4 * d.cpad, zp: d.zp, lo: d.lo, hi: d.hi}
	fns[b2i(vnni)][b2i(d.cv.spec.xSigned)](&ptrs[0], ow, step, d.c, &d.w[0], &d.initScale[0], &y[0], ldy, &rq)
	return true
}
