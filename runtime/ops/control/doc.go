// Package control holds whittle's control-flow and container kernels: If, Loop, Scan (the
// opset 8 batched form and the opset 9+ form), SequenceMap, the Sequence* operators,
// SplitToSequence, ConcatFromSequence and the Optional operators.
//
// Bodies are compiled when the session is built, through NodeInfo.Compile, into
// kernel.Programs; running one from a kernel's Run with the kernel's own Context gives the
// body access to the values of enclosing graphs (the session's Scope). Sequences are
// kernel.Tensors of Kind SequenceValue; an empty optional is a NoneValue and a full one is
// simply its value.
//
// The package registers its kernels from init; package runtime imports it for effect.
package control
