// Package irdiff compares two models and explains what changed between them: the engine
// behind whittle diff.
//
// Compare first pairs the parts of the two models (see match.go):
//   - graph inputs and outputs by name, then by position;
//   - initializers by name, then by element type, shape and a hash of their bytes, and last
//     by the input slot of matched nodes that read them;
//   - nodes by name when a name is non-empty and unique on both sides; then by structure,
//     in topological order: same op and every input matched (both producers matched, or
//     both the same graph input or initializer); then what remains by op type and order,
//     a longest common subsequence of the two op sequences;
//   - subgraphs through their owner nodes, with the enclosing graphs' pairs in scope.
//
// It then reports nodes added, removed and changed (op, domain, attributes, inputs rewired,
// outputs renamed), initializer changes (type, sparsity, max |Δ| and relative L2 change),
// graph input and output changes, and totals (nodes, params, bytes, MACs, op histogram).
//
// When the second model was written by whittle, its metadata carries the pipeline that
// produced it (whittle.passes) and the pass manager's change log (whittle.changelog);
// Compare attaches to every difference the passes whose log entries account for it, and
// marks the differences no entry accounts for as unexplained.
//
// A Diff renders as text (WriteText, optionally coloured), JSON (WriteJSON; the layout is
// documented there and on the Diff types, versioned by SchemaVersion) or Graphviz DOT
// (WriteDOT). Comparing never modifies either model.
package irdiff
