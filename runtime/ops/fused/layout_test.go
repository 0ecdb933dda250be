package fused

import (
	"fmt"
	"testing"
)

// TestTransposeBatch: every block of rows and span of columns is written once, whatever
// the split: one image of 3 channels (the first layer's reorder, split by columns), many
// channels (split by rows), sizes that are not multiples of the 16×16 blocks, batches.
func TestTransposeBatch(t *testing.T) {
	for _, tc := range []struct{ nb, rows, cols int }{
		{1, 3, 224 * 224}, {1, 3, 5}, {2, 3, 4099}, {1, 64, 49}, {3, 17, 33}, {1, 1, 1}, {2, 40, 1500},
	} {
		x := make([]float32, tc.nb*tc.rows*tc.cols)
		for i := range x {
			x[i] = float32(i)
		}
		for _, threads := range []int{1, 2, 3} {
			y := make([]float32, len(x))
			for i := range y {
				y[i] = -1
			}
			transposeBatch(threads, x, y, tc.nb, tc.rows, tc.cols)
			what := fmt.Sprintf("%d×%d×%d, %d threads", tc.nb, tc.rows, tc.cols, threads)
			for n := 0; n < tc.nb; n++ {
				for r := 0; r < tc.rows; r++ {
					for c := 0; c < tc.cols; c++ {
						got, want := y[(n*tc.cols+c)*tc.rows+r], x[(n*tc.rows+r)*tc.cols+c]
						if got != want {
							t.Fatalf("%s: y[%d][%d][%d] = %v, want %v", what, n, c, r, got, want)
						}
					}
				}
			}
		}
	}
}
