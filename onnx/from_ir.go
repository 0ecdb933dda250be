package onnx

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// FromIR converts a model to its protobuf form. Values of the IR become names: graph inputs,
// initializers and node outputs keep their Name; an omitted optional input or output becomes "".
func FromIR(m *ir.Model) (*pb.ModelProto, error) {
	out := &pb.ModelProto{
		OpsetImport:   opsetsToProto(m.OpsetImports),
		MetadataProps: pairsToProto(m.Metadata),
	}
	if m.IRVersion != 0 {
		out.IrVersion = proto.Int64(m.IRVersion)
	}
	setStr := func(dst **string, v string) {
		if v != "" {
			*dst = proto.String(v)
		}
	}
	setStr(&out.ProducerName, m.ProducerName)
	setStr(&out.ProducerVersion, m.ProducerVersion)
	setStr(&out.Domain, m.Domain)
	setStr(&out.DocString, m.DocString)
	if m.ModelVersion != 0 {
		out.ModelVersion = proto.Int64(m.ModelVersion)
	}
	var err error
	if m.Graph != nil {
		if out.Graph, err = graphToProto(m.Graph); err != nil {
			return nil, err
		}
	}
	for _, f := range m.Functions {
		fp, err := functionToProto(f)
		if err != nil {
			return nil, err
		}
		out.Functions = append(out.Functions, fp)
	}
	for i, ti := range m.TrainingInfo {
		tp := &pb.TrainingInfoProto{
			InitializationBinding: pairsToProto(ti.InitializationBinding),
			UpdateBinding:         pairsToProto(ti.UpdateBinding),
		}
		if ti.Initialization != nil {
			if tp.Initialization, err = graphToProto(ti.Initialization); err != nil {
				return nil, fmt.Errorf("training_info[%d]: %w", i, err)
			}
		}
		if ti.Algorithm != nil {
			if tp.Algorithm, err = graphToProto(ti.Algorithm); err != nil {
				return nil, fmt.Errorf("training_info[%d]: %w", i, err)
			}
		}
		out.TrainingInfo = append(out.TrainingInfo, tp)
	}
	return out, nil
}

func valueName(v *ir.Value) string {
	if v == nil {
		return ""
	}
	return v.Name
}

func valueInfoToProto(v *ir.Value) *pb.ValueInfoProto {
	vi := &pb.ValueInfoProto{Name: proto.String(v.Name), Type: typeToProto(v.Type), MetadataProps: pairsToProto(v.Metadata)}
	if v.DocString != "" {
		vi.DocString = proto.String(v.DocString)
	}
	return vi
}

func graphToProto(g *ir.Graph) (*pb.GraphProto, error) {
	p := &pb.GraphProto{MetadataProps: pairsToProto(g.Metadata)}
	if g.Name != "" {
		p.Name = proto.String(g.Name)
	}
	if g.DocString != "" {
		p.DocString = proto.String(g.DocString)
	}
	for _, v := range g.Inputs {
		p.Input = append(p.Input, valueInfoToProto(v))
	}
	for _, v := range g.Initializers {
		switch {
		case v.Const != nil:
			t := TensorToProto(v.Const)
			t.Name = proto.String(v.Name)
			p.Initializer = append(p.Initializer, t)
		case v.SparseConst != nil:
			sp := sparseToProto(v.SparseConst)
			if sp.Values != nil {
				sp.Values.Name = proto.String(v.Name)
			}
			p.SparseInitializer = append(p.SparseInitializer, sp)
		default:
			return nil, fmt.Errorf("graph %q: initializer %q holds no tensor", g.Name, v.Name)
		}
	}
	for _, n := range g.Nodes() {
		np, err := nodeToProto(n)
		if err != nil {
			return nil, fmt.Errorf("graph %q: %w", g.Name, err)
		}
		p.Node = append(p.Node, np)
	}
	for _, v := range g.Outputs {
		p.Output = append(p.Output, valueInfoToProto(v))
	}
	for _, v := range g.ValueInfoOrder {
		if v.Type == nil && v.DocString == "" && len(v.Metadata) == 0 {
			continue
		}
		p.ValueInfo = append(p.ValueInfo, valueInfoToProto(v))
	}
	for _, qa := range g.QuantizationAnnotations {
		p.QuantizationAnnotation = append(p.QuantizationAnnotation, &pb.TensorAnnotation{
			TensorName: proto.String(qa.TensorName), QuantParameterTensorNames: pairsToProto(qa.Params),
		})
	}
	return p, nil
}

