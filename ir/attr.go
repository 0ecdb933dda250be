package ir

import "fmt"

// AttrType says which field of an Attr holds its value; the numbers are those of
// AttributeProto.AttributeType.
type AttrType int32

// The attribute types.
const (
	AttrUndefined     AttrType = 0
	AttrFloat         AttrType = 1
	AttrInt           AttrType = 2
	AttrString        AttrType = 3
	AttrTensor        AttrType = 4
	AttrGraph         AttrType = 5
	AttrFloats        AttrType = 6
	AttrInts          AttrType = 7
	AttrStrings       AttrType = 8
	AttrTensors       AttrType = 9
	AttrGraphs        AttrType = 10
	AttrSparseTensor  AttrType = 11
	AttrSparseTensors AttrType = 12
	AttrTypeProto     AttrType = 13
	AttrTypeProtos    AttrType = 14
)

var attrTypeNames = map[AttrType]string{
	AttrUndefined: "undefined", AttrFloat: "float", AttrInt: "int", AttrString: "string",
	AttrTensor: "tensor", AttrGraph: "graph", AttrFloats: "floats", AttrInts: "ints",
	AttrStrings: "strings", AttrTensors: "tensors", AttrGraphs: "graphs",
	AttrSparseTensor: "sparse_tensor", AttrSparseTensors: "sparse_tensors",
	AttrTypeProto: "type_proto", AttrTypeProtos: "type_protos",
}

func (a AttrType) String() string {
	if s, ok := attrTypeNames[a]; ok {
		return s
	}
	return fmt.Sprintf("attrtype(%d)", int32(a))
}

// SparseTensor is a sparse constant in ONNX's coordinate form.
type SparseTensor struct {
	Values  *Tensor
	Indices *Tensor
	Dims    []int64
}

// Clone returns a copy sharing data bytes.
func (s *SparseTensor) Clone() *SparseTensor {
	if s == nil {
		return nil
	}
	return &SparseTensor{Values: s.Values.Clone(), Indices: s.Indices.Clone(), Dims: append([]int64(nil), s.Dims...)}
}

// Attr is a named attribute of a node; Type says which value field is in use.
type Attr struct {
	Name string
	Type AttrType
	// RefAttrName, inside a function body, names the calling node's attribute that
	// supplies this value.
	RefAttrName string
	DocString   string

	Float        float32
	Int          int64
	String       string // bytes, not necessarily UTF-8
	Tensor       *Tensor
	Graph        *Graph
	SparseTensor *SparseTensor
	TypeProto    *Type

	Floats        []float32
	Ints          []int64
	Strings       []string
	Tensors       []*Tensor
	Graphs        []*Graph
	SparseTensors []*SparseTensor
	TypeProtos    []*Type
}

// IntAttr, FloatAttr, ... build attributes.
func IntAttr(name string, v int64) *Attr { return &Attr{Name: name, Type: AttrInt, Int: v} }

// FloatAttr builds a float attribute.
func FloatAttr(name string, v float32) *Attr { return &Attr{Name: name, Type: AttrFloat, Float: v} }

// StringAttr builds a string attribute.
func StringAttr(name, v string) *Attr { return &Attr{Name: name, Type: AttrString, String: v} }

// IntsAttr builds an ints attribute.
func IntsAttr(name string, v ...int64) *Attr {
	return &Attr{Name: name, Type: AttrInts, Ints: append([]int64{}, v...)}
}

// FloatsAttr builds a floats attribute.
func FloatsAttr(name string, v ...float32) *Attr {
	return &Attr{Name: name, Type: AttrFloats, Floats: append([]float32{}, v...)}
}

// TensorAttr builds a tensor attribute.
func TensorAttr(name string, t *Tensor) *Attr { return &Attr{Name: name, Type: AttrTensor, Tensor: t} }

// GraphAttr builds a graph attribute.
func GraphAttr(name string, g *Graph) *Attr { return &Attr{Name: name, Type: AttrGraph, Graph: g} }

// Subgraphs returns the graphs held by the attribute (one for GRAPH, any for GRAPHS).
func (a *Attr) Subgraphs() []*Graph {
	switch a.Type {
	case AttrGraph:
		if a.Graph != nil {
			return []*Graph{a.Graph}
		}
	case AttrGraphs:
		return a.Graphs
	}
	return nil
}
