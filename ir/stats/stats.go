package stats

import (
	"sort"

	"github.com/whittle-ml/whittle/ir"
)

// Model is what Measure finds.
type Model struct {
	Nodes int `json:"nodes"`
	// Ops counts nodes by op type (domain-qualified outside the default domain), over the
	// main graph and every subgraph.
	Ops map[string]int `json:"ops"`
	// Params and Bytes count the elements and data bytes of initializers and Constant
	// nodes' tensors, in total and by type.
	Params       int64            `json:"params"`
	Bytes        int64            `json:"bytes"`
	ParamsByType map[string]int64 `json:"params_by_type"`
	BytesByType  map[string]int64 `json:"bytes_by_type"`
	// Zeros counts initializer elements equal to zero (float and integer types).
	Zeros        int64         `json:"zeros"`
	Initializers []Initializer `json:"initializers"`
	// ConstantNodes and ConstantParams count the Constant nodes among Initializers and the
	// elements they hold: exporters such as Paddle2ONNX keep weights there.
	ConstantNodes  int   `json:"constant_nodes"`
	ConstantParams int64 `json:"constant_params"`
	// MACs sums Layers' MACs; MACsComplete says whether every MAC-bearing layer's shapes
	// were known.
	MACs         int64   `json:"macs"`
	MACsComplete bool    `json:"macs_complete"`
	Layers       []Layer `json:"layers"`
}

// Initializer describes one constant: an initializer, or the tensor of a Constant node.
type Initializer struct {
	Name string `json:"name"`
	// Node names the Constant node holding the tensor; empty for an initializer.
	Node     string  `json:"constant_node,omitempty"`
	Type     string  `json:"type"`
	Params   int64   `json:"params"`
	Bytes    int64   `json:"bytes"`
	Sparsity float64 `json:"sparsity"`
}

// Layer is a node with multiply-accumulates: Conv, ConvTranspose, Gemm, MatMul and their
// quantized and integer forms.
type Layer struct {
	Node  string `json:"node"`
	Op    string `json:"op"`
	MACs  int64  `json:"macs"`
	Known bool   `json:"known"`
}

// Measure computes the statistics of m. It reads the types present on values (run shape
// inference first for MACs of layers whose shapes the file does not state).
func Measure(m *ir.Model) *Model {
	s := &Model{Ops: map[string]int{}, ParamsByType: map[string]int64{}, BytesByType: map[string]int64{}, MACsComplete: true}
	for _, g := range m.Graphs() {
		for _, v := range g.Initializers {
			s.addInitializer(v)
		}
		for _, n := range g.Nodes() {
			s.Nodes++
			if t := constantTensor(n); t != nil {
				before := s.Params
				s.addTensor(t, nodeOutputName(n), nodeName(n))
				s.ConstantNodes++
				s.ConstantParams += s.Params - before
			}
			op := ir.QualifiedOp(n.Domain, n.OpType)
			s.Ops[op]++
			if macs, known, ok := NodeMACs(n); ok {
				s.Layers = append(s.Layers, Layer{Node: nodeName(n), Op: op, MACs: macs, Known: known})
				s.MACs += macs
				if !known {
					s.MACsComplete = false
				}
			}
		}
	}
	return s
}

func nodeName(n *ir.Node) string {
	if n.Name != "" {
		return n.Name
	}
	if out := n.Output(0); out != nil {
		return out.Name
	}
	return n.OpType
}

// constantTensor returns the tensor a Constant node holds in its value or sparse_value
// attribute, or nil (the scalar and list forms hold no weights).
func constantTensor(n *ir.Node) *ir.Tensor {
	if n.OpType != "Constant" || !ir.IsDefaultDomain(n.Domain) {
		return nil
	}
	if a := n.Attr("value"); a != nil && a.Tensor != nil {
		return a.Tensor
	}
	if a := n.Attr("sparse_value"); a != nil && a.SparseTensor != nil {
		return a.SparseTensor.Values
	}
	return nil
}

func nodeOutputName(n *ir.Node) string {
	if out := n.Output(0); out != nil {
		return out.Name
	}
	return ""
}

func (s *Model) addInitializer(v *ir.Value) {
	t := v.Const
	if t == nil {
		if v.SparseConst != nil && v.SparseConst.Values != nil {
			t = v.SparseConst.Values
		} else {
			return
		}
	}
	s.addTensor(t, v.Name, "")
}

