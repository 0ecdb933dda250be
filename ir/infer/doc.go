// Package infer computes the element types and shapes of a model's values from its graph
// inputs, initializers, attributes and constant inputs, the way ONNX's shape inference does,
// keeping symbolic dimensions symbolic.
//
// Model walks every graph in node order (the bodies of If, Loop and Scan at the point where
// their node runs, so that outer values are typed first) and, for each node with a rule,
// computes its output types and merges them into Value.Type: an unknown type is filled in; a
// declared type is refined where it leaves a dimension unknown; a declared type that
// contradicts the inferred one (another element type, another rank, another known size) is
// kept and reported as a Problem.
//
// Symbolic dimensions follow numpy broadcasting: N with 1 gives N, N with N gives N, N with
// M or N with 5 gives a fresh symbol "unk__k" (the sizes must agree at run time, but which
// name is right cannot be known). Output sizes that depend on data (NonZero, Unique, a Loop's
// trip count) also get fresh symbols, so that later uses of the same value agree.
//
// With Options.DataPropagation, small integer tensors computed from shapes (Shape, Gather,
// Slice, Concat, Unsqueeze, Squeeze, Cast and integer arithmetic) are tracked dimension by
// dimension, as ONNX's data propagation does, so that a Reshape whose target is assembled from
// the input's own shape keeps the symbolic batch size.
//
// Package infer changes only Value.Type; it never adds or removes nodes.
package infer
