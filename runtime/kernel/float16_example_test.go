package kernel_test

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func ExampleFloat32ToFloat16() {
	h := kernel.Float32ToFloat16(1.0 / 3)
	fmt.Printf("%#04x %v\n", h, kernel.Float16ToFloat32(h))
	fmt.Printf("%#04x\n", kernel.Float32ToFloat16(65520)) // ties to even overflow to +Inf
	// Output:
	// 0x3555 0.33325195
	// 0x7c00
}

func ExampleFloat32ToFloat8() {
	fmt.Printf("%#02x\n", kernel.Float32ToFloat8(ir.Float8E4M3FN, 1e6, true))  // saturates to 448
	fmt.Printf("%#02x\n", kernel.Float32ToFloat8(ir.Float8E4M3FN, 1e6, false)) // NaN
	fmt.Println(kernel.Float8ToFloat32(ir.Float8E4M3FN, 0x7e))
	// Output:
	// 0x7e
	// 0x7f
	// 448
}
