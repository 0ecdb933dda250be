package linalg

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

func randBytes(r *rand.Rand, n int) []uint8 {
	s := make([]uint8, n)
	for i := range s {
		s[i] = uint8(r.Intn(256))
	}
	return s
}

func randInt8s(r *rand.Rand, n, lo, hi int) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = int8(lo + r.Intn(hi-lo+1))
	}
	return s
}

// TestQGemmMatchesReference runs every kernel this machine supports over shapes that are
// not multiples of the tile, block or group sizes, with padded strides, zero points on both
// sides, extreme values (all 255 against ±128/127, where vpmaddubsw would saturate) and
// guard cells around C that must stay untouched.
func TestQGemmMatchesReference(t *testing.T) {
	shapes := [][3]int{{1, 1, 1}, {1, 16, 4}, {6, 64, 4}, {7, 17, 3}, {5, 33, 9}, {13, 65, 64}, {12, 130, 37}, {2, 200, 300}, {25, 48, 576}, {3, 1000, 5}, {50, 24, 27},
		{7, 300, 1800}} // the last: B ≥ 512 KiB and twice A, so two threads split its columns
	for _, kern := range qKernels() {
		t.Run(kern.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(1))
			for _, sh := range shapes {
				m, n, k := sh[0], sh[1], sh[2]
				for _, cs := range []struct {
					name    string
					lo, hi  int
					extreme bool
					zeroA   uint8
					zeroB   []int8
					trans   bool
					bias    bool
				}{
					{"plain", -128, 127, false, 0, nil, false, false},
					{"zeroA", -128, 127, false, 131, nil, false, true},
					{"reduced", -64, 64, false, 7, nil, true, true},
					{"extreme", -128, 127, true, 255, nil, false, true},
					{"zeroB", -128, 127, false, 3, []int8{-5}, false, false},
					{"zeroBcols", -100, 100, false, 128, randInt8s(r, n, -20, 20), true, true},
				} {
					name := fmt.Sprintf("%dx%dx%d_%s", m, n, k, cs.name)
					lda, ldb, ldc := k+3, n+1, n+5
					a := randBytes(r, (m-1)*lda+k) // A ends exactly at its last row
					b := randInt8s(r, k*ldb, cs.lo, cs.hi)
					if cs.extreme {
						for i := range a {
							a[i] = 255
						}
						for i := range b {
							b[i] = []int8{127, -128, 127, 127, -128, -128}[i%6]
						}
					}
					var bias []int32
					if cs.bias {
						bias = make([]int32, n)
						for j := range bias {
							bias[j] = int32(r.Intn(2001) - 1000)
						}
					}
					bt, ldbt := b, ldb
					if cs.trans {
						bt, ldbt = make([]int8, n*k), k
						for kk := 0; kk < k; kk++ {
							for j := 0; j < n; j++ {
								bt[j*k+kk] = b[kk*ldb+j]
							}
						}
					}
					pb, err := packQMatrixB(k, n, bt, ldbt, cs.trans, cs.zeroB, kern)
					if err != nil {
						t.Fatal(err)
					}
					if kern.name == "avx2" && pairsSaturate(k, n, func(kk, j int) int8 { return b[kk*ldb+j] }) {
						continue // dispatch never packs such weights for this kernel
					}
					const guard = 23
					buf := make([]int32, guard+(m-1)*ldc+n+guard)
					for i := range buf {
						buf[i] = int32(r.Uint32())
					}
					want := append([]int32(nil), buf...)
					qgemmRef(m, n, k, a, lda, cs.zeroA, b, ldb, cs.zeroB, bias, want[guard:], ldc)
					QGemm(1+m%3, m, a, lda, cs.zeroA, pb, bias, buf[guard:guard+(m-1)*ldc+n], ldc)
					for i := range buf {
						if buf[i] != want[i] {
							row, col := (i-guard)/ldc, (i-guard)%ldc
							t.Fatalf("%s: element %d (row %d col %d) = %d, want %d", name, i, row, col, buf[i], want[i])
						}
					}
				}
			}
		})
	}
}

