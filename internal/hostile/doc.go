// Package hostile builds small ONNX models that are valid, or nearly so, yet expensive or
// awkward for a tool that reads them: deeply nested subgraphs, huge shapes asked for by a
// few bytes, integer overflow in size computations, empty outputs, and so on. Tests,
// fuzz seeds and the hardening table (docs/hardening.md) share them, so that every
// defence whittle has is exercised by the same inputs it was built against.
package hostile
