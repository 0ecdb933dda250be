package graphgen

import (
	"fmt"
	"math"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/opschema"
)

// OpCase is a one-node model and inputs for it, as built by Op.
type OpCase struct {
	Model  *ir.Model
	Op     string
	Inputs []*ir.Tensor // in graph input order
}

// Op builds a model of one node of a default-domain operator picked from the schema, at the
// newest opset, with inputs and attributes drawn to be awkward rather than valid: ranks 0 to
// 4 with dims 0 to 4 (zero-sized tensors included), integer inputs holding small, negative
// or huge values (shape and index operands), attributes of the declared types with values
// that are often out of range, empty or enormous. Whatever a model asks, readers must answer
// with an error, never a panic or an allocation past the memory budget. Operators whose
// signature needs subgraphs or non-tensor types are skipped (ok is false).
func Op(src *Source) (c *OpCase, ok bool) {
	ops := opschema.Ops("")
	op := ops[src.Intn(len(ops))]
	opset := opschema.LatestOpset("")
	s, found := opschema.Lookup("", op, opset)
	if !found || s.Deprecated || !s.SignatureKnown() {
		return nil, false
	}
	g := ir.NewGraph("op")
	c = &OpCase{Model: &ir.Model{IRVersion: 10, OpsetImports: []ir.OpsetID{{Domain: "", Version: opset}}, Graph: g}, Op: op}
	chosen := map[string]ir.DataType{} // one element type per constraint symbol
	names := 0
	name := func(prefix string) string { names++; return fmt.Sprintf("%s%d", prefix, names) }
	var ins []*ir.Value
	for i, p := range s.Inputs {
		if p.Optional && src.Bool(2) {
			if i < s.MinInputs {
				return nil, false
			}
			ins = append(ins, nil)
			continue
		}
		dt, ok := paramType(src, s, p.Type, chosen)
		if !ok {
			return nil, false
		}
		count := 1
		if p.Variadic {
			count = src.Range(1, 3)
		}
		for k := 0; k < count; k++ {
			t := randomTensor(src, dt)
			v := g.AddInput(name("in"), ir.TensorTypeOf(dt, t.Dims...))
			ins = append(ins, v)
			c.Inputs = append(c.Inputs, t)
		}
	}
	for len(ins) > 0 && ins[len(ins)-1] == nil {
		ins = ins[:len(ins)-1]
	}
	var attrs []*ir.Attr
	for _, a := range s.Attributes {
		if !a.Required && src.Bool(2) {
			continue
		}
		at, ok := randomAttr(src, a)
		if !ok {
			return nil, false
		}
		attrs = append(attrs, at)
	}
	nOut := max(s.MinOutputs, 1)
	if s.MaxOutputs > nOut {
		nOut += src.Intn(min(s.MaxOutputs, 3) - nOut + 1)
	}
	outs := make([]string, nOut)
	for i := range outs {
		outs[i] = name("out")
	}
	n := g.NewNode("", op, ins, outs, attrs...)
	n.Name = "fuzzed"
	g.Append(n)
	g.Outputs = append(g.Outputs, n.Outputs()...)
	return c, true
}

// paramType picks the element type of a formal parameter: a concrete tensor type, or one
// allowed by its constraint (the same for every parameter of that symbol).
func paramType(src *Source, s *opschema.Schema, typ string, chosen map[string]ir.DataType) (ir.DataType, bool) {
	if dt, ok := tensorElem(typ); ok {
		return dt, true
	}
	if dt, ok := chosen[typ]; ok {
		return dt, true
	}
	tc, ok := s.Constraint(typ)
	if !ok {
		return ir.Undefined, false
	}
	var allowed []ir.DataType
	for _, a := range tc.Allowed {
		if dt, ok := tensorElem(a); ok {
			allowed = append(allowed, dt)
		}
	}
	if len(allowed) == 0 {
		return ir.Undefined, false
	}
	// Prefer float and int64, the types real models use, but try the rest too.
	for _, pref := range []ir.DataType{ir.Float, ir.Int64} {
		for _, dt := range allowed {
			if dt == pref && src.Bool(2) {
				chosen[typ] = dt
				return dt, true
			}
		}
	}
	dt := allowed[src.Intn(len(allowed))]
	chosen[typ] = dt
	return dt, true
}

func tensorElem(typ string) (ir.DataType, bool) {
	inner, ok := strings.CutPrefix(typ, "tensor(")
	if !ok {
		return ir.Undefined, false
	}
	dt, ok := ir.ParseDataType(strings.TrimSuffix(inner, ")"))
	if !ok || dt == ir.String || dt.BitSize() < 8 {
		return ir.Undefined, false
	}
	return dt, true
}