// addTensor counts one constant tensor named name, held by Constant node node (or "").
func (s *Model) addTensor(t *ir.Tensor, name, node string) {
	n, err := t.NumElements()
	if err != nil {
		return
	}
	bytes := int64(len(t.Raw))
	if t.External != nil && t.External.Length > 0 {
		bytes = t.External.Length
	}
	for _, str := range t.Strings {
		bytes += int64(len(str))
	}
	zeros := CountZeros(t)
	in := Initializer{Name: name, Node: node, Type: ir.TensorTypeString(t), Params: n, Bytes: bytes}
	if n > 0 {
		in.Sparsity = float64(zeros) / float64(n)
	}
	s.Initializers = append(s.Initializers, in)
	s.Params += n
	s.Bytes += bytes
	s.Zeros += zeros
	s.ParamsByType[t.DataType.String()] += n
	s.BytesByType[t.DataType.String()] += bytes
}

// CountZeros counts elements equal to zero (for float types, +0 and -0) in a tensor's raw
// data; strings and unloaded external data count none.
func CountZeros(t *ir.Tensor) int64 {
	bits := t.DataType.BitSize()
	if t.DataType == ir.String || bits < 8 || len(t.Raw) == 0 {
		return 0
	}
	width := bits / 8
	var zeros int64
	for i := 0; i+width <= len(t.Raw); i += width {
		zero := true
		for k := 0; k < width; k++ {
			b := t.Raw[i+k]
			// The sign bit (top bit of the last little-endian byte) of a float does not
			// make it non-zero.
			if k == width-1 && t.DataType.IsFloat() {
				b &= 0x7F
			}
			if b != 0 {
				zero = false
				break
			}
		}
		if zero {
			zeros++
		}
	}
	return zeros
}

// TopOps returns the op histogram sorted by count, then name.
func (s *Model) TopOps() []OpCount {
	out := make([]OpCount, 0, len(s.Ops))
	for op, n := range s.Ops {
		out = append(out, OpCount{op, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Op < out[j].Op
	})
	return out
}

// OpCount is one entry of the op histogram.
type OpCount struct {
	Op    string `json:"op"`
	Count int    `json:"count"`
}

// NodeMACs returns the multiply-accumulates of one node, per sample (symbolic dimensions
// count as 1): ok is false for ops that have none worth counting, known is false when
// shapes are missing.
func NodeMACs(n *ir.Node) (macs int64, known, ok bool) {
	dims := func(v *ir.Value) ([]int64, bool) {
		if v == nil {
			return nil, false
		}
		if v.Const != nil {
			return v.Const.Dims, true
		}
		if v.Type == nil || !v.Type.HasShape {
			return nil, false
		}
		// Symbolic dimensions (a dynamic batch, a sequence length) count as 1, so that
		// MACs are per sample; a dimension that is simply unknown leaves them unknown.
		out := make([]int64, len(v.Type.Dims))
		for i, d := range v.Type.Dims {
			switch {
			case d.IsKnown():
				out[i] = d.Value
			case d.Param != "":
				out[i] = 1
			default:
				return nil, false
			}
		}
		return out, true
	}
	prod := func(d []int64) int64 {
		p := int64(1)
		for _, x := range d {
			p *= x
		}
		return p
	}
	switch n.OpType {
	case "Conv", "ConvInteger", "QLinearConv":
		wIdx := 1
		if n.OpType == "QLinearConv" {
			wIdx = 3
		}
		w, okW := dims(n.Input(wIdx))
		y, okY := dims(n.Output(0))
		if !okW || !okY || len(w) < 2 {
			return 0, false, true
		}
		// Each output element sums C/group × kernel products.
		return prod(y) * prod(w[1:]), true, true
	case "ConvTranspose":
		x, okX := dims(n.Input(0))
		w, okW := dims(n.Input(1))
		if !okX || !okW || len(w) < 2 || len(x) < 2 {
			return 0, false, true
		}
		// Every input element is scattered through M/group × kernel weights.
		return prod(x) * prod(w[1:]), true, true
	case "Gemm", "MatMul", "MatMulInteger", "QLinearMatMul":
		aIdx, bIdx := 0, 1
		if n.OpType == "QLinearMatMul" {
			aIdx, bIdx = 0, 3
		}
		a, okA := dims(n.Input(aIdx))
		y, okY := dims(n.Output(0))
		if !okA || !okY || len(a) == 0 {
			return 0, false, true
		}
		k := a[len(a)-1]
		if n.OpType == "Gemm" && n.AttrInt("transA", 0) != 0 {
			k = a[0]
		}
		_ = bIdx
		return prod(y) * k, true, true
	}
	return 0, false, false
}
