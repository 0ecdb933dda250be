package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/ir"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
)

// ToIR converts a decoded model to whittle's IR. It fails, naming the graph, node and value,
// when names do not resolve: a node input that no graph input, initializer or node output
// of this graph or an enclosing one defines, a value defined twice, an undefined graph output.
// External data that has not been loaded stays as a reference in Tensor.External.
func ToIR(m *pb.ModelProto) (*ir.Model, error) {
	if err := CheckLimits(m, DefaultLimits); err != nil {
		return nil, err
	}
	out := &ir.Model{
		IRVersion:       m.GetIrVersion(),
		ProducerName:    m.GetProducerName(),
		ProducerVersion: m.GetProducerVersion(),
		Domain:          m.GetDomain(),
		ModelVersion:    m.GetModelVersion(),
		DocString:       m.GetDocString(),
		Metadata:        pairsFromProto(m.GetMetadataProps()),
		OpsetImports:    opsetsFromProto(m.GetOpsetImport()),
	}
	c := &toIR{}
	g := ir.NewGraph(m.GetGraph().GetName())
	if err := c.graph(m.GetGraph(), g); err != nil {
		return nil, err
	}
	out.Graph = g
	for _, f := range m.GetFunctions() {
		fn, err := c.function(f, g)
		if err != nil {
			return nil, err
		}
		out.Functions = append(out.Functions, fn)
	}
	for i, ti := range m.GetTrainingInfo() {
		t := &ir.TrainingInfo{
			InitializationBinding: pairsFromProto(ti.GetInitializationBinding()),
			UpdateBinding:         pairsFromProto(ti.GetUpdateBinding()),
		}
		for _, part := range []struct {
			p   *pb.GraphProto
			dst **ir.Graph
		}{{ti.Initialization, &t.Initialization}, {ti.Algorithm, &t.Algorithm}} {
			if part.p == nil {
				continue
			}
			sub := g.NewSubgraph(part.p.GetName())
			if err := c.graph(part.p, sub); err != nil {
				return nil, fmt.Errorf("training_info[%d]: %w", i, err)
			}
			*part.dst = sub
		}
		out.TrainingInfo = append(out.TrainingInfo, t)
	}
	return out, nil
}

type toIR struct{}

// scope maps names to values for one graph; lookups fall back to the enclosing graph's.
// The scopes of one graph tree share a stack of definitions per name, innermost last, so
// a lookup costs one map access however deep subgraphs nest; a graph's scope is closed
// (its names popped) when its conversion ends, before a sibling graph opens.
type scope struct {
	names  map[string]*ir.Value
	parent *scope
	open   map[string][]*ir.Value
}

func newScope(parent *scope) *scope {
	s := &scope{names: map[string]*ir.Value{}, parent: parent}
	if parent != nil {
		s.open = parent.open
	} else {
		s.open = map[string][]*ir.Value{}
	}
	return s
}

func (s *scope) define(v *ir.Value) {
	s.names[v.Name] = v
	s.open[v.Name] = append(s.open[v.Name], v)
}

func (s *scope) lookup(name string) *ir.Value {
	if vs := s.open[name]; len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return nil
}

func (s *scope) close() {
	for name := range s.names {
		if vs := s.open[name]; len(vs) <= 1 {
			delete(s.open, name)
		} else {
			s.open[name] = vs[:len(vs)-1]
		}
	}
}

func graphLabel(g *pb.GraphProto) string {
	if g.GetName() != "" {
		return fmt.Sprintf("graph %q", g.GetName())
	}
	return "graph"
}

func nodeLabel(n *pb.NodeProto, i int) string {
	op := n.GetOpType()
	if n.GetDomain() != "" {
		op = n.GetDomain() + "::" + op
	}
	if n.GetName() != "" {
		return fmt.Sprintf("node %q (%s)", n.GetName(), op)
	}
	return fmt.Sprintf("node #%d (%s)", i, op)
}

func (c *toIR) graph(p *pb.GraphProto, g *ir.Graph) error {
	return c.graphIn(p, g, nil)
}