func nodeToProto(n *ir.Node) (*pb.NodeProto, error) {
	p := &pb.NodeProto{OpType: proto.String(n.OpType), MetadataProps: pairsToProto(n.Metadata)}
	if n.Name != "" {
		p.Name = proto.String(n.Name)
	}
	if n.Domain != "" {
		p.Domain = proto.String(n.Domain)
	}
	if n.Overload != "" {
		p.Overload = proto.String(n.Overload)
	}
	if n.DocString != "" {
		p.DocString = proto.String(n.DocString)
	}
	for _, v := range n.Inputs() {
		p.Input = append(p.Input, valueName(v))
	}
	for _, v := range n.Outputs() {
		p.Output = append(p.Output, valueName(v))
	}
	for _, a := range n.Attrs {
		ap, err := attrToProto(a)
		if err != nil {
			return nil, fmt.Errorf("%s: attribute %q: %w", n.Describe(), a.Name, err)
		}
		p.Attribute = append(p.Attribute, ap)
	}
	return p, nil
}

func attrToProto(a *ir.Attr) (*pb.AttributeProto, error) {
	p := &pb.AttributeProto{Name: proto.String(a.Name)}
	if a.Type != ir.AttrUndefined {
		p.Type = pb.AttributeProto_AttributeType(a.Type).Enum()
	}
	if a.RefAttrName != "" {
		p.RefAttrName = proto.String(a.RefAttrName)
	}
	if a.DocString != "" {
		p.DocString = proto.String(a.DocString)
	}
	// Only the field the type names is written, which is what the checker demands; a
	// reference to a caller's attribute carries no value.
	if a.RefAttrName != "" {
		return p, nil
	}
	switch a.Type {
	case ir.AttrFloat:
		p.F = proto.Float32(a.Float)
	case ir.AttrInt:
		p.I = proto.Int64(a.Int)
	case ir.AttrString:
		p.S = []byte(a.String)
	case ir.AttrTensor:
		if a.Tensor != nil {
			p.T = TensorToProto(a.Tensor)
		}
	case ir.AttrGraph:
		if a.Graph != nil {
			g, err := graphToProto(a.Graph)
			if err != nil {
				return nil, err
			}
			p.G = g
		}
	case ir.AttrSparseTensor:
		if a.SparseTensor != nil {
			p.SparseTensor = sparseToProto(a.SparseTensor)
		}
	case ir.AttrTypeProto:
		p.Tp = typeToProto(a.TypeProto)
	case ir.AttrFloats:
		p.Floats = append([]float32(nil), a.Floats...)
	case ir.AttrInts:
		p.Ints = append([]int64(nil), a.Ints...)
	case ir.AttrStrings:
		for _, s := range a.Strings {
			p.Strings = append(p.Strings, []byte(s))
		}
	case ir.AttrTensors:
		for _, t := range a.Tensors {
			p.Tensors = append(p.Tensors, TensorToProto(t))
		}
	case ir.AttrGraphs:
		for _, g := range a.Graphs {
			gp, err := graphToProto(g)
			if err != nil {
				return nil, err
			}
			p.Graphs = append(p.Graphs, gp)
		}
	case ir.AttrSparseTensors:
		for _, s := range a.SparseTensors {
			p.SparseTensors = append(p.SparseTensors, sparseToProto(s))
		}
	case ir.AttrTypeProtos:
		for _, t := range a.TypeProtos {
			p.TypeProtos = append(p.TypeProtos, typeToProto(t))
		}
	default:
		// No type (IR version 1 files may leave it out) or one the schema does not define:
		// there is no field the value is known to live in, so only the name and the type
		// number are kept, and the checker reports the attribute.
	}
	return p, nil
}

