// Package fused holds the kernels of the operators that runtime/prepare creates in its
// private domain (prepare.Domain): convolutions with their bias, residual Add and
// activation applied in one pass over the output, and the layout-specific kernels the
// preparation stage chooses. The reference kernels of runtime/ops/nn are their oracle:
// every test here compares a fused kernel with the unfused sequence of reference nodes.
//
// # FusedConv
//
// Inputs X, W, B (optional), Z (optional); the attributes of Conv, plus activation (one
// of prepare's Act* names, or absent) and activation_params. It computes
// Y = act(Conv(X, W, B) + Z), where Z has Y's shape.
//
// The package registers its kernels from init; package runtime imports it for effect.
package fused
