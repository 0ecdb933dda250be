// Package ir is whittle's in-memory graph representation of an ONNX model.
//
// A Model holds a Graph; a Graph holds Nodes in order and the Values that flow between
// them. A Value is first-class: it knows its producer (a Node and output index, or none for
// graph inputs and initializers) and every use (a Node and input index). Edges change only
// through methods that keep both sides in step (Node.SetInput, Value.ReplaceAllUsesWith), so
// passes never edit input slices by hand. Values and nodes carry dense integer IDs, unique
// within a model (subgraphs share their model's ID space), so passes can keep side tables
// as slices indexed by ID.
//
// Initializers are Values whose Const holds a Tensor. Tensors are immutable by convention:
// a pass that changes weights installs a new Tensor rather than editing Raw in place, which
// is what lets Clone share tensor bytes between the copy and the original.
//
// Subgraphs (the bodies of If, Loop and Scan, held in graph attributes) read values of
// enclosing graphs directly: such a use appears in the outer Value's use list.
//
// Verify checks every invariant and names what broke; Format renders the text form used
// by golden tests and by whittle diff. Package ir does not depend on protobuf: package
// onnx converts between ir and the ONNX protobuf types.
package ir
