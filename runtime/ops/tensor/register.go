package tensor

import "github.com/whittle-ml/whittle/runtime/kernel"

func init() {
	def := func(op string, since, end int64, f kernel.Factory) kernel.KernelDef {
		return kernel.KernelDef{Op: op, SinceVersion: since, EndVersion: end, New: f}
	}
	kernel.Register(
		def("Cast", 1, 0, newCast),
		def("CastLike", 15, 0, newCastLike),
		def("Constant", 1, 0, newConstant),
		def("ConstantOfShape", 9, 0, newConstantOfShape),
		def("EyeLike", 9, 0, newEyeLike),
		def("Range", 11, 0, newRange),
		def("Identity", 1, 0, newIdentity),
		def("Shape", 1, 0, newShape),
		def("Size", 1, 0, newSize),
		def("Reshape", 1, 0, newReshape),
		def("Flatten", 1, 0, newFlatten),
		def("Squeeze", 1, 0, newSqueeze),
		def("Unsqueeze", 1, 0, newUnsqueeze),
		def("Expand", 8, 0, newExpand),
		def("Transpose", 1, 0, newTranspose),
		def("Concat", 1, 0, newConcat),
		def("Split", 1, 0, newSplit),
		def("Slice", 1, 0, newSlice),
		def("Gather", 1, 0, newGather),
		def("GatherElements", 11, 0, newGatherElements),
		def("GatherND", 11, 0, newGatherND),
		def("ScatterND", 11, 0, newScatterND),
		def("ScatterElements", 11, 0, newScatterElements),
		def("Scatter", 9, 10, newScatterElements),
		def("Compress", 9, 0, newCompress),
		def("Pad", 1, 0, newPad),
		def("Tile", 6, 0, newTile),
		def("CenterCropPad", 18, 0, newCenterCropPad),
		def("Trilu", 14, 0, newTrilu),
		def("OneHot", 9, 0, newOneHot),
		def("DepthToSpace", 1, 0, newDepthToSpace),
		def("SpaceToDepth", 1, 0, newSpaceToDepth),
		def("ReverseSequence", 10, 0, newReverseSequence),
		def("NonZero", 9, 0, newNonZero),
		def("TopK", 1, 0, newTopK),
		def("ArgMax", 1, 0, newArgExtreme(true)),
		def("ArgMin", 1, 0, newArgExtreme(false)),
		def("CumSum", 11, 0, newCumSum),
		def("Unique", 11, 0, newUnique),
		def("Resize", 10, 0, newResize),
		def("Upsample", 7, 9, newUpsample),
		def("GridSample", 16, 0, newGridSample),
		def("StringConcat", 20, 0, newStringConcat),
		def("RegexFullMatch", 20, 0, newRegexFullMatch),
		def("StringSplit", 20, 0, newStringSplit),
		def("StringNormalizer", 10, 0, newStringNormalizer),
	)
}
