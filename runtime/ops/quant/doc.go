// Package quant implements ONNX's quantization operators: QuantizeLinear, DequantizeLinear
// (per-tensor, per-axis and blocked; 2-, 4-, 8- and 16-bit integers, float8 and float4
// types), DynamicQuantizeLinear, and the integer compute operators MatMulInteger,
// ConvInteger, QLinearMatMul and QLinearConv.
//
// Every integer operator has a reference loop: inputs are widened to int32 with their zero
// points subtracted, products accumulate in int32, and requantization multiplies the
// accumulator by the combined scale in float64 before rounding half to even and
// saturating. The reference loops favour being obviously right over being fast and are the
// oracles of the fast paths.
//
// The fast paths take over when the weights, scales and zero points are constants (the
// usual case): a 2-D QLinearConv is prepared once (conv_nhwc.go: weights packed for
// internal/linalg's integer GEMM, or laid out for the depthwise row kernels of
// dwconv_amd64.s) and runs on NHWC bytes, with int32 results requantized block by block.
//
// Packed sub-byte types arrive unpacked (one element per byte, see kernel.Tensor): int4
// and int2 elements are sign-extended from their low bits and written back wrapped.
package quant
