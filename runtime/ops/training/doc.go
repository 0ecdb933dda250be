// Package training holds the kernels of the ai.onnx.preview.training domain — the
// optimizers Adagrad, Adam and Momentum, and Gradient, which differentiates part of its
// graph in reverse mode through a per-op rule table (gradrules.go) — together with the
// operators that feed training pipelines: the random generators Bernoulli and
// RandomUniformLike (numpy-compatible when seeded) and ImageDecoder.
//
// The package registers its kernels from init; package runtime imports it for effect.
package training
