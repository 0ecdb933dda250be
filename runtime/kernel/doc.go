// Package kernel defines what every operator kernel of whittle's runtime is built from:
// the runtime Tensor, the Kernel interface and its Factory, the registry that maps
// (domain, op, opset range, element type) to a factory, and the per-run Context.
//
// Operator families live in packages under runtime/ops and register themselves from init;
// package runtime imports them all and builds Sessions.
package kernel
