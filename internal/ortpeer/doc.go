// Package ortpeer runs models in ONNX Runtime (the npm package onnxruntime-node, driven by
// interop/ort/run.js on Node.js) so that whittle's tests and benchmarks can compare
// outputs and latency with the runtime users deploy to. scripts/install-test-deps
// installs it; tests that need it skip (or, under WHITTLE_STRICT, fail) without it.
package ortpeer