// BenchmarkQGemm512 times a 512³ u8×s8 product on one goroutine with each kernel and reports
// giga multiply-adds per second as "GOP/s" counting two operations per multiply-add, the unit
// of SGEMM's GFLOP/s, so the two rates compare directly.
func BenchmarkQGemm512(b *testing.B) {
	const n = 512
	r := rand.New(rand.NewSource(1))
	a := randBytes(r, n*n)
	w := randInt8s(r, n*n, -128, 127)
	c := make([]int32, n*n)
	for _, kern := range qKernels() {
		b.Run(kern.name, func(b *testing.B) {
			pb, err := packQMatrixB(n, n, w, n, false, nil, kern)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				QGemm(1, n, a, n, 3, pb, nil, c, n)
			}
			b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

// BenchmarkQGemmVsSgemm512 alternates a 512³ SGEMM (with the float kernel of the integer
// kernel's vector width: AVX-512 for AVX512-VNNI, AVX2/FMA for the others) and a 512³ u8×s8
// QGemm with each integer kernel on one goroutine, so that both see the same
// machine load, and reports their rates in their fastest runs and the ratio of QGemm's
// multiply-adds per second to SGEMM's:
//
//	go test ./internal/linalg -run '^$' -bench QGemmVsSgemm -benchtime 40x
func BenchmarkQGemmVsSgemm512(b *testing.B) {
	const n = 512
	r := rand.New(rand.NewSource(1))
	x, y, z := randSlice(r, n*n), randSlice(r, n*n), make([]float32, n*n)
	a := randBytes(r, n*n)
	w := randInt8s(r, n*n, -128, 127)
	c := make([]int32, n*n)
	for _, kern := range qKernels() {
		if kern == qKernelGo {
			continue
		}
		b.Run(kern.name, func(b *testing.B) {
			pb, err := packQMatrixB(n, n, w, n, false, nil, kern)
			if err != nil {
				b.Fatal(err)
			}
			// The SGEMM of the same vector width: what a CPU with this integer kernel and
			// without the wider units would run.
			want := "avx2"
			if kern.name == "avx512vnni" {
				want = "avx512"
			}
			skern := tileKernels()[0]
			for _, tk := range tileKernels() {
				if tk.name == want {
					skern = tk
				}
			}
			// The fastest of each: on a shared machine, the runs least disturbed.
			ts, tq := time.Duration(1<<62), time.Duration(1<<62)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				sgemmWith(skern, 1, false, false, n, n, n, 1, x, n, y, n, 0, z, n)
				t1 := time.Now()
				QGemm(1, n, a, n, 3, pb, nil, c, n)
				tq = min(tq, time.Since(t1))
				ts = min(ts, t1.Sub(t0))
			}
			ops := 2 * float64(n*n*n)
			b.ReportMetric(ops/ts.Seconds()/1e9, "sgemm-GFLOP/s")
			b.ReportMetric(ops/tq.Seconds()/1e9, "GOP/s")
			b.ReportMetric(ts.Seconds()/tq.Seconds(), "ratio")
		})
	}
}

// TestQGemmTapsMatchesReference reads A in taps (a convolution's kernel rows over its input
// in place) with every kernel: taps whose length is not a multiple of 4, overlapping taps,
// one and many taps, against the product of the gathered rows.
func TestQGemmTapsMatchesReference(t *testing.T) {
	for _, kern := range qKernels() {
		t.Run(kern.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(4))
			for _, sh := range [][4]int{{1, 5, 3, 1}, {7, 64, 21, 7}, {13, 100, 192, 3}, {50, 17, 4, 9}, {6, 33, 64, 2}, {20, 40, 64, 1}, {5, 200, 700, 4}} { // the last splits columns
				m, n, kTap, taps := sh[0], sh[1], sh[2], sh[3]
				kpad := (kTap + 3) &^ 3
				lda := kTap + r.Intn(5)
				if taps == 1 && kTap%4 == 0 {
					lda = kTap // consecutive rows: the int16 kernel widens them in one run
				}
				offs := make([]int, taps)
				for i := range offs {
					offs[i] = r.Intn(3 * kTap)
				}
				size := 0
				for _, o := range offs {
					size = max(size, o+(m-1)*lda+kpad)
				}
				a := randBytes(r, size)
				lo, hi := -128, 127
				if kern.name == "avx2" {
					lo, hi = -64, 64 // the plain AVX2 kernel is only used on weights that cannot saturate
				}
				b := make([]int8, taps*kpad*n)
				for tp := 0; tp < taps; tp++ {
					for p := 0; p < kTap; p++ {
						copy(b[(tp*kpad+p)*n:(tp*kpad+p+1)*n], randInt8s(r, n, lo, hi))
					}
				}
				pb, err := packQMatrixB(taps*kpad, n, b, n, false, nil, kern)
				if err != nil {
					t.Fatal(err)
				}
				// The reference: gather the rows, then the plain product.
				k := taps * kTap
				ga := make([]uint8, m*k)
				gb := make([]int8, k*n)
				for i := 0; i < m; i++ {
					for tp, o := range offs {
						copy(ga[i*k+tp*kTap:i*k+(tp+1)*kTap], a[o+i*lda:o+i*lda+kTap])
					}
				}
				for tp := 0; tp < taps; tp++ {
					copy(gb[tp*kTap*n:(tp+1)*kTap*n], b[tp*kpad*n:(tp*kpad+kTap)*n])
				}
				bias := make([]int32, n)
				for j := range bias {
					bias[j] = int32(r.Intn(101) - 50)
				}
				want := make([]int32, m*n)
				qgemmRef(m, n, k, ga, k, 17, gb, n, nil, bias, want, n)
				got := make([]int32, m*n)
				QGemmTaps(1+m%2, m, a, offs, kTap, lda, 17, pb, bias, got, n)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%v: element %d = %d, want %d", sh, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestQGemmRequantMatchesTwoPasses: the requantizing products (in registers with the
// AVX512-VNNI and AVX2 kernels, the AVX2 ones' partial last block and the Go kernel tile by
// tile, and with zero points of B) equal QGemm followed by QRequant.Rows, byte for byte,
// to uint8 and int8 outputs, with guard bytes around Y.
func TestQGemmRequantMatchesTwoPasses(t *testing.T) {
	for _, kern := range qKernels() {
		t.Run(kern.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(6))
			out := 0
			for _, sh := range [][3]int{{1, 1, 4}, {7, 17, 3}, {13, 64, 64}, {50, 100, 37}, {6, 130, 576}, {20, 48, 40}, {9, 260, 2100}} { // the last splits columns
				m, n, k := sh[0], sh[1], sh[2]
				lo, hi := -128, 127
				if kern.name == "avx2" {
					lo, hi = -64, 64
				}
				for _, zb := range [][]int8{nil, {3}} {
					lda, ldy := k+1, n+3
					a := randBytes(r, (m-1)*lda+k)
					b := randInt8s(r, k*n, lo, hi)
					pb, err := packQMatrixB(k, n, b, n, false, zb, kern)
					if err != nil {
						t.Fatal(err)
					}
					scales := make([]float32, n)
					for j := range scales {
						scales[j] = float32(0.5+r.Float64()) / float32(40*k)
					}
					// uint8 outputs, and int8 ones (negative values: two's complement bytes).
					zp, ylo, yhi := int32(7), int32(0), int32(255)
					if out++; out%2 == 0 {
						zp, ylo, yhi = -5, -128, 127
					}
					rq, err := NewQRequant(n, scales, zp, ylo, yhi)
					if err != nil {
						t.Fatal(err)
					}
					c := make([]int32, m*n)
					QGemm(1, m, a, lda, 100, pb, nil, c, n)
					want := make([]uint8, m*ldy)
					rq.Rows(m, c, n, want, ldy)
					const guard = 11
					got := make([]uint8, guard+m*ldy+guard)
					for i := range got {
						got[i] = 0x5a
					}
					QGemmRequant(2, m, a, lda, 100, pb, nil, rq, got[guard:guard+(m-1)*ldy+n], ldy)
					for i, g := range got {
						row, col := (i-guard)/ldy, (i-guard)%ldy
						if i < guard || row >= m || col >= n {
							if g != 0x5a {
								t.Fatalf("%v zb %v: byte %d outside Y changed", sh, zb, i)
							}
							continue
						}
						if g != want[row*ldy+col] {
							t.Fatalf("%v zb %v: y[%d][%d] = %d, want %d", sh, zb, row, col, g, want[row*ldy+col])
						}
					}
					if zb != nil {
						continue
					}
					// The same through taps: two taps of whole dwords that together are the row.
					kt := k / 8 * 8
					if kt < 8 {
						continue
					}
					pbT, err := packQMatrixB(kt, n, b[:kt*n], n, false, nil, kern)
					if err != nil {
						t.Fatal(err)
					}
					QGemm(1, m, a, lda, 100, pbT, nil, c, n)
					rq.Rows(m, c, n, want, ldy)
					gotT := make([]uint8, m*ldy)
					QGemmTapsRequant(1, m, a, []int{0, kt / 2}, kt/2, lda, 100, pbT, nil, rq, gotT, ldy)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							if gotT[i*ldy+j] != want[i*ldy+j] {
								t.Fatalf("%v taps: y[%d][%d] = %d, want %d", sh, i, j, gotT[i*ldy+j], want[i*ldy+j])
							}
						}
					}
				}
			}
		})
	}
}
