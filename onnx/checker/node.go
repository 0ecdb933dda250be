package checker

import (
	"fmt"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/opschema"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// removedExperimentalOps were experimental operators of the default domain, since removed.
// onnx's checker accepts them with a warning, so old models using them still load.
var removedExperimentalOps = map[string]bool{
	"ATen": true, "Affine": true, "ConstantFill": true, "Crop": true, "DynamicSlice": true,
	"GRUUnit": true, "GivenTensorFill": true, "ImageScaler": true, "ParametricSoftplus": true,
	"Scale": true, "ScaledTanh": true,
}

// checkNode checks one node: its operator resolution and signature, and its attributes
// (recursing into subgraphs, which see the names in sc).
func (ck *checker) checkNode(c ctx, n *onnxpb.NodeProto, sc *scope) {
	if n.GetOpType() == "" {
		ck.report(c, "op_type", "is empty")
	}
	if len(n.GetInput()) == 0 && len(n.GetOutput()) == 0 {
		ck.report(c, "", "node has neither inputs nor outputs")
	}
	ck.checkMetadata(c, n.GetMetadataProps(), true)

	seen := map[string]bool{}
	for _, a := range n.GetAttribute() {
		if seen[a.GetName()] && a.GetName() != "" {
			ck.report(c, fmt.Sprintf("attribute %q", a.GetName()), "appears more than once")
		}
		seen[a.GetName()] = true
		ck.checkAttribute(c, a, sc)
	}

	domain := ir.CanonicalDomain(n.GetDomain())
	version, imported := c.opsets[domain]
	if !imported {
		where := "the model"
		if c.fn != nil {
			where = "the function"
		}
		ck.report(c, "domain", "%q is not in the opset_import of %s", n.GetDomain(), where)
		return
	}
	if n.GetOpType() == "" {
		return
	}
	if f, ok := ck.functions[funcKey{n.GetDomain(), n.GetOpType(), n.GetOverload()}]; ok {
		ck.checkFunctionCall(c, n, f)
		return
	}
	if domain == "" && removedExperimentalOps[n.GetOpType()] {
		ck.warn(c, "op_type", "%s is a removed experimental operator", n.GetOpType())
		return
	}
	if !opschema.HasDomain(domain) {
		return // a custom (or undocumented) domain: nothing to check against
	}
	schema, ok := opschema.Lookup(domain, n.GetOpType(), version)
	if !ok {
		if vs := opschema.Versions(domain, n.GetOpType()); len(vs) > 0 {
			ck.report(c, "op_type", "%s does not exist at opset %d of %s (first version %d)", n.GetOpType(), version, ir.DomainName(domain), vs[0])
		} else {
			ck.report(c, "op_type", "%s is not an operator of %s", n.GetOpType(), ir.DomainName(domain))
		}
		return
	}
	if schema.Deprecated {
		ck.report(c, "op_type", "%s is deprecated at opset %d of %s (since version %d)", n.GetOpType(), version, ir.DomainName(domain), schema.SinceVersion)
		return
	}
	if schema.SignatureKnown() {
		ck.verifySignature(c, n, schema)
	}
}

// verifySignature checks a node against the operator schema in force: input and output
// counts, empty names in required positions, and attributes.
func (ck *checker) verifySignature(c ctx, n *onnxpb.NodeProto, s *opschema.Schema) {
	ck.checkArity(c, "input", n.GetInput(), s.Inputs, s.MinInputs, s.MaxInputs)
	ck.checkArity(c, "output", n.GetOutput(), s.Outputs, s.MinOutputs, s.MaxOutputs)

	present := map[string]bool{}
	for _, a := range n.GetAttribute() {
		name := a.GetName()
		present[name] = true
		want, ok := s.Attribute(name)
		if !ok {
			// Names starting with "__" are implementation details that schemas ignore.
			if !strings.HasPrefix(name, "__") && name != "" {
				ck.report(c, fmt.Sprintf("attribute %q", name), "is not an attribute of %s-%d", s.Name, s.SinceVersion)
			}
			continue
		}
		if got := attrType(a); got != ir.AttrUndefined && got != want.Type {
			ck.report(c, fmt.Sprintf("attribute %q", name), "has type %s, %s-%d expects %s", opschema.AttrTypeName(got), s.Name, s.SinceVersion, opschema.AttrTypeName(want.Type))
		}
	}
	for _, want := range s.Attributes {
		if want.Required && !present[want.Name] {
			ck.report(c, fmt.Sprintf("attribute %q", want.Name), "is required by %s-%d but missing", s.Name, s.SinceVersion)
		}
	}
}

func (ck *checker) checkArity(c ctx, kind string, names []string, params []opschema.Param, lo, hi int) {
	if len(names) < lo || len(names) > hi {
		rng := fmt.Sprintf("%d to %d", lo, hi)
		switch {
		case hi == opschema.Unbounded:
			rng = fmt.Sprintf("at least %d", lo)
		case lo == hi:
			rng = fmt.Sprintf("exactly %d", lo)
		}
		ck.report(c, kind+"s", "has %d %ss, the operator takes %s", len(names), kind, rng)
	}
	for i, name := range names {
		if name != "" || i >= len(params) {
			continue
		}
		if p := params[i]; !p.Optional && !p.Variadic {
			ck.report(c, fmt.Sprintf("%s %d (%s)", kind, i, p.Name), "is required but the name is empty")
		}
	}
}

// checkFunctionCall checks a node calling a model-local function: it cannot pass more
// inputs or take more outputs than the function declares.
func (ck *checker) checkFunctionCall(c ctx, n *onnxpb.NodeProto, f *onnxpb.FunctionProto) {
	if len(n.GetInput()) > len(f.GetInput()) {
		ck.report(c, "inputs", "has %d inputs, function %s declares %d", len(n.GetInput()), f.GetName(), len(f.GetInput()))
	}
	if len(n.GetOutput()) > len(f.GetOutput()) {
		ck.report(c, "outputs", "has %d outputs, function %s declares %d", len(n.GetOutput()), f.GetName(), len(f.GetOutput()))
	}
}

// attrValue is one value field of an AttributeProto that is in use.
type attrValue struct {
	field string
	typ   ir.AttrType
}

// usedFields lists the value fields of a that are set (repeated ones when non-empty).
func usedFields(a *onnxpb.AttributeProto) []attrValue {
	var used []attrValue
	add := func(set bool, field string, typ ir.AttrType) {
		if set {
			used = append(used, attrValue{field, typ})
		}
	}
	add(a.F != nil, "f", ir.AttrFloat)
	add(a.I != nil, "i", ir.AttrInt)
	add(a.S != nil, "s", ir.AttrString)
	add(a.T != nil, "t", ir.AttrTensor)
	add(a.G != nil, "g", ir.AttrGraph)
	add(a.SparseTensor != nil, "sparse_tensor", ir.AttrSparseTensor)
	add(a.Tp != nil, "tp", ir.AttrTypeProto)
	add(len(a.Floats) > 0, "floats", ir.AttrFloats)
	add(len(a.Ints) > 0, "ints", ir.AttrInts)
	add(len(a.Strings) > 0, "strings", ir.AttrStrings)
	add(len(a.Tensors) > 0, "tensors", ir.AttrTensors)
	add(len(a.Graphs) > 0, "graphs", ir.AttrGraphs)
	add(len(a.SparseTensors) > 0, "sparse_tensors", ir.AttrSparseTensors)
	add(len(a.TypeProtos) > 0, "type_protos", ir.AttrTypeProtos)
	return used
}

// attrType is the declared type of a, or for IR < 2 (no type field) the type of its one
// value field; AttrUndefined when neither tells.
func attrType(a *onnxpb.AttributeProto) ir.AttrType {
	if a.Type != nil {
		return ir.AttrType(a.GetType())
	}
	if used := usedFields(a); len(used) == 1 {
		return used[0].typ
	}
	return ir.AttrUndefined
}

// singularMessageField names the field an attribute of a message type must set: unlike
// scalars, which proto3 writers may omit when zero, these have no default.
var singularMessageField = map[ir.AttrType]string{
	ir.AttrTensor:       "t",
	ir.AttrGraph:        "g",
	ir.AttrSparseTensor: "sparse_tensor",
	ir.AttrTypeProto:    "tp",
}

// checkAttribute checks that a is well formed, whatever operator it belongs to.
func (ck *checker) checkAttribute(c ctx, a *onnxpb.AttributeProto, sc *scope) {
	field := fmt.Sprintf("attribute %q", a.GetName())
	if a.GetName() == "" {
		ck.report(c, "attribute", "has an empty name")
	}
	declared := ir.AttrType(a.GetType())
	if a.Type == nil || declared == ir.AttrUndefined {
		if ck.ir >= 2 {
			ck.report(c, field, "has no type (required for IR version >= 2)")
		}
	} else if _, known := attrTypeNames[declared]; !known {
		ck.report(c, field, "has unknown type %d", a.GetType())
	}
	used := usedFields(a)
	if len(used) > 1 {
		names := make([]string, len(used))
		for i, u := range used {
			names[i] = u.field
		}
		ck.report(c, field, "sets more than one value field (%s)", strings.Join(names, ", "))
	}
	if a.Type != nil && declared != ir.AttrUndefined {
		for _, u := range used {
			if u.typ != declared {
				ck.report(c, field, "has type %s but sets field %s (of type %s)", opschema.AttrTypeName(declared), u.field, opschema.AttrTypeName(u.typ))
			}
		}
	}

	if ref := a.GetRefAttrName(); ref != "" {
		switch {
		case c.fn == nil:
			ck.report(c, field, "ref_attr_name %q is only allowed inside a function body", ref)
		case len(used) > 0:
			ck.report(c, field, "refers to function attribute %q but also holds a value", ref)
		case !functionHasAttr(c.fn, ref):
			ck.report(c, field, "refers to %q, which is not an attribute of function %s", ref, c.fn.GetName())
		}
	} else if want, ok := singularMessageField[declared]; ok && a.Type != nil && len(used) == 0 {
		ck.report(c, field, "has type %s but no value in field %s", opschema.AttrTypeName(declared), want)
	}

	if a.T != nil {
		ck.checkTensor(c, field, a.T)
	}
	for i, t := range a.GetTensors() {
		ck.checkTensor(c, fmt.Sprintf("%s tensors[%d]", field, i), t)
	}
	if a.SparseTensor != nil {
		ck.checkSparseTensor(c, field, a.SparseTensor)
	}
	for i, t := range a.GetSparseTensors() {
		ck.checkSparseTensor(c, fmt.Sprintf("%s sparse_tensors[%d]", field, i), t)
	}
	sub := c
	sub.main = false
	if g := a.GetG(); g != nil {
		ck.checkGraph(sub.in(fmt.Sprintf("attribute %s / graph %s", a.GetName(), g.GetName())), g, sc).close()
	}
	for i, g := range a.GetGraphs() {
		ck.checkGraph(sub.in(fmt.Sprintf("attribute %s[%d] / graph %s", a.GetName(), i, g.GetName())), g, sc).close()
	}
}

var attrTypeNames = map[ir.AttrType]bool{}

func init() {
	for t := ir.AttrFloat; t <= ir.AttrTypeProtos; t++ {
		attrTypeNames[t] = true
	}
}

func functionHasAttr(f *onnxpb.FunctionProto, name string) bool {
	for _, a := range f.GetAttribute() {
		if a == name {
			return true
		}
	}
	for _, a := range f.GetAttributeProto() {
		if a.GetName() == name {
			return true
		}
	}
	return false
}