func (c *toIR) graphIn(p *pb.GraphProto, g *ir.Graph, parent *scope) error {
	label := graphLabel(p)
	s := newScope(parent)
	defer s.close()
	define := func(v *ir.Value, what string) error {
		if _, dup := s.names[v.Name]; dup {
			return fmt.Errorf("%s: %s %q is defined twice", label, what, v.Name)
		}
		s.define(v)
		return nil
	}
	g.Name = p.GetName()
	g.DocString = p.GetDocString()
	g.Metadata = pairsFromProto(p.GetMetadataProps())
	for _, qa := range p.GetQuantizationAnnotation() {
		g.QuantizationAnnotations = append(g.QuantizationAnnotations, ir.QuantAnnotation{
			TensorName: qa.GetTensorName(), Params: pairsFromProto(qa.GetQuantParameterTensorNames()),
		})
	}
	for _, vi := range p.GetInput() {
		t, err := typeFromProto(vi.GetType())
		if err != nil {
			return fmt.Errorf("%s: input %q: %w", label, vi.GetName(), err)
		}
		v := g.AddInput(vi.GetName(), t)
		v.DocString = vi.GetDocString()
		v.Metadata = pairsFromProto(vi.GetMetadataProps())
		if err := define(v, "input"); err != nil {
			return err
		}
	}
	for _, tp := range p.GetInitializer() {
		t, err := TensorFromProto(tp)
		if err != nil {
			return fmt.Errorf("%s: initializer: %w", label, err)
		}
		if in, ok := s.names[tp.GetName()]; ok && in.Const == nil && in.IsGraphInput() {
			// An initializer that is also a graph input (required before IR 4; a default value
			// that callers may override after).
			in.Const = t
			addInitializerValue(g, in)
			continue
		}
		v := g.AddInitializer(t)
		if err := define(v, "initializer"); err != nil {
			return err
		}
	}
	for _, sp := range p.GetSparseInitializer() {
		st, err := sparseFromProto(sp)
		if err != nil {
			return fmt.Errorf("%s: sparse initializer: %w", label, err)
		}
		if in, ok := s.names[st.Values.Name]; ok && !in.IsConst() && in.IsGraphInput() {
			in.SparseConst = st
			addInitializerValue(g, in)
			continue
		}
		v := g.AddSparseInitializer(st)
		if err := define(v, "sparse initializer"); err != nil {
			return err
		}
	}
	// Create every node and its outputs first, so that the names of a graph whose nodes are
	// not in topological order still resolve (Verify reports the order).
	nodes := make([]*ir.Node, len(p.GetNode()))
	for i, np := range p.GetNode() {
		names := np.GetOutput()
		n := g.NewNode(np.GetDomain(), np.GetOpType(), nil, names)
		n.Name = np.GetName()
		n.Overload = np.GetOverload()
		n.DocString = np.GetDocString()
		n.Metadata = pairsFromProto(np.GetMetadataProps())
		for _, out := range n.Outputs() {
			if out == nil {
				continue
			}
			if err := define(out, "value"); err != nil {
				return fmt.Errorf("%w (output of %s)", err, nodeLabel(np, i))
			}
		}
		nodes[i] = n
		g.Append(n)
	}
	for i, np := range p.GetNode() {
		n := nodes[i]
		for k, name := range np.GetInput() {
			if name == "" {
				n.AppendInput(nil)
				continue
			}
			v := s.lookup(name)
			if v == nil {
				return fmt.Errorf("%s: %s: input %d %q is not defined", label, nodeLabel(np, i), k, name)
			}
			n.AppendInput(v)
		}
		for _, ap := range np.GetAttribute() {
			a, err := c.attr(ap, n, s)
			if err != nil {
				return fmt.Errorf("%s: %s: attribute %q: %w", label, nodeLabel(np, i), ap.GetName(), err)
			}
			n.Attrs = append(n.Attrs, a)
		}
	}
	for _, vi := range p.GetOutput() {
		v := s.lookup(vi.GetName())
		if v == nil {
			return fmt.Errorf("%s: output %q is not defined", label, vi.GetName())
		}
		t, err := typeFromProto(vi.GetType())
		if err != nil {
			return fmt.Errorf("%s: output %q: %w", label, vi.GetName(), err)
		}
		if t != nil {
			v.Type = t
		}
		if vi.GetDocString() != "" {
			v.DocString = vi.GetDocString()
		}
		if len(vi.GetMetadataProps()) > 0 {
			v.Metadata = pairsFromProto(vi.GetMetadataProps())
		}
		g.Outputs = append(g.Outputs, v)
	}
	for _, vi := range p.GetValueInfo() {
		v := s.names[vi.GetName()]
		if v == nil {
			// value_info for a name this graph does not define carries nothing the IR can hold.
			continue
		}
		t, err := typeFromProto(vi.GetType())
		if err != nil {
			return fmt.Errorf("%s: value_info %q: %w", label, vi.GetName(), err)
		}
		v.Type = t
		if vi.GetDocString() != "" {
			v.DocString = vi.GetDocString()
		}
		if len(vi.GetMetadataProps()) > 0 {
			v.Metadata = pairsFromProto(vi.GetMetadataProps())
		}
		g.ValueInfoOrder = append(g.ValueInfoOrder, v)
	}
	return nil
}

