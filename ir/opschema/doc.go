// Package opschema is a registry of the standard ONNX operator schemas: for each operator
// of the default domain ("" = ai.onnx) and of the other operator sets documented in
// Operators.md (ai.onnx.preview, ai.onnx.preview.training), its name, domain, every
// since_version, deprecation, attributes (name, type, required, default), inputs and
// outputs (name, optional, variadic, min/max counts) and type constraints.
//
// The table in schemas_gen.go is generated from the ONNX specification's Operators.md by
// ./gen (run `go generate`); it depends only on the standard library and package ir (for
// ir.AttrType), so the IR, the checker and shape inference can all share it.
//
// Lookup(domain, op, opset) returns the schema in force at an opset version: the newest
// since_version not above it, as ONNX's schema registry resolves it.
//
// Limitation: Operators.md details the attributes, inputs, outputs and type constraints of
// the newest version of each operator only; older versions appear just as version numbers
// (their details live in Changelog.md, which whittle does not carry). Lookup therefore
// reports, for an older version in force, the correct SinceVersion but the newest
// signature, and Schema.SignatureKnown returns false: callers must not check a node of an
// older operator version against Attributes/Inputs/Outputs as if they were exact.
// Likewise an operator whose newest entry is a deprecation (Scatter, Upsample) has no
// recorded signature at all. The ai.onnx.ml operators are documented in Operators-ml.md,
// which is not part of the reference set, so that domain is absent (HasDomain reports
// false for it).
package opschema
