//go:build amd64 && !noasm

package linalg

import "golang.org/x/sys/cpu"

// The assembly takes the columns to compute (n) apart from the row stride (ld): the AVX2
// versions compute the columns of whole vectors and leave the rest to Go.

//go:noescape
func mulBroadcastAVX512(dst, a, row *float32, rows, n, ld int)

//go:noescape
func addBroadcastAVX512(dst, a, row *float32, rows, n, ld int)

//go:noescape
func sumRowsAVX512(acc, x *float32, rows, n, ld int)

//go:noescape
func mulBroadcastAVX2(dst, a, row *float32, rows, n, ld int)

//go:noescape
func addBroadcastAVX2(dst, a, row *float32, rows, n, ld int)

//go:noescape
func sumRowsAVX2(acc, x *float32, rows, n, ld int)

var (
	rowsAVX512 = rowsImpl{"avx512",
		func(dst, a, row []float32, rows int) {
			mulBroadcastAVX512(&dst[0], &a[0], &row[0], rows, len(row), len(row))
		},
		func(dst, a, row []float32, rows int) {
			addBroadcastAVX512(&dst[0], &a[0], &row[0], rows, len(row), len(row))
		},
		func(acc, x []float32, rows int) { sumRowsAVX512(&acc[0], &x[0], rows, len(acc), len(acc)) }}

	rowsAVX2 = rowsImpl{"avx2",
		broadcast256(mulBroadcastAVX2, func(d, s, row []float32) {
			for j, v := range row {
				d[j] = s[j] * v
			}
		}),
		broadcast256(addBroadcastAVX2, func(d, s, row []float32) {
			for j, v := range row {
				d[j] = s[j] + v
			}
		}),
		func(acc, x []float32, rows int) {
			n := len(acc)
			n8 := n &^ 7
			if n8 > 0 {
				sumRowsAVX2(&acc[0], &x[0], rows, n8, n)
			}
			for r := 0; r < rows && n8 < n; r++ {
				for j := n8; j < n; j++ {
					acc[j] += x[r*n+j]
				}
			}
		}}
)

// broadcast256 runs an AVX2 broadcast on the columns of whole vectors and tail on the
// rest of each row.
func broadcast256(f func(dst, a, row *float32, rows, n, ld int), tail func(d, s, row []float32)) func(dst, a, row []float32, rows int) {
	return func(dst, a, row []float32, rows int) {
		n := len(row)
		n8 := n &^ 7
		if n8 > 0 {
			f(&dst[0], &a[0], &row[0], rows, n8, n)
		}
		if n8 == n {
			return
		}
		for r := 0; r < rows; r++ {
			tail(dst[r*n+n8:(r+1)*n], a[r*n+n8:(r+1)*n], row[n8:])
		}
	}
}

func rowsImpls() []rowsImpl {
	impls := []rowsImpl{rowsGo}
	if cpu.X86.HasAVX2 {
		impls = append(impls, rowsAVX2)
	}
	if cpu.X86.HasAVX512F {
		impls = append(impls, rowsAVX512)
	}
	return impls
}

func init() {
	impls := rowsImpls()
	v := impls[len(impls)-1]
	mulBroadcastImpl, addBroadcastImpl, sumRowsImpl = v.mulBroadcast, v.addBroadcast, v.sumRows
}
