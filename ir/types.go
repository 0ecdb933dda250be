package ir

import (
	"fmt"
	"strings"
)

// DataType is an ONNX tensor element type; the numbers are those of TensorProto.DataType.
type DataType int32

// The ONNX element types.
const (
	Undefined      DataType = 0
	Float          DataType = 1
	Uint8          DataType = 2
	Int8           DataType = 3
	Uint16         DataType = 4
	Int16          DataType = 5
	Int32          DataType = 6
	Int64          DataType = 7
	String         DataType = 8
	Bool           DataType = 9
	Float16        DataType = 10
	Double         DataType = 11
	Uint32         DataType = 12
	Uint64         DataType = 13
	Complex64      DataType = 14
	Complex128     DataType = 15
	BFloat16       DataType = 16
	Float8E4M3FN   DataType = 17
	Float8E4M3FNUZ DataType = 18
	Float8E5M2     DataType = 19
	Float8E5M2FNUZ DataType = 20
	Uint4          DataType = 21
	Int4           DataType = 22
	Float4E2M1     DataType = 23
	Float8E8M0     DataType = 24
	Uint2          DataType = 25
	Int2           DataType = 26
)

var dataTypeInfo = map[DataType]struct {
	name string
	bits int
}{
	Undefined: {"undefined", 0}, Float: {"float", 32}, Uint8: {"uint8", 8}, Int8: {"int8", 8},
	Uint16: {"uint16", 16}, Int16: {"int16", 16}, Int32: {"int32", 32}, Int64: {"int64", 64},
	String: {"string", 0}, Bool: {"bool", 8}, Float16: {"float16", 16}, Double: {"double", 64},
	Uint32: {"uint32", 32}, Uint64: {"uint64", 64}, Complex64: {"complex64", 64},
	Complex128: {"complex128", 128}, BFloat16: {"bfloat16", 16},
	Float8E4M3FN: {"float8e4m3fn", 8}, Float8E4M3FNUZ: {"float8e4m3fnuz", 8},
	Float8E5M2: {"float8e5m2", 8}, Float8E5M2FNUZ: {"float8e5m2fnuz", 8},
	Uint4: {"uint4", 4}, Int4: {"int4", 4}, Float4E2M1: {"float4e2m1", 4},
	Float8E8M0: {"float8e8m0", 8}, Uint2: {"uint2", 2}, Int2: {"int2", 2},
}

// String returns the type's name as ONNX's text syntax spells it ("float", "int64", ...).
func (d DataType) String() string {
	if info, ok := dataTypeInfo[d]; ok {
		return info.name
	}
	return fmt.Sprintf("datatype(%d)", int32(d))
}

// Valid reports whether d is a defined element type other than Undefined.
func (d DataType) Valid() bool {
	_, ok := dataTypeInfo[d]
	return ok && d != Undefined
}

// BitSize is the storage size of one element in bits: 4 or 2 for the packed sub-byte types,
// 0 for String and Undefined, which have no fixed size.
func (d DataType) BitSize() int { return dataTypeInfo[d].bits }

// IsFloat reports whether d is a floating-point type (any width, including float8/float4).
func (d DataType) IsFloat() bool {
	switch d {
	case Float, Double, Float16, BFloat16, Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Float4E2M1, Float8E8M0:
		return true
	}
	return false
}

// ParseDataType is the inverse of DataType.String.
func ParseDataType(s string) (DataType, bool) {
	for d, info := range dataTypeInfo {
		if info.name == s {
			return d, true
		}
	}
	return Undefined, false
}

// ByteSize returns the number of bytes that n elements of d occupy when packed as ONNX's
// raw_data packs them (sub-byte types share bytes, rounded up). It fails for String and for
// sizes that overflow int64.
func (d DataType) ByteSize(n int64) (int64, error) {
	bits := int64(d.BitSize())
	if bits == 0 {
		return 0, fmt.Errorf("element type %s has no fixed size", d)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative element count %d", n)
	}
	if bits >= 8 {
		per := bits / 8
		if n > (1<<63-1)/per {
			return 0, fmt.Errorf("byte size of %d elements of %s overflows int64", n, d)
		}
		return n * per, nil
	}
	perByte := 8 / bits
	return (n + perByte - 1) / perByte, nil
}

// NumElements multiplies dims, failing on a negative dim or an int64 overflow.
func NumElements(dims []int64) (int64, error) {
	n := int64(1)
	for i, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
		if d != 0 && n > (1<<63-1)/d {
			return 0, fmt.Errorf("product of dimensions %v overflows int64", dims)
		}
		n *= d
	}
	return n, nil
}

// Dim is one dimension of a shape: a known size, a symbolic name, or unknown.
type Dim struct {
	// Value is the size when Param is empty and Value >= 0; -1 means unknown.
	Value int64
	// Param is the symbolic name ("batch", "N") of a dimension whose size is not fixed.
	Param string
	// Denotation is ONNX's optional semantic tag for the dimension (DATA_BATCH, ...).
	Denotation string
}

// Known returns a dimension of fixed size v.
func Known(v int64) Dim { return Dim{Value: v} }

// Symbolic returns a dimension named p.
func Symbolic(p string) Dim { return Dim{Value: -1, Param: p} }

