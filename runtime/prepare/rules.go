package prepare

// rules is the list Prepare runs, in order, until none changes the graph: constants first
// (so that later rules see weights as initializers), then the integer rules (qdq*.go: a
// quantized region must be recognised before its float Conv is fused with anything), then
// float fusion.
func rules() []Rule {
	var list []Rule
	list = append(list, foldConstants)
	list = append(list, qdqRules...)
	list = append(list, fuseConvAdd, fuseConvActivation)
	return list
}
