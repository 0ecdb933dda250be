package linalg

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestDepthwiseRowMatchesReference runs every implementation over channel counts around
// the vector widths and block sizes, 3×3 and 5×5 taps with strides, residuals and clamps,
// with guard regions around the output.
func TestDepthwiseRowMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for name, impl := range depthwiseImpls() {
		for _, c := range []int{1, 5, 16, 17, 32, 63, 64, 65, 96, 144, 200} {
			for _, k := range []int{3, 5} {
				for _, stride := range []int{1, 2} {
					for variant := 0; variant < 6; variant++ {
						ow := []int{7, 19}[variant%2]
						wp := (ow-1)*stride + k + 1
						rowLen := wp * c
						x := randSlice(r, 1+k*rowLen)
						var taps []int
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								taps = append(taps, ky*rowLen+kx*c)
							}
						}
						wstride := (c + 15) / 16 * 16
						w := randSlice(r, len(taps)*wstride)
						bias := randSlice(r, wstride)
						var z []float32
						clamp := variant >= 4
						if variant >= 2 {
							z = randSlice(r, ow*c)
						}
						y := newGuarded(r, ow*c)
						want := make([]float32, ow*c)
						for ox := 0; ox < ow; ox++ {
							for ch := 0; ch < c; ch++ {
								s := float64(bias[ch])
								for ti, off := range taps {
									s += float64(x[1+ox*stride*c+off+ch]) * float64(w[ti*wstride+ch])
								}
								v := float32(s)
								if z != nil {
									v += z[ox*c+ch]
								}
								if clamp {
									v = min(max(v, -0.2), 0.7)
								}
								want[ox*c+ch] = v
							}
						}
						impl(y.data, x, 1, stride*c, taps, nil, w, wstride, bias, ow, c, z, clamp, -0.2, 0.7)
						what := fmt.Sprintf("%s c%d k%d s%d ow%d v%d", name, c, k, stride, ow, variant)
						y.check(t, what)
						checkClose(t, what, y.data, want, 1e-5)
					}
				}
			}
		}
	}
}

// TestDepthwiseRowBorderTaps passes a subset of the taps with their weight rows and an
// origin before the start of x, as border pixels of an unpadded image do.
func TestDepthwiseRowBorderTaps(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for name, impl := range depthwiseImpls() {
		for _, c := range []int{16, 24, 96} {
			for _, ow := range []int{1, 9} {
				wstride := (c + 15) / 16 * 16
				w := randSlice(r, 9*wstride)
				bias := randSlice(r, wstride)
				// Taps of kernel columns 1 and 2 only (column 0 falls left of the image): the
				// origin is one pixel before x's start.
				taps, wrow := []int{c, 2 * c, 5*c*3 + c}, []int{1, 2, 4}
				x := randSlice(r, 16*c*3+ow*c)
				xOff := -c
				want := make([]float32, ow*c)
				for ox := 0; ox < ow; ox++ {
					for ch := 0; ch < c; ch++ {
						s := float64(bias[ch])
						for i, off := range taps {
							s += float64(x[xOff+ox*c+off+ch]) * float64(w[wrow[i]*wstride+ch])
						}
						want[ox*c+ch] = float32(s)
					}
				}
				y := newGuarded(r, ow*c)
				impl(y.data, x, xOff, c, taps, wrow, w, wstride, bias, ow, c, nil, false, 0, 0)
				what := fmt.Sprintf("%s c%d ow%d", name, c, ow)
				y.check(t, what)
				checkClose(t, what, y.data, want, 1e-5)
			}
		}
	}
}

// TestDepthwiseRowS1 compares the unit-stride row kernel with DepthwiseRow's Go version
// over kernel widths with and without a block kernel, partial kernel rows and pixel
// counts around the block of eight.
func TestDepthwiseRowS1(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, c := range []int{8, 16, 40, 96} {
		for _, kw := range []int{1, 3, 5, 7} {
			for _, ow := range []int{3, 8, 17} {
				for variant := 0; variant < 3; variant++ {
					kh := kw + 1
					rowLen := (ow + kw + 2) * c
					x := randSlice(r, (kh+1)*rowLen)
					wstride := (c + 15) / 16 * 16
					w := randSlice(r, kh*kw*wstride)
					bias := randSlice(r, wstride)
					// The last variant skips the first kernel row (the top border).
					var rowOff, wRow []int
					for ky := 0; ky < kh; ky++ {
						if variant == 2 && ky == 0 {
							continue
						}
						rowOff, wRow = append(rowOff, ky*rowLen), append(wRow, ky)
					}
					var z []float32
					if variant >= 1 {
						z = randSlice(r, ow*c)
					}
					clamp := variant == 1
					var taps, wrows []int
					for i, off := range rowOff {
						for kx := 0; kx < kw; kx++ {
							taps, wrows = append(taps, off+kx*c), append(wrows, wRow[i]*kw+kx)
						}
					}
					want := make([]float32, ow*c)
					depthwiseGo(want, x, c, c, taps, wrows, w, wstride, bias, ow, c, z, clamp, -0.3, 0.4)
					y := newGuarded(r, ow*c)
					DepthwiseRowS1(y.data, x, c, rowOff, wRow, kw, w, wstride, bias, ow, c, z, clamp, -0.3, 0.4)
					what := fmt.Sprintf("c%d kw%d ow%d v%d", c, kw, ow, variant)
					y.check(t, what)
					checkClose(t, what, y.data, want, 1e-5)
				}
			}
		}
	}
}
