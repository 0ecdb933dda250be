package prepare

// phases are the rule lists Prepare runs, one after the other, each until none of its rules
// changes the graph.
//
//  1. Rewrites: Constant nodes become initializers (a conversion that computes nothing),
//     then the integer rules (qdq*.go: a quantized region must be recognised while its
//     weights are still DequantizeLinear nodes of 8-bit initializers, which folding would
//     turn into float, and before its float Conv is fused with anything), constant
//     folding (the DequantizeLinear of weights the integer rules left are computed
//     once), and float fusion.
//  2. Layouts, once every fusion has happened.
//  3. Vector kernels for the elementwise operators nothing absorbed.
func phases() [][]Rule {
	var rewrite []Rule
	rewrite = append(rewrite, constantsToInitializers)
	rewrite = append(rewrite, qdqRules...)
	rewrite = append(rewrite, foldConstants, fuseConvBatchNorm, fuseConvAdd, fuseConvActivation, fuseGemm)
	return [][]Rule{rewrite, {chooseLayouts}, {fastElementwise, fastRows}}
}
