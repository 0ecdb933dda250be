// Package quant implements ONNX's quantization operators: QuantizeLinear, DequantizeLinear
// (per-tensor, per-axis and blocked; 2-, 4-, 8- and 16-bit integers, float8 and float4
// types), DynamicQuantizeLinear, and the integer compute operators MatMulInteger,
// ConvInteger, QLinearMatMul and QLinearConv.
//
// The integer kernels are plain reference loops: inputs are widened to int32 with their
// zero points subtracted, products accumulate in int32, and requantization multiplies the
// accumulator by the combined scale in float64 before rounding half to even and
// saturating. They are the oracles that faster int8 kernels are tested against, so they
// favour being obviously right over being fast. ConvInteger and QLinearConv lower to an
// int32 im2col matrix and a matrix product with a private N-D convolution geometry helper.
//
// Packed sub-byte types arrive unpacked (one element per byte, see kernel.Tensor): int4
// and int2 elements are sign-extended from their low bits and written back wrapped.
package quant
