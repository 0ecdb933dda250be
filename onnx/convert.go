package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/ir"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
)

// LoadModel reads an ONNX file, with its external data, into the IR.
func LoadModel(path string) (*ir.Model, error) {
	p, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ToIR(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// SaveModel writes a model to path atomically (see WriteFile for the options).
func SaveModel(path string, m *ir.Model, opts WriteOptions) error {
	p, err := FromIR(m)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFile(path, p, opts)
}

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

// TensorFromProto converts a TensorProto, whichever data field it uses, to an ir.Tensor
// holding packed little-endian bytes (or strings). It fails when the data does not match
// the element type.
func TensorFromProto(p *pb.TensorProto) (*ir.Tensor, error) {
	t := &ir.Tensor{
		Name:      p.GetName(),
		DataType:  ir.DataType(p.GetDataType()),
		Dims:      append([]int64(nil), p.GetDims()...),
		DocString: p.GetDocString(),
		Metadata:  pairsFromProto(p.GetMetadataProps()),
	}
	if p.Segment != nil {
		t.Segment = &ir.Segment{Begin: p.Segment.GetBegin(), End: p.Segment.GetEnd()}
	}
	fail := func(field string) (*ir.Tensor, error) {
		return nil, fmt.Errorf("tensor %q: %s cannot hold %s data", t.Name, field, t.DataType)
	}
	le := binary.LittleEndian
	switch {
	case p.GetDataLocation() == pb.TensorProto_EXTERNAL:
		ext := &ir.ExternalData{Length: -1}
		for _, kv := range p.GetExternalData() {
			switch kv.GetKey() {
			case "location":
				ext.Location = kv.GetValue()
			case "offset":
				n, err := strconv.ParseInt(kv.GetValue(), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("tensor %q: external data offset %q: %w", t.Name, kv.GetValue(), err)
				}
				ext.Offset = n
			case "length":
				n, err := strconv.ParseInt(kv.GetValue(), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("tensor %q: external data length %q: %w", t.Name, kv.GetValue(), err)
				}
				ext.Length = n
			case "checksum":
				ext.Checksum = kv.GetValue()
			default:
				ext.Extra = append(ext.Extra, ir.StringPair{Key: kv.GetKey(), Value: kv.GetValue()})
			}
		}
		t.External = ext
	case t.DataType == ir.String:
		if p.RawData != nil || len(p.GetFloatData())+len(p.GetInt32Data())+len(p.GetInt64Data())+len(p.GetDoubleData())+len(p.GetUint64Data()) > 0 {
			return fail("a numeric field")
		}
		t.Strings = make([][]byte, len(p.GetStringData()))
		copy(t.Strings, p.GetStringData())
	case p.RawData != nil:
		t.Raw = p.RawData
	case len(p.GetFloatData()) > 0:
		if t.DataType != ir.Float && t.DataType != ir.Complex64 {
			return fail("float_data")
		}
		d := p.GetFloatData()
		t.Raw = make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(t.Raw[4*i:], math.Float32bits(v))
		}
	case len(p.GetDoubleData()) > 0:
		if t.DataType != ir.Double && t.DataType != ir.Complex128 {
			return fail("double_data")
		}
		d := p.GetDoubleData()
		t.Raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(t.Raw[8*i:], math.Float64bits(v))
		}
	case len(p.GetInt64Data()) > 0:
		if t.DataType != ir.Int64 {
			return fail("int64_data")
		}
		d := p.GetInt64Data()
		t.Raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(t.Raw[8*i:], uint64(v))
		}
	case len(p.GetUint64Data()) > 0:
		d := p.GetUint64Data()
		switch t.DataType {
		case ir.Uint64:
			t.Raw = make([]byte, 8*len(d))
			for i, v := range d {
				le.PutUint64(t.Raw[8*i:], v)
			}
		case ir.Uint32:
			t.Raw = make([]byte, 4*len(d))
			for i, v := range d {
				le.PutUint32(t.Raw[4*i:], uint32(v))
			}
		default:
			return fail("uint64_data")
		}
	case len(p.GetInt32Data()) > 0:
		d := p.GetInt32Data()
		switch t.DataType {
		case ir.Int32:
			t.Raw = make([]byte, 4*len(d))
			for i, v := range d {
				le.PutUint32(t.Raw[4*i:], uint32(v))
			}
		case ir.Int16, ir.Uint16, ir.Float16, ir.BFloat16:
			t.Raw = make([]byte, 2*len(d))
			for i, v := range d {
				le.PutUint16(t.Raw[2*i:], uint16(v))
			}
		case ir.Int8, ir.Uint8, ir.Bool, ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Float8E8M0,
			// Sub-byte types keep one packed byte per int32 entry.
			ir.Int4, ir.Uint4, ir.Float4E2M1, ir.Int2, ir.Uint2:
			t.Raw = make([]byte, len(d))
			for i, v := range d {
				t.Raw[i] = byte(v)
			}
		default:
			return fail("int32_data")
		}
	default:
		// No data field: an empty tensor (or one whose data is genuinely missing, which the
		// checker reports by size).
		t.Raw = []byte{}
	}
	return t, nil
}

// TensorToProto converts an ir.Tensor to a TensorProto; data goes in raw_data (string
// tensors in string_data). The proto shares the tensor's bytes.
func TensorToProto(t *ir.Tensor) *pb.TensorProto {
	p := &pb.TensorProto{
		Dims:          append([]int64(nil), t.Dims...),
		DataType:      proto.Int32(int32(t.DataType)),
		MetadataProps: pairsToProto(t.Metadata),
	}
	if t.Name != "" {
		p.Name = proto.String(t.Name)
	}
	if t.DocString != "" {
		p.DocString = proto.String(t.DocString)
	}
	if t.Segment != nil {
		p.Segment = &pb.TensorProto_Segment{Begin: proto.Int64(t.Segment.Begin), End: proto.Int64(t.Segment.End)}
	}
	switch {
	case t.External != nil:
		e := t.External
		p.DataLocation = pb.TensorProto_EXTERNAL.Enum()
		kv := []ir.StringPair{{Key: "location", Value: e.Location}}
		if e.Offset != 0 {
			kv = append(kv, ir.StringPair{Key: "offset", Value: strconv.FormatInt(e.Offset, 10)})
		}
		if e.Length >= 0 {
			kv = append(kv, ir.StringPair{Key: "length", Value: strconv.FormatInt(e.Length, 10)})
		}
		if e.Checksum != "" {
			kv = append(kv, ir.StringPair{Key: "checksum", Value: e.Checksum})
		}
		kv = append(kv, e.Extra...)
		p.ExternalData = pairsToProto(kv)
	case t.DataType == ir.String:
		p.StringData = make([][]byte, len(t.Strings))
		copy(p.StringData, t.Strings)
	default:
		if t.Raw == nil {
			p.RawData = []byte{}
		} else {
			p.RawData = t.Raw
		}
	}
	return p
}

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
