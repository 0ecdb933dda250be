package prepare

// rules is the list Prepare runs, in order, until none changes the graph: Constant nodes
// become initializers first (so that later rules see weights as initializers), then the
// integer rules (qdq*.go: a quantized region must be recognised before its
// DequantizeLinear of constant weights is folded into float weights, and before its float
// Conv is fused with anything), then constant folding, float fusion and layouts.
func rules() []Rule {
	var list []Rule
	list = append(list, constantsToInitializers)
	list = append(list, qdqRules...)
	list = append(list, foldConstants, fuseConvAdd, fuseConvActivation, chooseLayouts)
	return list
}
