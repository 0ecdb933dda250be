// Package prepare rewrites a private copy of a model for running: it folds constants,
// fuses patterns into nodes of whittle's private domain (Domain) whose kernels live in
// runtime/ops/fused, and chooses data layouts, before the session plans buffers. The
// caller's model is never modified, and the reference kernels the rewritten nodes replace
// stay registered and untouched: they are the oracle the fused kernels are tested
// against.
//
// # Rules
//
// A Rule rewrites the main graph and reports whether it changed anything. Prepare runs
// the rules in phases (rules.go), each until none of its rules changes the graph:
// rewrites (constants, the QDQ rules of qdq*.go, float fusion), then layouts, then vector
// kernels for what is left. Rules match first and rewrite second, and each lives in its
// own file named after what it does.
//
// # What rules must preserve
//
//   - A value that keeps a name of the original graph holds exactly the original value:
//     same contents, shape and layout. A rewrite that changes a value (a fused output
//     that skips an intermediate, a tensor in another layout) gives it a new name. The
//     session relies on this to report fused steps to Options.Observer and to return
//     Intermediates under their original names.
//   - Kept values (graph outputs, and the values Options.Keep names: what an observer or
//     Intermediates needs) are never fused away nor changed in layout.
//   - Graph inputs and outputs keep their names, types and order.
package prepare