func functionToProto(f *ir.Function) (*pb.FunctionProto, error) {
	p := &pb.FunctionProto{
		Name: proto.String(f.Name), Domain: proto.String(f.Domain),
		Attribute: append([]string(nil), f.AttrNames...), OpsetImport: opsetsToProto(f.OpsetImports),
		MetadataProps: pairsToProto(f.Metadata),
	}
	if f.Overload != "" {
		p.Overload = proto.String(f.Overload)
	}
	if f.DocString != "" {
		p.DocString = proto.String(f.DocString)
	}
	for _, a := range f.AttrDefaults {
		ap, err := attrToProto(a)
		if err != nil {
			return nil, fmt.Errorf("function %s: attribute %q: %w", f.Name, a.Name, err)
		}
		p.AttributeProto = append(p.AttributeProto, ap)
	}
	body, err := graphToProto(f.Body)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", f.Name, err)
	}
	for _, v := range f.Body.Inputs {
		p.Input = append(p.Input, v.Name)
	}
	for _, v := range f.Body.Outputs {
		p.Output = append(p.Output, v.Name)
	}
	p.Node = body.Node
	p.ValueInfo = body.ValueInfo
	return p, nil
}

func sparseToProto(s *ir.SparseTensor) *pb.SparseTensorProto {
	p := &pb.SparseTensorProto{Dims: append([]int64(nil), s.Dims...)}
	if s.Values != nil {
		p.Values = TensorToProto(s.Values)
	}
	if s.Indices != nil {
		p.Indices = TensorToProto(s.Indices)
	}
	return p
}

func typeToProto(t *ir.Type) *pb.TypeProto {
	if t == nil {
		return nil
	}
	p := &pb.TypeProto{}
	if t.Denotation != "" {
		p.Denotation = proto.String(t.Denotation)
	}
	shape := func() *pb.TensorShapeProto {
		if !t.HasShape {
			return nil
		}
		s := &pb.TensorShapeProto{Dim: make([]*pb.TensorShapeProto_Dimension, len(t.Dims))}
		for i, d := range t.Dims {
			dim := &pb.TensorShapeProto_Dimension{}
			switch {
			case d.Param != "":
				dim.Value = &pb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
			case d.Value >= 0:
				dim.Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: d.Value}
			}
			if d.Denotation != "" {
				dim.Denotation = proto.String(d.Denotation)
			}
			s.Dim[i] = dim
		}
		return s
	}
	switch t.Kind {
	case ir.TensorKind:
		p.Value = &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(t.Elem)), Shape: shape()}}
	case ir.SparseTensorKind:
		p.Value = &pb.TypeProto_SparseTensorType{SparseTensorType: &pb.TypeProto_SparseTensor{ElemType: proto.Int32(int32(t.Elem)), Shape: shape()}}
	case ir.SequenceKind:
		p.Value = &pb.TypeProto_SequenceType{SequenceType: &pb.TypeProto_Sequence{ElemType: typeToProto(t.Inner)}}
	case ir.OptionalKind:
		p.Value = &pb.TypeProto_OptionalType{OptionalType: &pb.TypeProto_Optional{ElemType: typeToProto(t.Inner)}}
	case ir.MapKind:
		p.Value = &pb.TypeProto_MapType{MapType: &pb.TypeProto_Map{KeyType: proto.Int32(int32(t.Elem)), ValueType: typeToProto(t.Inner)}}
	case ir.OpaqueKind:
		op := &pb.TypeProto_Opaque{}
		if t.OpaqueDomain != "" {
			op.Domain = proto.String(t.OpaqueDomain)
		}
		if t.OpaqueName != "" {
			op.Name = proto.String(t.OpaqueName)
		}
		p.Value = &pb.TypeProto_OpaqueType{OpaqueType: op}
	}
	return p
}

func pairsToProto(ps []ir.StringPair) []*pb.StringStringEntryProto {
	if len(ps) == 0 {
		return nil
	}
	out := make([]*pb.StringStringEntryProto, len(ps))
	for i, p := range ps {
		out[i] = &pb.StringStringEntryProto{Key: proto.String(p.Key), Value: proto.String(p.Value)}
	}
	return out
}

func opsetsToProto(os []ir.OpsetID) []*pb.OperatorSetIdProto {
	out := make([]*pb.OperatorSetIdProto, len(os))
	for i, o := range os {
		out[i] = &pb.OperatorSetIdProto{Domain: proto.String(o.Domain), Version: proto.Int64(o.Version)}
	}
	return out
}
