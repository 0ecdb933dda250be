// Package tensor implements ONNX's data-movement and tensor-construction operators: Cast and
// CastLike, Constant, ConstantOfShape, Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze,
// Identity, Transpose, Concat, Split, Slice, Gather, GatherElements, GatherND, ScatterND,
// ScatterElements and Scatter, Expand, Tile, Pad, Range, Trilu, OneHot, TopK, ArgMax, ArgMin,
// CumSum, NonZero, DepthToSpace, SpaceToDepth, Resize and Upsample, EyeLike, Compress,
// ReverseSequence, Unique, GridSample and a few string operators. Kernels register from init.
//
// Operators that only move elements work on every element type without a per-type copy of
// the code: element slices are viewed by element size (see view in move.go), so a float32
// and an int32 tensor share the 4-byte path. Operators that compute (Cast, Range, CumSum,
// Resize, ...) widen float16 and bfloat16 to float32 and narrow back with round to nearest
// even.
//
// Identity, Reshape, Flatten, Squeeze and Unsqueeze return views: the output shares the
// input's Data with a new Shape.
package tensor
