// Package seq2 holds the kernels of the sequence-model operators added in opset 26/27 and
// the preview attention operator: LinearAttention (linear, gated, delta and gated-delta
// recurrences with GQA), CausalConvWithState (stateful causal depthwise 1-D convolution)
// and ai.onnx.preview::FlexAttention (attention with score_mod / prob_mod subgraphs).
//
// Kernels read float32, float64, float16 and bfloat16 tensors, compute in float64 and
// write results in the input's element type.
//
// The package registers its kernels from init; package runtime imports it for effect.
package seq2
