package graphgen

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// Reference computes the outputs of a graph built by Elementwise with plain loops written
// from the ONNX specification: float32 arithmetic for Add, Sub, Mul, Max, Min, Neg, Abs and
// Relu (so those agree bit for bit with any correct kernel), float64 for Sigmoid and Tanh
// rounded to float32, and index arithmetic for the shape operators. It shares no code with
// whittle's runtime.
func Reference(m *ir.Model, inputs map[string]*Tensor) ([]*Tensor, error) {
	env := map[*ir.Value]*Tensor{}
	for _, v := range m.Graph.Inputs {
		t, ok := inputs[v.Name]
		if !ok {
			return nil, fmt.Errorf("no input %q", v.Name)
		}
		env[v] = t
	}
	for _, v := range m.Graph.Initializers {
		vals, err := v.Const.Int64s()
		if err != nil {
			return nil, err
		}
		f := make([]float32, len(vals))
		for i, x := range vals {
			f[i] = float32(x)
		}
		env[v] = &Tensor{Shape: v.Const.Dims, Data: f}
	}
	ints := func(v *ir.Value) []int64 {
		t := env[v]
		out := make([]int64, len(t.Data))
		for i, x := range t.Data {
			out[i] = int64(x)
		}
		return out
	}
	for _, n := range m.Graph.Nodes() {
		x := env[n.Input(0)]
		var out *Tensor
		switch n.OpType {
		case "Relu", "Neg", "Abs", "Sigmoid", "Tanh", "Identity":
			out = &Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
			for i, a := range x.Data {
				out.Data[i] = unary(n.OpType, a)
			}
		case "Add", "Sub", "Mul", "Max", "Min":
			out = binaryRef(n.OpType, x, env[n.Input(1)])
		case "Transpose":
			out = transposeRef(x, n.AttrInts("perm", nil))
		case "Reshape":
			req := ints(n.Input(1))
			shape := make([]int64, len(req))
			known, infer := int64(1), -1
			for i, d := range req {
				switch d {
				case -1:
					infer = i
					continue
				case 0:
					d = x.Shape[i]
				}
				shape[i] = d
				known *= d
			}
			if infer >= 0 {
				shape[infer] = numel(x.Shape) / known
			}
			out = &Tensor{Shape: shape, Data: x.Data}
		case "Unsqueeze":
			axis := ints(n.Input(1))[0]
			r := int64(len(x.Shape)) + 1
			if axis < 0 {
				axis += r
			}
			shape := append(append(append([]int64(nil), x.Shape[:axis]...), 1), x.Shape[axis:]...)
			out = &Tensor{Shape: shape, Data: x.Data}
		case "Squeeze":
			axis := ints(n.Input(1))[0]
			shape := append(append([]int64(nil), x.Shape[:axis]...), x.Shape[axis+1:]...)
			out = &Tensor{Shape: shape, Data: x.Data}
		case "Flatten":
			axis := n.AttrInt("axis", 1)
			out = &Tensor{Shape: []int64{numel(x.Shape[:axis]), numel(x.Shape[axis:])}, Data: x.Data}
		case "Concat":
			out = concatRef(x, env[n.Input(1)], int(n.AttrInt("axis", 0)))
		case "Slice":
			out = sliceRef(x, ints(n.Input(1))[0], ints(n.Input(2))[0], int(ints(n.Input(3))[0]), ints(n.Input(4))[0])
		default:
			return nil, fmt.Errorf("reference: no loop for %s", n.OpType)
		}
		env[n.Output(0)] = out
	}
	outs := make([]*Tensor, len(m.Graph.Outputs))
	for i, v := range m.Graph.Outputs {
		outs[i] = env[v]
	}
	return outs, nil
}

func unary(op string, a float32) float32 {
	switch op {
	case "Relu":
		if a < 0 {
			return 0
		}
		return a
	case "Neg":
		return -a
	case "Abs":
		return float32(math.Abs(float64(a)))
	case "Sigmoid":
		return float32(1 / (1 + math.Exp(-float64(a))))
	case "Tanh":
		return float32(math.Tanh(float64(a)))
	}
	return a
}

