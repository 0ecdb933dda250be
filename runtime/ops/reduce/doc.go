// Package reduce implements ONNX's reduction operators: ReduceSum, ReduceMean, ReduceMax,
// ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp and
// ReduceSumSquare, for every opset version (axes as an attribute before ReduceSum-13 and
// the others' version 18, as an input from then on).
//
// Every reduction is planned the same way: dimensions of size 1 are dropped and runs of
// adjacent dimensions that are all reduced or all kept are merged, so the input becomes an
// alternation of kept and reduced blocks. The innermost block is then a contiguous run:
// either reduced into one accumulator (an inner reduction) or combined elementwise into a row
// of accumulators (an outer reduction). Both inner loops are tight; the outer blocks are
// walked recursively.
//
// Floating-point inputs accumulate in float64 (float16 and bfloat16 are widened to float32
// first), signed integers in int64 and unsigned integers in uint64, so sums of float32 are
// accurate and integer sums wrap exactly as the output type does. Reducing over an empty set
// gives the operator's identity: 0 for sums, 1 for products, -inf (or the type's minimum)
// for ReduceMax, +inf (or the type's maximum) for ReduceMin, -inf for ReduceLogSum and
// ReduceLogSumExp, NaN for the float ReduceMean.
package reduce
