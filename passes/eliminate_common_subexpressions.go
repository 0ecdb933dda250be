package passes

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

func init() {
	Register(Info{
		Name: "eliminate_common_subexpressions",
		Doc: "merge nodes with the same operator, domain, attributes and inputs into the first of them; " +
			"never random ops, ops with subgraphs or ops outside ONNX's domains",
		New:        noParams("eliminate_common_subexpressions", eliminateCommonSubexpressions),
		FixedPoint: true,
	})
}

// eliminateCommonSubexpressions walks each graph in order, keyed by (op, attributes,
// inputs); since inputs are compared by identity and earlier duplicates are merged before
// later nodes are keyed, whole duplicated chains merge in one run.
func eliminateCommonSubexpressions(ctx *Context, m *ir.Model) (bool, error) {
	r := newRewriter(ctx, m)
	for _, g := range workGraphs(m) {
		seen := map[string]*ir.Node{}
		for _, n := range g.Nodes() {
			key, ok := cseKey(n)
			if !ok {
				continue
			}
			first, dup := seen[key]
			if !dup {
				seen[key] = n
				continue
			}
			if !canMerge(n, first) {
				continue
			}
			for i, v := range n.Outputs() {
				if v != nil {
					r.replaceValue(v, first.Output(i))
				}
			}
			if err := r.removeNode(n); err != nil {
				return r.changed, err
			}
		}
	}
	return r.changed, nil
}

// canMerge checks that every output of dup can be replaced by first's: an output first
// omits cannot be, and two graph outputs cannot become one value.
func canMerge(dup, first *ir.Node) bool {
	for i, v := range dup.Outputs() {
		if v == nil {
			continue
		}
		w := first.Output(i)
		if w == nil || !canStandIn(v, w) {
			return false
		}
	}
	return true
}

// cseKey is a node's identity for merging, or false for nodes that must not merge.
func cseKey(n *ir.Node) (string, bool) {
	if (!ir.IsDefaultDomain(n.Domain) && n.Domain != "ai.onnx.ml") || isRandom(n) || hasSubgraphs(n) {
		return "", false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%d|", n.Domain, n.OpType, n.Overload, len(n.Outputs()))
	for _, v := range n.Inputs() {
		if v == nil {
			b.WriteString("_,")
		} else {
			fmt.Fprintf(&b, "%d,", v.ID())
		}
	}
	b.WriteString("|")
	attrs := append([]*ir.Attr(nil), n.Attrs...)
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Name < attrs[j].Name })
	for _, a := range attrs {
		s, ok := attrKey(a)
		if !ok {
			return "", false
		}
		fmt.Fprintf(&b, "%s=%s;", a.Name, s)
	}
	return b.String(), true
}

// attrKey renders an attribute's value exactly (tensors by a hash of their bytes).
func attrKey(a *ir.Attr) (string, bool) {
	if a.RefAttrName != "" {
		return "@" + a.RefAttrName, true
	}
	switch a.Type {
	case ir.AttrInt:
		return fmt.Sprint("i", a.Int), true
	case ir.AttrFloat:
		return fmt.Sprintf("f%08x", floatBits(a.Float)), true
	case ir.AttrString:
		return fmt.Sprintf("s%q", a.String), true
	case ir.AttrInts:
		return fmt.Sprint("I", a.Ints), true
	case ir.AttrFloats:
		parts := make([]string, len(a.Floats))
		for i, f := range a.Floats {
			parts[i] = fmt.Sprintf("%08x", floatBits(f))
		}
		return "F" + strings.Join(parts, ","), true
	case ir.AttrStrings:
		return fmt.Sprintf("S%q", a.Strings), true
	case ir.AttrTensor:
		if a.Tensor == nil || a.Tensor.External != nil {
			return "", false
		}
		return "T" + tensorHash(a.Tensor), true
	case ir.AttrTypeProto:
		return "P" + a.TypeProto.String(), true
	}
	return "", false
}

// tensorHash identifies a tensor's type, shape and data.
func tensorHash(t *ir.Tensor) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%v|", t.DataType, t.Dims)
	h.Write(t.Raw)
	for _, s := range t.Strings {
		fmt.Fprintf(h, "%d:", len(s))
		h.Write(s)
	}
	return hex.EncodeToString(h.Sum(nil))
}
