// Package interop holds whittle's tests and benchmarks against ONNX Runtime: the same
// models run in both runtimes on the same inputs, outputs compared and latencies reported
// side by side. It has no code of its own beyond test helpers; ONNX Runtime runs through
// internal/ortpeer (onnxruntime-node, installed by scripts/install-test-deps).
package interop
