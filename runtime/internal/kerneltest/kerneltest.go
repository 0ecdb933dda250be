package kerneltest

import (
	"fmt"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Run builds a node of op (default domain) at opset with attrs and nOut outputs, looks up
// its kernel for the first input's element type as the session does, and runs it once on
// inputs; nil inputs are omitted optional inputs. Errors from the factory and from Run are
// returned so that tests can check them.
func Run(op string, opset int64, attrs []*ir.Attr, nOut int, inputs ...*kernel.Tensor) ([]*kernel.Tensor, error) {
	g := ir.NewGraph("test")
	vals := make([]*ir.Value, len(inputs))
	for i, in := range inputs {
		if in != nil {
			vals[i] = g.AddInput(fmt.Sprintf("in%d", i), ir.TensorTypeOf(in.DType, in.Shape...))
		}
	}
	outs := make([]string, nOut)
	for i := range outs {
		outs[i] = fmt.Sprintf("out%d", i)
	}
	n := g.NewNode("", op, vals, outs, attrs...)
	dt := ir.Undefined
	if len(inputs) > 0 && inputs[0] != nil {
		dt = inputs[0].DType
	}
	def, err := kernel.Lookup("", op, opset, dt)
	if err != nil {
		return nil, err
	}
	k, err := def.New(&kernel.NodeInfo{Node: n, Opset: opset})
	if err != nil {
		return nil, err
	}
	return k.Run(&kernel.Context{}, inputs)
}

// RunOne is Run for an operator with one output.
func RunOne(op string, opset int64, attrs []*ir.Attr, inputs ...*kernel.Tensor) (*kernel.Tensor, error) {
	outs, err := Run(op, opset, attrs, 1, inputs...)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// MustRunOne is RunOne that fails t on an error.
func MustRunOne(t testing.TB, op string, opset int64, attrs []*ir.Attr, inputs ...*kernel.Tensor) *kernel.Tensor {
	t.Helper()
	out, err := RunOne(op, opset, attrs, inputs...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}
