// Package graphgen builds small random valid ONNX graphs for fuzzing: every decision (an
// operator, its operands, a shape, a weight) is drawn from a Source, which a fuzz target
// feeds with the fuzzer's bytes, so that mutating the bytes mutates the graph and every
// input the fuzzer finds is a graph that can be rebuilt exactly.
//
// Elementwise builds chains of elementwise and shape operators; Reference computes their
// outputs with plain loops written from the ONNX specification, independently of the
// runtime's kernels. CNN builds small convolutional classifiers (Conv, BatchNormalization,
// Relu, pooling, residual Add, Gemm) for the optimize, prune and quantize fuzz targets.
package graphgen
