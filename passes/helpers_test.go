package passes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/irtest"

	"github.com/whittle-ml/whittle/ir"
)

// builder makes tiny models for table tests (the shared internal/irtest builder).
type builder = irtest.Builder

func newBuilder(t *testing.T, opset int64) *builder { return irtest.New(t, opset) }

// runPasses runs a pipeline with verification after each pass and a fake evaluator.
func runPasses(t *testing.T, m *ir.Model, pipeline string) *Report {
	t.Helper()
	p, err := ParsePipeline(pipeline)
	if err != nil {
		t.Fatal(err)
	}
	ctx := &Context{VerifyEach: true, Eval: fakeEval{}}
	rep, err := Run(ctx, m, p)
	if err != nil {
		t.Fatalf("%s: %v\n%s", pipeline, err, ir.Format(m))
	}
	return rep
}

// ops lists the main graph's op types in order, for compact expectations.
func ops(m *ir.Model) string { return irtest.Ops(m) }

func initNames(m *ir.Model) string {
	var out []string
	for _, v := range m.Graph.Initializers {
		out = append(out, v.Name)
	}
	return strings.Join(out, ",")
}

func outNames(m *ir.Model) string {
	var out []string
	for _, v := range m.Graph.Outputs {
		out = append(out, v.Name)
	}
	return strings.Join(out, ",")
}

// fakeEval evaluates the few float ops the fold tests use, elementwise on equal shapes, so
// that the pass is tested without the runtime (differential tests use the real one).
type fakeEval struct{}

func (fakeEval) EvalNode(m *ir.Model, n *ir.Node, inputs []*ir.Tensor) ([]*ir.Tensor, error) {
	switch n.OpType {
	case "Add", "Mul":
		a, err := inputs[0].Float32s()
		if err != nil {
			return nil, err
		}
		c, err := inputs[1].Float32s()
		if err != nil {
			return nil, err
		}
		if len(a) != len(c) {
			return nil, fmt.Errorf("fakeEval: shapes differ")
		}
		out := make([]float32, len(a))
		for i := range a {
			if n.OpType == "Add" {
				out[i] = a[i] + c[i]
			} else {
				out[i] = a[i] * c[i]
			}
		}
		return []*ir.Tensor{ir.FromFloat32("", inputs[0].Dims, out)}, nil
	case "Tile":
		a, _ := inputs[0].Float32s()
		reps, _ := inputs[1].Int64s()
		var out []float32
		for r := int64(0); r < reps[0]; r++ {
			out = append(out, a...)
		}
		return []*ir.Tensor{ir.FromFloat32("", []int64{int64(len(out))}, out)}, nil
	}
	return nil, fmt.Errorf("fakeEval: no %s", n.OpType)
}

func floatsOf(t *testing.T, v *ir.Value) []float32 {
	t.Helper()
	c := constOf(v)
	if c == nil {
		t.Fatalf("%q is not constant", v.Name)
	}
	xs, err := c.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return xs
}