// addInitializerValue lists an input that carries a default value among the initializers.
func addInitializerValue(g *ir.Graph, v *ir.Value) {
	g.Initializers = append(g.Initializers, v)
}

func (c *toIR) function(f *pb.FunctionProto, main *ir.Graph) (*ir.Function, error) {
	label := fmt.Sprintf("function %s::%s", f.GetDomain(), f.GetName())
	body := main.NewSibling(f.GetName())
	gp := &pb.GraphProto{Name: proto.String(f.GetName()), Node: f.GetNode(), ValueInfo: f.GetValueInfo()}
	for _, in := range f.GetInput() {
		gp.Input = append(gp.Input, &pb.ValueInfoProto{Name: proto.String(in)})
	}
	for _, out := range f.GetOutput() {
		gp.Output = append(gp.Output, &pb.ValueInfoProto{Name: proto.String(out)})
	}
	if err := c.graphIn(gp, body, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	fn := &ir.Function{
		Name: f.GetName(), Domain: f.GetDomain(), Overload: f.GetOverload(), Body: body,
		AttrNames: append([]string(nil), f.GetAttribute()...), OpsetImports: opsetsFromProto(f.GetOpsetImport()),
		DocString: f.GetDocString(), Metadata: pairsFromProto(f.GetMetadataProps()),
	}
	for _, ap := range f.GetAttributeProto() {
		a, err := c.attr(ap, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: attribute %q: %w", label, ap.GetName(), err)
		}
		fn.AttrDefaults = append(fn.AttrDefaults, a)
	}
	return fn, nil
}

func (c *toIR) attr(p *pb.AttributeProto, owner *ir.Node, s *scope) (*ir.Attr, error) {
	a := &ir.Attr{
		Name: p.GetName(), Type: ir.AttrType(p.GetType()), RefAttrName: p.GetRefAttrName(), DocString: p.GetDocString(),
		Float: p.GetF(), Int: p.GetI(), String: string(p.GetS()),
		Floats: append([]float32(nil), p.GetFloats()...), Ints: append([]int64(nil), p.GetInts()...),
	}
	for _, b := range p.GetStrings() {
		a.Strings = append(a.Strings, string(b))
	}
	var err error
	if p.T != nil {
		if a.Tensor, err = TensorFromProto(p.T); err != nil {
			return nil, err
		}
	}
	for _, tp := range p.GetTensors() {
		t, err := TensorFromProto(tp)
		if err != nil {
			return nil, err
		}
		a.Tensors = append(a.Tensors, t)
	}
	if p.SparseTensor != nil {
		if a.SparseTensor, err = sparseFromProto(p.SparseTensor); err != nil {
			return nil, err
		}
	}
	for _, sp := range p.GetSparseTensors() {
		st, err := sparseFromProto(sp)
		if err != nil {
			return nil, err
		}
		a.SparseTensors = append(a.SparseTensors, st)
	}
	if p.Tp != nil {
		if a.TypeProto, err = typeFromProto(p.Tp); err != nil {
			return nil, err
		}
	}
	for _, tp := range p.GetTypeProtos() {
		t, err := typeFromProto(tp)
		if err != nil {
			return nil, err
		}
		a.TypeProtos = append(a.TypeProtos, t)
	}
	sub := func(gp *pb.GraphProto) (*ir.Graph, error) {
		if owner == nil {
			return nil, fmt.Errorf("graph attributes are not supported here")
		}
		g := owner.Graph().NewSubgraph(gp.GetName())
		owner.AttachSubgraph(g)
		if err := c.graphIn(gp, g, s); err != nil {
			return nil, err
		}
		return g, nil
	}
	if p.G != nil {
		if a.Graph, err = sub(p.G); err != nil {
			return nil, err
		}
	}
	for _, gp := range p.GetGraphs() {
		g, err := sub(gp)
		if err != nil {
			return nil, err
		}
		a.Graphs = append(a.Graphs, g)
	}
	return a, nil
}

func pairsFromProto(ps []*pb.StringStringEntryProto) []ir.StringPair {
	if len(ps) == 0 {
		return nil
	}
	out := make([]ir.StringPair, len(ps))
	for i, p := range ps {
		out[i] = ir.StringPair{Key: p.GetKey(), Value: p.GetValue()}
	}
	return out
}

func opsetsFromProto(ps []*pb.OperatorSetIdProto) []ir.OpsetID {
	out := make([]ir.OpsetID, len(ps))
	for i, p := range ps {
		out[i] = ir.OpsetID{Domain: p.GetDomain(), Version: p.GetVersion()}
	}
	return out
}

func typeFromProto(t *pb.TypeProto) (*ir.Type, error) {
	if t == nil {
		return nil, nil
	}
	out := &ir.Type{Denotation: t.GetDenotation()}
	shape := func(s *pb.TensorShapeProto) {
		if s == nil {
			return
		}
		out.HasShape = true
		out.Dims = make([]ir.Dim, len(s.GetDim()))
		for i, d := range s.GetDim() {
			dim := ir.Dim{Value: -1, Denotation: d.GetDenotation()}
			switch v := d.Value.(type) {
			case *pb.TensorShapeProto_Dimension_DimValue:
				dim.Value = v.DimValue
			case *pb.TensorShapeProto_Dimension_DimParam:
				dim.Param = v.DimParam
			}
			out.Dims[i] = dim
		}
	}
	var err error
	switch v := t.Value.(type) {
	case *pb.TypeProto_TensorType:
		out.Kind = ir.TensorKind
		out.Elem = ir.DataType(v.TensorType.GetElemType())
		shape(v.TensorType.GetShape())
	case *pb.TypeProto_SparseTensorType:
		out.Kind = ir.SparseTensorKind
		out.Elem = ir.DataType(v.SparseTensorType.GetElemType())
		shape(v.SparseTensorType.GetShape())
	case *pb.TypeProto_SequenceType:
		out.Kind = ir.SequenceKind
		out.Inner, err = typeFromProto(v.SequenceType.GetElemType())
	case *pb.TypeProto_OptionalType:
		out.Kind = ir.OptionalKind
		out.Inner, err = typeFromProto(v.OptionalType.GetElemType())
	case *pb.TypeProto_MapType:
		out.Kind = ir.MapKind
		out.Elem = ir.DataType(v.MapType.GetKeyType())
		out.Inner, err = typeFromProto(v.MapType.GetValueType())
	case *pb.TypeProto_OpaqueType:
		out.Kind = ir.OpaqueKind
		out.OpaqueDomain = v.OpaqueType.GetDomain()
		out.OpaqueName = v.OpaqueType.GetName()
	default:
		out.Kind = ir.NoKind
	}
	return out, err
}

func sparseFromProto(p *pb.SparseTensorProto) (*ir.SparseTensor, error) {
	s := &ir.SparseTensor{Dims: append([]int64(nil), p.GetDims()...)}
	var err error
	if p.Values != nil {
		if s.Values, err = TensorFromProto(p.Values); err != nil {
			return nil, fmt.Errorf("sparse values: %w", err)
		}
	} else {
		s.Values = &ir.Tensor{}
	}
	if p.Indices != nil {
		if s.Indices, err = TensorFromProto(p.Indices); err != nil {
			return nil, fmt.Errorf("sparse indices: %w", err)
		}
	}
	return s, nil
}
