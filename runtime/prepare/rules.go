package prepare

// rules is the list Prepare runs, in order, until none changes the graph: Constant nodes
// become initializers first (a conversion that computes nothing), then the integer rules
// (qdq*.go: a quantized region must be recognised while its weights are still
// DequantizeLinear nodes of 8-bit initializers, which folding would turn into float, and
// before its float Conv is fused with anything), then constant folding (the
// DequantizeLinear of weights the integer rules left are computed once), float fusion
// and layouts.
func rules() []Rule {
	var list []Rule
	list = append(list, constantsToInitializers)
	list = append(list, qdqRules...)
	list = append(list, foldConstants, fuseConvAdd, fuseConvActivation, chooseLayouts)
	return list
}
