// Package quant implements ONNX's quantization operators: QuantizeLinear, DequantizeLinear
// (per-tensor, per-axis and blocked; 2-, 4-, 8- and 16-bit integers, float8 and float4
// types), DynamicQuantizeLinear, and the integer compute operators MatMulInteger,
// ConvInteger, QLinearMatMul and QLinearConv; and the integer kernels the preparation
// stage's QDQ rules (runtime/prepare, qdq*.go) put in place of quantized regions.
//
// # Reference loops
//
// Every ONNX integer operator has a reference loop: inputs are widened to int32 with their
// zero points subtracted, products accumulate in int32, and requantization multiplies the
// accumulator by the combined scale in float64 before rounding half to even and
// saturating. The reference loops favour being obviously right over being fast and are the
// oracles of the fast paths.
//
// # Fast paths
//
// With constant weights, scales and zero points (the usual case) the operators are
// prepared once and run on internal/linalg's integer GEMM (weights packed at build time,
// AVX512-VNNI / AVX-VNNI / AVX2 / portable micro-kernels):
//
//   - conv_nhwc.go: 2-D convolutions on NHWC bytes. 1×1 stride-1 convolutions multiply the
//     input rows in place; other single-group ones read the input padded once with its
//     zero point in taps (conv_taps.go, linalg.QGemmTaps), no im2col; grouped ones gather
//     blocks (im2col); depthwise ones run row kernels (dwconv*.go). Results are requantized
//     in the micro-kernel's registers where it can (float32, MLAS's arithmetic: within
//     one step of the float64 reference, identical to ONNX Runtime's kernels).
//   - matmul_fast.go: MatMulInteger and QLinearMatMul with a constant 2-D B.
//   - linear_fast.go: per-tensor 8-bit QuantizeLinear (vectorized) and DequantizeLinear
//     (a 256-entry table).
//
// QLinearConv and ConvInteger nodes of NCHW graphs transpose at their edges.
//
// # Integer kernels of quantized regions
//
// In the session's private domain (runtime/prepare.Domain), on 8-bit tensors that travel
// between them in NHWC layout (nhwc_ops.go, qgemm_op.go, qlookup.go): QConvNHWC, QAdd,
// QMul, QConcat, QMaxPoolNHWC, QGlobalAveragePoolNHWC, QGemm, QLookup (a unary float
// operator as a table of its 256 results), QMulLookup (x times QLookup of x, as SiLU: one
// table too), QuantizeNHWC and the layout changes QToNHWC/QToNCHW. Each is tested against
// the unfused operators it replaces; QAdd, QMul, QConcat, QLookup, QMulLookup and the pools
// reproduce them exactly.
//
// # Assembly
//
// kernels_gen.go writes kernels_amd64.s (depthwise rows, 3×3 and 5×5 depthwise rows with
// the weights in registers, QAdd, QMul, the byte maximum of max pooling, quantization,
// table lookups (AVX-512 VBMI), the channel sums of global average pooling); every kernel
// has a portable Go version, chosen under the noasm tag or on CPUs without AVX2, and tests
// run every variant the machine supports. BenchmarkConvNHWC and BenchmarkElementwise time
// them on network shapes.
//
// Packed sub-byte types arrive unpacked (one element per byte, see kernel.Tensor): int4
// and int2 elements are sign-extended from their low bits and written back wrapped.
package quant