func binaryRef(op string, a, b *Tensor) *Tensor {
	shape, _ := broadcast(a.Shape, b.Shape)
	out := &Tensor{Shape: shape, Data: make([]float32, numel(shape))}
	idx := make([]int64, len(shape))
	for i := range out.Data {
		unravel(int64(i), shape, idx)
		x, y := a.Data[broadcastIndex(idx, a.Shape)], b.Data[broadcastIndex(idx, b.Shape)]
		var z float32
		switch op {
		case "Add":
			z = x + y
		case "Sub":
			z = x - y
		case "Mul":
			z = x * y
		case "Max", "Min":
			// NaN propagates; otherwise the larger (smaller) one.
			switch {
			case x != x:
				z = x
			case y != y:
				z = y
			case (op == "Max") == (x >= y):
				z = x
			default:
				z = y
			}
		}
		out.Data[i] = z
	}
	return out
}

// broadcastIndex maps an index of the broadcast shape to the flat offset in shape.
func broadcastIndex(idx, shape []int64) int64 {
	off, skip := int64(0), len(idx)-len(shape)
	for k, d := range shape {
		i := idx[skip+k]
		if d == 1 {
			i = 0
		}
		off = off*d + i
	}
	return off
}

func unravel(i int64, shape, idx []int64) {
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = i % shape[k]
		i /= shape[k]
	}
}

func ravel(idx, shape []int64) int64 {
	off := int64(0)
	for k, d := range shape {
		off = off*d + idx[k]
	}
	return off
}

func transposeRef(x *Tensor, perm []int64) *Tensor {
	shape := make([]int64, len(perm))
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	out := &Tensor{Shape: shape, Data: make([]float32, len(x.Data))}
	idx, src := make([]int64, len(shape)), make([]int64, len(shape))
	for i := range out.Data {
		unravel(int64(i), shape, idx)
		for k, p := range perm {
			src[p] = idx[k]
		}
		out.Data[i] = x.Data[ravel(src, x.Shape)]
	}
	return out
}

func concatRef(a, b *Tensor, axis int) *Tensor {
	shape := append([]int64(nil), a.Shape...)
	shape[axis] += b.Shape[axis]
	out := &Tensor{Shape: shape, Data: make([]float32, numel(shape))}
	idx := make([]int64, len(shape))
	for i := range out.Data {
		unravel(int64(i), shape, idx)
		if idx[axis] < a.Shape[axis] {
			out.Data[i] = a.Data[ravel(idx, a.Shape)]
		} else {
			idx[axis] -= a.Shape[axis]
			out.Data[i] = b.Data[ravel(idx, b.Shape)]
		}
	}
	return out
}

func sliceRef(x *Tensor, start, end int64, axis int, step int64) *Tensor {
	d := x.Shape[axis]
	n := sliceLen(start, end, step, d)
	if start < 0 {
		start += d
	}
	if step > 0 {
		start = max(0, min(d, start))
	} else {
		start = max(0, min(d-1, start))
	}
	shape := append([]int64(nil), x.Shape...)
	shape[axis] = n
	out := &Tensor{Shape: shape, Data: make([]float32, numel(shape))}
	idx := make([]int64, len(shape))
	for i := range out.Data {
		unravel(int64(i), shape, idx)
		idx[axis] = start + idx[axis]*step
		out.Data[i] = x.Data[ravel(idx, x.Shape)]
	}
	return out
}

// Compare checks got against want: shapes equal, values within rtol*|want| + atol, and
// NaN or infinite values equal exactly. It returns a description of the first mismatch.
func Compare(got, want *Tensor, rtol, atol float64) error {
	if len(got.Shape) != len(want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	for i := range got.Shape {
		if got.Shape[i] != want.Shape[i] {
			return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
		}
	}
	if len(got.Data) != len(want.Data) {
		return fmt.Errorf("%d values, want %d", len(got.Data), len(want.Data))
	}
	for i := range got.Data {
		g, w := float64(got.Data[i]), float64(want.Data[i])
		if math.IsNaN(w) || math.IsInf(w, 0) {
			if !(math.IsNaN(w) && math.IsNaN(g)) && g != w {
				return fmt.Errorf("element %d: got %g, want %g", i, g, w)
			}
			continue
		}
		if math.Abs(g-w) > rtol*math.Abs(w)+atol || math.IsNaN(g) {
			return fmt.Errorf("element %d: got %g, want %g", i, g, w)
		}
	}
	return nil
}
