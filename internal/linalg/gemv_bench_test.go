package linalg

import (
	"fmt"
	"testing"
)

func BenchmarkGemv(b *testing.B) {
	for _, sz := range []struct{ k, n int }{{512, 512}, {2048, 2048}, {4096, 8192}} {
		bm := make([]float32, sz.k*sz.n)
		for i := range bm {
			bm[i] = float32(i%7) - 3
		}
		a := make([]float32, sz.k)
		for i := range a {
			a[i] = float32(i%5) - 2
		}
		c := make([]float32, sz.n)
		pb := PackB(false, sz.k, sz.n, bm, sz.n)
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("packed/%dx%d/t%d", sz.k, sz.n, th), func(b *testing.B) {
				b.SetBytes(int64(4 * len(bm)))
				for range b.N {
					pb.Mul(th, 1, a, RowsOf{LD: sz.k, KC: sz.k}, c, sz.n, &Epilogue{})
				}
			})
			b.Run(fmt.Sprintf("unpacked/%dx%d/t%d", sz.k, sz.n, th), func(b *testing.B) {
				b.SetBytes(int64(4 * len(bm)))
				for range b.N {
					MulUnpacked(th, 1, sz.k, sz.n, a, sz.k, false, bm, sz.n, c, sz.n, &Epilogue{})
				}
			})
		}
	}
}

func BenchmarkPackB128M(b *testing.B) {
	k, n := 4096, 8192
	bm := make([]float32, k*n)
	b.SetBytes(int64(4 * len(bm)))
	for range b.N {
		PackB(false, k, n, bm, n)
	}
}
