package linalg_test

import (
	"fmt"

	"github.com/whittle-ml/whittle/internal/linalg"
)

func ExampleSgemm() {
	// C = A·B for A 2×3 and B 3×2, on up to two goroutines.
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 1, 1}
	c := make([]float32, 4)
	linalg.Sgemm(2, false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [4 5 10 11]
}

func ExampleFor() {
	squares := make([]int, 5)
	linalg.For(2, len(squares), func(i int) { squares[i] = i * i })
	fmt.Println(squares)
	// Output: [0 1 4 9 16]
}
