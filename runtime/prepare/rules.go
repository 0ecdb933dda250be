package prepare

// rules is the list Prepare runs, in order, until none changes the graph: the integer rules
// first (qdq*.go: a quantized region must be recognised while its weights are still
// DequantizeLinear nodes of 8-bit initializers, which folding would turn into float, and
// before its float Conv is fused with anything), then constants (so that later rules see
// weights as initializers, and the DequantizeLinear of weights the integer rules left are
// computed once), then float fusion.
func rules() []Rule {
	var list []Rule
	list = append(list, qdqRules...)
	list = append(list, foldConstants)
	list = append(list, fuseConvAdd, fuseConvActivation)
	return list
}
