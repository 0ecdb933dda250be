// Package onnxpb holds the Go types generated from whittle's ONNX schema, onnx.proto.
//
// The message, field and enum names and numbers are those of the ONNX specification, so
// that any ONNX file decodes into these types and encodes back without loss: the schema is
// proto2, so explicit presence is kept, and protobuf keeps fields it does not know.
// Most code should use package onnx (loading, saving, external data) and package ir
// (the graph IR) rather than these types directly.
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative onnx.proto
