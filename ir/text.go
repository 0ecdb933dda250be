package ir

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Format renders the model in whittle's text form, close to ONNX's textual syntax
// (Syntax.md): a header, then each graph with typed inputs, initializers (type and a digest
// of their data, never the data itself), outputs, and one line per node:
//
//	%out = Op<attr=value, ...>(%in1, %in2)  # name
//
// The text is deterministic, so golden tests and whittle diff can compare it.
func Format(m *Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<ir_version: %d, opset_import: [", m.IRVersion)
	for i, o := range m.OpsetImports {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %d", o.Domain, o.Version)
	}
	b.WriteString("]")
	if m.ProducerName != "" {
		fmt.Fprintf(&b, ", producer: %q", strings.TrimSpace(m.ProducerName+" "+m.ProducerVersion))
	}
	if m.ModelVersion != 0 {
		fmt.Fprintf(&b, ", model_version: %d", m.ModelVersion)
	}
	b.WriteString(">\n")
	if len(m.Metadata) > 0 {
		keys := append([]StringPair(nil), m.Metadata...)
		sort.SliceStable(keys, func(i, j int) bool { return keys[i].Key < keys[j].Key })
		for _, p := range keys {
			fmt.Fprintf(&b, "# metadata %s = %q\n", p.Key, p.Value)
		}
	}
	if m.Graph != nil {
		formatGraph(&b, m.Graph, "")
	}
	for _, f := range m.Functions {
		fmt.Fprintf(&b, "\nfunction %s::%s", f.Domain, f.Name)
		if len(f.AttrNames) > 0 || len(f.AttrDefaults) > 0 {
			attrs := append([]string(nil), f.AttrNames...)
			for _, a := range f.AttrDefaults {
				attrs = append(attrs, a.Name+"="+a.ValueString())
			}
			fmt.Fprintf(&b, " <%s>", strings.Join(attrs, ", "))
		}
		b.WriteString("\n")
		formatGraph(&b, f.Body, "")
	}
	for i, ti := range m.TrainingInfo {
		fmt.Fprintf(&b, "\ntraining_info[%d]\n", i)
		if ti.Initialization != nil {
			formatGraph(&b, ti.Initialization, "")
		}
		if ti.Algorithm != nil {
			formatGraph(&b, ti.Algorithm, "")
		}
	}
	return b.String()
}

// String renders the graph alone in the text form.
func (g *Graph) String() string {
	var b strings.Builder
	formatGraph(&b, g, "")
	return b.String()
}

func valueRef(v *Value) string {
	if v == nil {
		return "%<none>"
	}
	return "%" + v.Name
}

func formatGraph(b *strings.Builder, g *Graph, indent string) {
	fmt.Fprintf(b, "%sgraph %q (\n", indent, g.Name)
	for _, v := range g.Inputs {
		fmt.Fprintf(b, "%s  %s: %s", indent, valueRef(v), v.Type)
		if v.Const != nil {
			b.WriteString(" = " + TensorDigest(v.Const))
		}
		b.WriteString("\n")
	}
	inputs := map[*Value]bool{}
	for _, v := range g.Inputs {
		inputs[v] = true
	}
	var inits []*Value
	for _, v := range g.Initializers {
		if !inputs[v] {
			inits = append(inits, v)
		}
	}
	if len(inits) > 0 {
		fmt.Fprintf(b, "%s) initializers (\n", indent)
		for _, v := range inits {
			switch {
			case v.Const != nil:
				fmt.Fprintf(b, "%s  %s: %s = %s\n", indent, valueRef(v), TensorTypeString(v.Const), TensorDigest(v.Const))
			case v.SparseConst != nil:
				fmt.Fprintf(b, "%s  %s: sparse %s%v nnz=%d\n", indent, valueRef(v), v.SparseConst.Values.DataType, v.SparseConst.Dims, len(v.SparseConst.Values.Raw))
			}
		}
	}
	fmt.Fprintf(b, "%s) => (\n", indent)
	for _, v := range g.Outputs {
		fmt.Fprintf(b, "%s  %s: %s\n", indent, valueRef(v), v.Type)
	}
	fmt.Fprintf(b, "%s) {\n", indent)
	for _, n := range g.Nodes() {
		formatNode(b, n, indent+"  ")
	}
	fmt.Fprintf(b, "%s}\n", indent)
}

func formatNode(b *strings.Builder, n *Node, indent string) {
	b.WriteString(indent)
	outs := make([]string, len(n.outputs))
	for i, v := range n.outputs {
		outs[i] = valueRef(v)
	}
	b.WriteString(strings.Join(outs, ", "))
	b.WriteString(" = ")
	if n.Domain != "" {
		b.WriteString(n.Domain + "::")
	}
	b.WriteString(n.OpType)
	var subs []*Attr
	if len(n.Attrs) > 0 {
		parts := make([]string, 0, len(n.Attrs))
		for _, a := range n.Attrs {
			if len(a.Subgraphs()) > 0 {
				subs = append(subs, a)
				parts = append(parts, a.Name+"=<graph>")
				continue
			}
			parts = append(parts, a.Name+"="+a.ValueString())
		}
		b.WriteString("<" + strings.Join(parts, ", ") + ">")
	}
	ins := make([]string, len(n.inputs))
	for i, v := range n.inputs {
		if v == nil {
			ins[i] = ""
		} else {
			ins[i] = valueRef(v)
		}
	}
	b.WriteString("(" + strings.Join(ins, ", ") + ")")
	if n.Name != "" {
		b.WriteString("  # " + n.Name)
	}
	b.WriteString("\n")
	for _, a := range subs {
		for _, g := range a.Subgraphs() {
			fmt.Fprintf(b, "%s  %s:\n", indent, a.Name)
			formatGraph(b, g, indent+"    ")
		}
	}
}

func formatFloat(f float32) string {
	return strconv.FormatFloat(float64(f), 'g', -1, 32)
}

// ValueString renders the attribute's value as the text form and diffs show it: numbers as
// Go formats them (floats with float32 precision), strings quoted, lists in brackets,
// tensors as type and digest, a reference to a function attribute as @name.
func (a *Attr) ValueString() string {
	if a.RefAttrName != "" {
		return "@" + a.RefAttrName
	}
	list := func(n int, item func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = item(i)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	tensor := func(t *Tensor) string {
		if t == nil {
			return "<nil tensor>"
		}
		return TensorTypeString(t) + " " + TensorDigest(t)
	}
	switch a.Type {
	case AttrFloat:
		return formatFloat(a.Float)
	case AttrInt:
		return strconv.FormatInt(a.Int, 10)
	case AttrString:
		return strconv.Quote(a.String)
	case AttrFloats:
		return list(len(a.Floats), func(i int) string { return formatFloat(a.Floats[i]) })
	case AttrInts:
		return list(len(a.Ints), func(i int) string { return strconv.FormatInt(a.Ints[i], 10) })
	case AttrStrings:
		return list(len(a.Strings), func(i int) string { return strconv.Quote(a.Strings[i]) })
	case AttrTensor:
		return tensor(a.Tensor)
	case AttrTensors:
		return list(len(a.Tensors), func(i int) string { return tensor(a.Tensors[i]) })
	case AttrTypeProto:
		return a.TypeProto.String()
	case AttrTypeProtos:
		return list(len(a.TypeProtos), func(i int) string { return a.TypeProtos[i].String() })
	case AttrGraph, AttrGraphs:
		return fmt.Sprintf("<%d graph(s)>", len(a.Subgraphs()))
	case AttrSparseTensor:
		if a.SparseTensor != nil && a.SparseTensor.Values != nil {
			return "sparse " + tensor(a.SparseTensor.Values)
		}
		return "<sparse tensor>"
	case AttrSparseTensors:
		return fmt.Sprintf("<%d sparse tensors>", len(a.SparseTensors))
	}
	return "<" + a.Type.String() + ">"
}

// TensorTypeString renders a constant's type: float[64,3,7,7].
func TensorTypeString(t *Tensor) string {
	parts := make([]string, len(t.Dims))
	for i, d := range t.Dims {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return t.DataType.String() + "[" + strings.Join(parts, ",") + "]"
}

// TensorDigest summarizes a constant's data: small tensors in full, larger ones as a hash
// plus statistics, so that any change of value shows in the text form.
func TensorDigest(t *Tensor) string {
	if t.External != nil {
		return fmt.Sprintf("{external %q offset %d}", t.External.Location, t.External.Offset)
	}
	if t.DataType == String {
		if len(t.Strings) <= 4 {
			parts := make([]string, len(t.Strings))
			for i, s := range t.Strings {
				parts[i] = strconv.Quote(string(s))
			}
			return "{" + strings.Join(parts, ", ") + "}"
		}
		h := fnv.New64a()
		for _, s := range t.Strings {
			h.Write(s)
			h.Write([]byte{0})
		}
		return fmt.Sprintf("{%d strings, fnv %016x}", len(t.Strings), h.Sum64())
	}
	if vals, ok := digestValues(t); ok && len(vals) <= 8 {
		return "{" + strings.Join(vals, ", ") + "}"
	}
	h := fnv.New64a()
	h.Write(t.Raw)
	if t.DataType == Float {
		if f, err := t.Float32s(); err == nil && len(f) > 0 {
			lo, hi, sum, zeros := float32(math.Inf(1)), float32(math.Inf(-1)), 0.0, 0
			for _, v := range f {
				lo, hi = min(lo, v), max(hi, v)
				sum += float64(v)
				if v == 0 {
					zeros++
				}
			}
			return fmt.Sprintf("{fnv %016x, min %s, max %s, mean %.4g, zeros %d}", h.Sum64(), formatFloat(lo), formatFloat(hi), sum/float64(len(f)), zeros)
		}
	}
	return fmt.Sprintf("{%d bytes, fnv %016x}", len(t.Raw), h.Sum64())
}

func digestValues(t *Tensor) ([]string, bool) {
	switch t.DataType {
	case Float:
		f, err := t.Float32s()
		if err != nil || len(f) > 8 {
			return nil, false
		}
		out := make([]string, len(f))
		for i, v := range f {
			out[i] = formatFloat(v)
		}
		return out, true
	case Int64, Int32, Int16, Int8, Uint8, Uint16, Uint32, Uint64, Bool:
		v, err := t.Int64s()
		if err != nil || len(v) > 8 {
			return nil, false
		}
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = strconv.FormatInt(x, 10)
		}
		return out, true
	}
	return nil, false
}
