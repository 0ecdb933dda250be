package compare

import "github.com/whittle-ml/whittle/ir"

// Pair names a tensor of model A and the tensor of model B that computes the same thing.
type Pair struct {
	A, B string
	// ViaQDQ says B's tensor is the output of a DequantizeLinear whose QuantizeLinear
	// reads the value named A in B: the quantized version of A's float value.
	ViaQDQ bool
}

// qdqSuffixes are the names quantizers give a dequantized copy of a value.
var qdqSuffixes = []string{"_DequantizeLinear_Output", "_dequantized", "_DequantizeLinear"}

// MatchLayers pairs the non-constant values of a (graph inputs and node outputs of the
// main graph) with values of b, in a's graph order:
//
//   - when b quantizes a value (X -> QuantizeLinear -> DequantizeLinear), a's X is paired
//     with the DequantizeLinear output: what b's readers of X actually see;
//   - failing that, a value b names like a dequantized copy (X_DequantizeLinear_Output);
//   - failing that, b's value of the same name.
//
// Values of a without a counterpart (a Conv output whose Relu b folded away) are left out.
func MatchLayers(a, b *ir.Model) []Pair {
	bvals := map[string]*ir.Value{}
	for _, v := range b.Graph.Inputs {
		bvals[v.Name] = v
	}
	viaQDQ := map[string]string{}
	for _, n := range b.Graph.Nodes() {
		for _, v := range n.Outputs() {
			if v != nil {
				bvals[v.Name] = v
			}
		}
		if n.OpType != "DequantizeLinear" || n.Output(0) == nil {
			continue
		}
		q := n.Input(0).Producer()
		if q == nil || q.OpType != "QuantizeLinear" || q.Input(0) == nil {
			continue
		}
		base := q.Input(0).Name
		if _, dup := viaQDQ[base]; !dup {
			viaQDQ[base] = n.Output(0).Name
		}
	}
	var out []Pair
	add := func(v *ir.Value) {
		if v == nil || v.IsConst() {
			return
		}
		name := v.Name
		if bn, ok := viaQDQ[name]; ok {
			out = append(out, Pair{A: name, B: bn, ViaQDQ: true})
			return
		}
		for _, suf := range qdqSuffixes {
			if bv, ok := bvals[name+suf]; ok && !bv.IsConst() {
				out = append(out, Pair{A: name, B: bv.Name, ViaQDQ: true})
				return
			}
		}
		if bv, ok := bvals[name]; ok && !bv.IsConst() {
			out = append(out, Pair{A: name, B: name})
		}
	}
	for _, v := range a.Graph.Inputs {
		add(v)
	}
	for _, n := range a.Graph.Nodes() {
		if n.OpType == "Constant" {
			continue
		}
		for _, v := range n.Outputs() {
			add(v)
		}
	}
	return out
}