// UnknownDim is a dimension about which nothing is known.
var UnknownDim = Dim{Value: -1}

// IsKnown reports whether the dimension has a fixed size.
func (d Dim) IsKnown() bool { return d.Param == "" && d.Value >= 0 }

func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Value >= 0:
		return fmt.Sprint(d.Value)
	}
	return "?"
}

// TypeKind says which kind of value a Type describes.
type TypeKind int

// The kinds of ONNX types.
const (
	TensorKind TypeKind = iota
	SequenceKind
	MapKind
	OptionalKind
	SparseTensorKind
	OpaqueKind
	// NoKind is a TypeProto with none of its value fields set (only a denotation, or nothing).
	NoKind
)

// Type is the type of a value: a tensor with an element type and maybe a shape, or a
// sequence, map, optional or sparse tensor built from other types.
type Type struct {
	Kind TypeKind
	// Elem is the element type of tensors and sparse tensors and the key type of maps.
	Elem DataType
	// Dims is the shape of tensors and sparse tensors; meaningful only when HasShape is set,
	// since a type may carry no shape at all (rank unknown), which is not the same as a
	// scalar's empty shape.
	Dims     []Dim
	HasShape bool
	// Inner is the element type of sequences and optionals and the value type of maps.
	Inner *Type
	// OpaqueDomain and OpaqueName name an opaque type.
	OpaqueDomain, OpaqueName string
	Denotation               string
}

// TensorType returns a tensor type with a known shape.
func TensorType(elem DataType, dims ...Dim) *Type {
	return &Type{Kind: TensorKind, Elem: elem, Dims: dims, HasShape: true}
}

// TensorTypeOf returns a tensor type with fixed dims.
func TensorTypeOf(elem DataType, dims ...int64) *Type {
	t := &Type{Kind: TensorKind, Elem: elem, Dims: make([]Dim, len(dims)), HasShape: true}
	for i, d := range dims {
		t.Dims[i] = Known(d)
	}
	return t
}

// Rank returns the number of dimensions, or -1 when the shape is unknown.
func (t *Type) Rank() int {
	if t == nil || !t.HasShape {
		return -1
	}
	return len(t.Dims)
}

// StaticDims returns the shape as sizes when every dimension is known.
func (t *Type) StaticDims() ([]int64, bool) {
	if t == nil || !t.HasShape {
		return nil, false
	}
	out := make([]int64, len(t.Dims))
	for i, d := range t.Dims {
		if !d.IsKnown() {
			return nil, false
		}
		out[i] = d.Value
	}
	return out, true
}

// Clone returns a deep copy of t.
func (t *Type) Clone() *Type {
	if t == nil {
		return nil
	}
	c := *t
	if t.Dims != nil {
		c.Dims = append([]Dim(nil), t.Dims...)
	}
	c.Inner = t.Inner.Clone()
	return &c
}

// Equal reports whether two types are identical, dimension names and denotations included.
func (t *Type) Equal(u *Type) bool {
	if t == nil || u == nil {
		return t == u
	}
	if t.Kind != u.Kind || t.Elem != u.Elem || t.HasShape != u.HasShape || len(t.Dims) != len(u.Dims) ||
		t.OpaqueDomain != u.OpaqueDomain || t.OpaqueName != u.OpaqueName || t.Denotation != u.Denotation {
		return false
	}
	for i := range t.Dims {
		if t.Dims[i] != u.Dims[i] {
			return false
		}
	}
	return t.Inner.Equal(u.Inner)
}

// String renders the type in ONNX's text syntax: float[N,3,224,224], seq(float[?]), ...
func (t *Type) String() string {
	if t == nil {
		return "?"
	}
	var b strings.Builder
	writeType(&b, t)
	return b.String()
}

func writeType(b *strings.Builder, t *Type) {
	shape := func() {
		if !t.HasShape {
			return
		}
		b.WriteByte('[')
		for i, d := range t.Dims {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(d.String())
		}
		b.WriteByte(']')
	}
	switch t.Kind {
	case TensorKind:
		b.WriteString(t.Elem.String())
		shape()
	case SparseTensorKind:
		b.WriteString("sparse_tensor(")
		b.WriteString(t.Elem.String())
		shape()
		b.WriteByte(')')
	case SequenceKind:
		b.WriteString("seq(")
		writeType(b, orUnknown(t.Inner))
		b.WriteByte(')')
	case OptionalKind:
		b.WriteString("optional(")
		writeType(b, orUnknown(t.Inner))
		b.WriteByte(')')
	case MapKind:
		fmt.Fprintf(b, "map(%s,", t.Elem)
		writeType(b, orUnknown(t.Inner))
		b.WriteByte(')')
	case OpaqueKind:
		fmt.Fprintf(b, "opaque(%s,%s)", t.OpaqueDomain, t.OpaqueName)
	default:
		b.WriteString("none")
	}
}

func orUnknown(t *Type) *Type {
	if t == nil {
		return &Type{Kind: NoKind}
	}
	return t
}

// StringPair is a key/value entry, as in metadata_props.
type StringPair struct{ Key, Value string }

// OpsetID names an operator set a model or function imports.
type OpsetID struct {
	Domain  string
	Version int64
}
