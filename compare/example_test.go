package compare_test

import (
	"fmt"

	"github.com/whittle-ml/whittle/compare"
)

// Stats accumulates batch after batch; the metrics cover everything added.
func ExampleStats() {
	var s compare.Stats
	reference := []float64{1, 2, 3, 4}
	got := []float64{1, 2.5, 3, 3}
	s.Add(reference, got, []int64{4}, compare.Tolerance{Atol: 0.6})
	fmt.Printf("max abs %.2f, max rel %.2f, mean abs %.3f\n", s.MaxAbs, s.MaxRel(), s.MeanAbs())
	fmt.Printf("cosine %.4f, SQNR %.2f dB\n", s.Cosine(), s.SQNR())
	fmt.Println(s.Failures(compare.Tolerance{Atol: 0.6}))
	// Output:
	// max abs 1.00, max rel 0.25, mean abs 0.375
	// cosine 0.9810, SQNR 13.80 dB
	// [1 of 4 elements exceed atol 0.6 + rtol 0·|a| (max abs error 1)]
}
