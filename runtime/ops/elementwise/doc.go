// Package elementwise holds the element-by-element operator kernels of whittle's runtime:
// arithmetic (Add, Sub, Mul, Div, Pow, Mod, the variadic Max, Min, Sum and Mean), unary math
// (Neg, Abs, Sqrt, Exp, Log, the trigonometric functions, Erf, rounding), activations
// (Relu, LeakyRelu, PRelu, Elu, Selu, Celu, Gelu, Sigmoid, HardSigmoid, HardSwish,
// Softplus, Softsign, Mish, Swish, SwiGLU, Tanh, ThresholdedRelu, Shrink, Clip), comparisons and
// logic (Equal, Greater, Less, ..., And, Or, Xor, Not, the Bitwise ops and BitShift),
// predicates (IsNaN, IsInf), Where and Dropout (Identity lives in package tensor).
//
// Binary and ternary kernels broadcast with kernel.Binary / kernel.Ternary; float32 and
// float64 inputs are computed natively, integer types with Go's wrapping arithmetic.
// float16 and bfloat16 are not handled here: the kernels list only float and double
// among their Types, so the session converts half inputs to float32 around them.
//
// The package registers its kernels from init; package runtime imports it for effect.
package elementwise