// randomTensor draws a small tensor of dt: rank 0 to 4, dims 0 to 4; integers are small
// (often negative), occasionally huge; floats are ordinary, occasionally NaN or infinite.
func randomTensor(src *Source, dt ir.DataType) *ir.Tensor {
	shape := make([]int64, src.Intn(5))
	for i := range shape {
		shape[i] = int64(src.Range(1, 4))
		if src.Bool(12) {
			shape[i] = 0
		}
	}
	n := numel(shape)
	vals := make([]float64, n)
	for i := range vals {
		switch {
		case src.Bool(16):
			vals[i] = []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1 << 40, -1 << 40, 1 << 62}[src.Intn(6)]
		case dt.IsFloat():
			vals[i] = float64(src.Float(4))
		default:
			vals[i] = float64(src.Range(-3, 6))
		}
	}
	t := &ir.Tensor{Name: "", DataType: dt, Dims: shape}
	raw, err := encode(dt, vals)
	if err != nil {
		return ir.FromFloat32("", shape, make([]float32, n))
	}
	t.Raw = raw
	return t
}

// encode packs values as raw data of dt, saturating integers that do not fit.
func encode(dt ir.DataType, vals []float64) ([]byte, error) {
	size, err := dt.ByteSize(1)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 0, int(size)*len(vals))
	for _, v := range vals {
		var bits uint64
		switch dt {
		case ir.Float:
			bits = uint64(math.Float32bits(float32(v)))
		case ir.Double:
			bits = math.Float64bits(v)
		case ir.Float16, ir.BFloat16:
			bits = uint64(math.Float32bits(float32(v)) >> 16) // bfloat16 bits; any 16 bits will do for float16
		case ir.Bool:
			if v != 0 && !math.IsNaN(v) {
				bits = 1
			}
		default:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 0
			}
			lim := math.Ldexp(1, int(size)*8-1)
			v = math.Max(-lim, math.Min(lim-1, v))
			bits = uint64(int64(v))
		}
		for k := 0; k < int(size); k++ {
			raw = append(raw, byte(bits>>(8*k)))
		}
	}
	return raw, nil
}

var attrStrings = []string{"", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect", "edge", "wrap",
	"linear", "nearest", "cubic", "half_pixel", "asymmetric", "align_corners", "DCR", "CRD", "none", "mean", "sum",
	"tanh", "relu", "sigmoid", "round_prefer_floor", "floor", "ceil", "not_larger", "bilinear", "zeros", "border",
	"\xff\xfe", "..."}

// randomAttr draws a value of a's type; graph attributes are not drawn (ok is false).
func randomAttr(src *Source, a opschema.Attribute) (*ir.Attr, bool) {
	smallInt := func() int64 {
		switch {
		case src.Bool(12):
			return []int64{1 << 40, -1 << 40, math.MaxInt64, math.MinInt64, 1 << 31}[src.Intn(5)]
		default:
			return int64(src.Range(-2, 5))
		}
	}
	switch a.Type {
	case ir.AttrInt:
		return ir.IntAttr(a.Name, smallInt()), true
	case ir.AttrInts:
		v := make([]int64, src.Intn(7))
		for i := range v {
			v[i] = smallInt()
		}
		return ir.IntsAttr(a.Name, v...), true
	case ir.AttrFloat:
		f := src.Float(4)
		if src.Bool(12) {
			f = float32([]float64{math.NaN(), math.Inf(1), 0, 1e38}[src.Intn(4)])
		}
		return ir.FloatAttr(a.Name, f), true
	case ir.AttrFloats:
		v := make([]float32, src.Intn(7))
		for i := range v {
			v[i] = src.Float(4)
		}
		return ir.FloatsAttr(a.Name, v...), true
	case ir.AttrString:
		return ir.StringAttr(a.Name, attrStrings[src.Intn(len(attrStrings))]), true
	case ir.AttrStrings:
		v := make([]string, src.Intn(4))
		for i := range v {
			v[i] = attrStrings[src.Intn(len(attrStrings))]
		}
		return &ir.Attr{Name: a.Name, Type: ir.AttrStrings, Strings: v}, true
	case ir.AttrTensor:
		dt := []ir.DataType{ir.Float, ir.Int64, ir.Int32, ir.Uint8, ir.Double}[src.Intn(5)]
		t := randomTensor(src, dt)
		return ir.TensorAttr(a.Name, t), true
	}
	return nil, false
}
