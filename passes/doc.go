// Package passes rewrites whittle's IR: cleanup passes that keep a model's outputs exactly
// (dead code, identities, constant folding, fusions, common subexpressions, duplicate
// weights) and the machinery that runs them.
//
// A Pass edits a model in place and reports whether it changed anything. Passes are
// registered by name (snake_case verb_object, as onnx/optimizer names them) with their
// parameters and flags; a pipeline is written as "fold_constants,prune:sparsity=0.5" or as
// a YAML/JSON recipe, and Run repeats it until no pass changes anything.
//
// Every edit goes through a rewriter that both changes the IR and records the change in
// the Context's ChangeLog, tagged with the pass that made it, so that the applied pipeline
// and what it did can be stored in the output model's metadata (keys "whittle.passes" and
// "whittle.changelog") and explained later by whittle diff. With Context.VerifyEach the
// manager checks the IR's invariants after every pass and names the pass that broke them,
// and checks that a pass which says it changed nothing logged nothing (and the reverse).
//
// Passes never run a model themselves: constant folding asks the Context's Evaluator,
// which package runtime implements (runtime.ConstEvaluator). Imports point one way:
// passes depends on ir and provenance (the metadata schema) only, never on runtime or onnx.
package passes
