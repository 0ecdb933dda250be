// Package nn holds the neural-network operator kernels of whittle's runtime: convolutions
// (Conv, ConvTranspose), pooling (MaxPool, AveragePool, LpPool and their Global forms),
// normalizations (BatchNormalization, InstanceNormalization, LayerNormalization,
// GroupNormalization, RMSNormalization, LRN, LpNormalization), matrix products (Gemm,
// MatMul, Einsum), Softmax / LogSoftmax / Hardmax, Attention and RotaryEmbedding.
//
// Every kernel computes in float32: float32 tensors are used in place, float64, float16 and
// bfloat16 tensors are converted on the way in and out. The heavy lifting is done by
// internal/linalg's Sgemm, a BLAS-like row-major single-precision GEMM that splits large
// products over the goroutines kernel.Context.Threads allows; Conv lowers to it through
// im2col, and packs constant weights once when the session is built. These kernels are the
// reference the session's fused kernels (runtime/ops/fused) are tested against.
//
// The package registers its kernels from init; package runtime imports it for effect.
package nn
