// Package loss implements ONNX's training-loss operators for inference-time evaluation:
// NegativeLogLikelihoodLoss (opset 12 onwards) and SoftmaxCrossEntropyLoss (opset 12
// onwards, with its optional log_prob output).
//
// Both take scores of shape (N, C) or (N, C, d1, ..., dk) and integer targets of shape (N)
// or (N, d1, ..., dk). Per-sample losses are accumulated in float64 whatever the element
// type (float32, float64, float16 or bfloat16), so the "mean" and "sum" reductions over
// many samples stay accurate; the result is rounded once to the input's type.
//
// A target equal to ignore_index contributes neither loss nor weight; any other target
// outside [0, C) is an error rather than an out-of-range read. With reduction "mean" the
// sum of losses is divided by the sum of the weights of the counted samples (their number
// when no weight is given), which is NaN when every sample is ignored, as in the ONNX
// reference implementation.
package loss
