// Package onnx reads and writes ONNX model files and converts them to and from package ir.
//
// It holds three layers:
//
//   - the protobuf codec: Decode and Encode turn bytes into an onnxpb.ModelProto and back,
//     keeping fields this schema does not know, and ReadFile / WriteFile do the same for
//     files (WriteFile replaces its output atomically, see WriteFileAtomic);
//   - external data (ExternalData.md in the ONNX specification): ReadFile loads tensors
//     whose bytes live in side files into raw_data, checking every reference the way
//     ONNX's ExternalDataSecurity.md requires, and WriteFile can move large tensors out
//     to one aligned data file so models over protobuf's 2 GiB limit can be saved;
//   - conversion between onnxpb.ModelProto and the graph IR of package ir.
//
// TensorDataSize gives the byte size of a tensor's raw data for every ONNX element type,
// including the packed 4-bit and 2-bit types.
package onnx
