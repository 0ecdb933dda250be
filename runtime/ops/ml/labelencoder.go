package ml

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Domain: mlDomain, Op: "LabelEncoder", SinceVersion: 2, New: newLabelEncoder})
}

// labelEncoder maps each input element through a key -> value table (LabelEncoder-2..4):
// keys and values come from the keys_*/values_* attributes (lists, or tensors from
// version 4), and elements without a key take the default value.
type labelEncoder struct {
	node   *ir.Node
	index  map[any]int    // key (see encKey) -> position in values
	values *kernel.Tensor // one element per key, of the output type
	def    *kernel.Tensor // the single default element
}

// encKey turns element i of a keys or input tensor into a map key: strings stay strings,
// integers become int64 and floats a canonical float key, so that an int16 input finds
// int64 keys and NaN finds NaN.
type floatMapKey uint64

func encKey(t *kernel.Tensor, i int) (any, error) {
	switch d := t.Data.(type) {
	case []string:
		return d[i], nil
	case []int64:
		return d[i], nil
	case []int32:
		return int64(d[i]), nil
	case []int16:
		return int64(d[i]), nil
	case []float32:
		return floatMapKey(floatKey(float64(d[i]))), nil
	case []float64:
		return floatMapKey(floatKey(d[i])), nil
	}
	return nil, fmt.Errorf("element type %s cannot be a LabelEncoder key", t.DType)
}

// listAttrTensor reads the first present attribute among the tensor form and the list forms
// of a keys_/values_ family as a runtime tensor.
func listAttrTensor(n *ir.Node, prefix string) (*kernel.Tensor, error) {
	if a := n.Attr(prefix + "tensor"); a != nil && a.Tensor != nil {
		t, err := kernel.FromIR(a.Tensor)
		if err != nil {
			return nil, fmt.Errorf("attribute %stensor: %w", prefix, err)
		}
		return t, nil
	}
	if a := n.Attr(prefix + "strings"); a != nil {
		return &kernel.Tensor{DType: ir.String, Shape: []int64{int64(len(a.Strings))}, Data: append([]string(nil), a.Strings...)}, nil
	}
	if a := n.Attr(prefix + "int64s"); a != nil {
		return kernel.FromInt64([]int64{int64(len(a.Ints))}, append([]int64(nil), a.Ints...)), nil
	}
	if a := n.Attr(prefix + "floats"); a != nil {
		return kernel.FromFloat32([]int64{int64(len(a.Floats))}, append([]float32(nil), a.Floats...)), nil
	}
	return nil, fmt.Errorf("none of the attributes %[1]stensor, %[1]sstrings, %[1]sint64s, %[1]sfloats is set", prefix)
}

// defaultValue returns the default element for output type dt: default_tensor when set,
// else default_string / default_int64 / default_float with the spec's defaults.
func defaultValue(n *ir.Node, dt ir.DataType) (*kernel.Tensor, error) {
	if a := n.Attr("default_tensor"); a != nil && a.Tensor != nil {
		t, err := kernel.FromIR(a.Tensor)
		if err != nil {
			return nil, fmt.Errorf("attribute default_tensor: %w", err)
		}
		if t.DType != dt || t.Len() != 1 {
			return nil, fmt.Errorf("default_tensor %s%v must hold one %s element", t.DType, t.Shape, dt)
		}
		return t, nil
	}
	t := kernel.New(dt, 1)
	switch d := t.Data.(type) {
	case []string:
		d[0] = n.AttrString("default_string", "_Unused")
	case []int64:
		d[0] = n.AttrInt("default_int64", -1)
	case []int32:
		d[0] = int32(n.AttrInt("default_int64", -1))
	case []int16:
		d[0] = int16(n.AttrInt("default_int64", -1))
	case []float32:
		d[0] = n.AttrFloat("default_float", negZero32())
	case []float64:
		d[0] = float64(n.AttrFloat("default_float", negZero32()))
	default:
		return nil, fmt.Errorf("output element type %s is not supported", dt)
	}
	return t, nil
}

func negZero32() float32 {
	z := float32(0)
	return -z
}

func newLabelEncoder(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	keys, err := listAttrTensor(n, "keys_")
	if err != nil {
		return nil, opErr(n, "%w", err)
	}
	values, err := listAttrTensor(n, "values_")
	if err != nil {
		return nil, opErr(n, "%w", err)
	}
	if keys.Len() != values.Len() {
		return nil, opErr(n, "%d keys but %d values", keys.Len(), values.Len())
	}
	def, err := defaultValue(n, values.DType)
	if err != nil {
		return nil, opErr(n, "%w", err)
	}
	// The index costs several times the keys tensor it is built from: a map entry is a
	// 16-byte key, an int and the map's own overhead.
	if err := kernel.Reserve(int64(keys.Len()) * 48); err != nil {
		return nil, err
	}
	k := &labelEncoder{node: n, index: make(map[any]int, keys.Len()), values: values, def: def}
	for i := 0; i < keys.Len(); i++ {
		key, err := encKey(keys, i)
		if err != nil {
			return nil, opErr(n, "keys: %w", err)
		}
		if _, dup := k.index[key]; !dup { // the first mapping of a repeated key wins
			k.index[key] = i
		}
	}
	return k, nil
}

func (k *labelEncoder) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil {
		return nil, opErr(k.node, "input X is required")
	}
	out := ctx.Alloc(k.values.DType, x.Shape...)
	for i := 0; i < x.Len(); i++ {
		key, err := encKey(x, i)
		if err != nil {
			return nil, opErr(k.node, "X: %w", err)
		}
		src, at := k.def, 0
		if j, ok := k.index[key]; ok {
			src, at = k.values, j
		}
		copyElem(out.Data, i, src.Data, at)
	}
	return []*kernel.Tensor{out}, nil
}

// copyElem sets dst[i] = src[j] for two slices of the same element type.
func copyElem(dst any, i int, src any, j int) {
	switch d := dst.(type) {
	case []string:
		d[i] = src.([]string)[j]
	case []int64:
		d[i] = src.([]int64)[j]
	case []int32:
		d[i] = src.([]int32)[j]
	case []int16:
		d[i] = src.([]int16)[j]
	case []float32:
		d[i] = src.([]float32)[j]
	case []float64:
		d[i] = src.([]float64)[j]
	}
}
