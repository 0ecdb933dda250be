// Package misc implements ONNX operators that belong to no larger family: BitCast,
// CumProd, TensorScatter, AffineGrid, Col2Im, DeformConv, RoiAlign, NonMaxSuppression,
// MaxUnpool, Det and MeanVarianceNormalization.
//
// Float computations run in float64 (float32, float16 and bfloat16 inputs are widened
// first) and are rounded once to the output type; integer element types, where an
// operator accepts them (CumProd, Col2Im, TensorScatter, BitCast), are handled natively so
// that they wrap exactly as the type does. Shapes and indices that come from data are
// checked before use: a bad index is an error naming the node, never an out-of-range read.
package misc
