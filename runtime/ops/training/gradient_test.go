package training_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// gradModel builds: y = build(graph inputs a, b); [da, db] = Gradient<xs=[a, b], y>(a, b).
func gradModel(t *testing.T, shapeA, shapeB []int64, build func(g *ir.Graph, a, b *ir.Value) *ir.Value) *ir.Model {
	t.Helper()
	g := ir.NewGraph("main")
	a := g.AddInput("a", ir.TensorTypeOf(ir.Float, shapeA...))
	b := g.AddInput("b", ir.TensorTypeOf(ir.Float, shapeB...))
	y := build(g, a, b)
	grad := g.NewNode("ai.onnx.preview.training", "Gradient", []*ir.Value{a, b}, []string{"da", "db"},
		&ir.Attr{Name: "xs", Type: ir.AttrStrings, Strings: []string{"a", "b"}}, ir.StringAttr("y", y.Name))
	g.Append(grad)
	g.Outputs = []*ir.Value{y, grad.Output(0), grad.Output(1)}
	m := &ir.Model{Graph: g}
	m.SetOpset("", 13)
	m.SetOpset("ai.onnx.preview.training", 1)
	return m
}

func op(g *ir.Graph, name, typ string, ins ...*ir.Value) *ir.Value {
	n := g.NewNode("", typ, ins, []string{name})
	g.Append(n)
	return n.Output(0)
}

func TestGradient(t *testing.T) {
	tests := []struct {
		name           string
		shapeA, shapeB []int64
		a, b           []float32
		build          func(g *ir.Graph, a, b *ir.Value) *ir.Value
		da, db         []float32
	}{
		{"add", nil, nil, []float32{2}, []float32{5},
			func(g *ir.Graph, a, b *ir.Value) *ir.Value { return op(g, "c", "Add", a, b) },
			[]float32{1}, []float32{1}},
		// d = (a+b)·a: dd/da = 2a+b, dd/db = a.
		{"add and mul", nil, nil, []float32{2}, []float32{5},
			func(g *ir.Graph, a, b *ir.Value) *ir.Value { return op(g, "d", "Mul", op(g, "c", "Add", a, b), a) },
			[]float32{9}, []float32{2}},
		// y = a·b - a with b broadcast over a's rows: the gradient of b sums over them.
		{"broadcast mul and sub", []int64{2, 2}, []int64{2}, []float32{1, 2, 3, 4}, []float32{10, 20},
			func(g *ir.Graph, a, b *ir.Value) *ir.Value { return op(g, "y", "Sub", op(g, "p", "Mul", a, b), a) },
			[]float32{9, 19, 9, 19}, []float32{4, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := gradModel(t, tc.shapeA, tc.shapeB, tc.build)
			s, err := runtime.NewSession(m, runtime.Options{})
			if err != nil {
				t.Fatal(err)
			}
			outs, err := s.RunOrdered(context.Background(), []*kernel.Tensor{
				kernel.FromFloat32(tc.shapeA, tc.a), kernel.FromFloat32(tc.shapeB, tc.b)})
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range [][]float32{tc.da, tc.db} {
				got := outs[1+i].Float32s()
				if len(got) != len(want) {
					t.Fatalf("gradient %d: got %v, want %v", i, got, want)
				}
				for j := range want {
					if math.Abs(float64(got[j]-want[j])) > 1e-6 {
						t.Fatalf("gradient %d: got %v, want %v", i, got, want)
					}
				}
			}
			// Building the session must leave the model's use lists as they were.
			for _, v := range m.Graph.Inputs {
				for _, u := range v.Uses() {
					if u.Node.Graph() != m.Graph {
						t.Fatalf("input %q has a use by a node outside the graph", v.Name)
					}
				}
			}
		})
	}
}

func TestGradientWithoutRule(t *testing.T) {
	m := gradModel(t, nil, nil, func(g *ir.Graph, a, b *ir.Value) *ir.Value { return op(g, "y", "Exp", op(g, "c", "Add", a, b)) })
	if _, err := runtime.NewSession(m, runtime.Options{}); err == nil {
		t.Fatal("a graph with Exp, which has no gradient rule, was accepted")
	}
}

// A value of the graph that is no x (here the input c) is read in place by the forward
// computation; building the session must not leave the copies' uses on it.
func TestGradientReadsOuterValue(t *testing.T) {
	var c *ir.Value
	m := gradModel(t, nil, nil, func(g *ir.Graph, a, b *ir.Value) *ir.Value {
		c = g.AddInput("c", ir.TensorTypeOf(ir.Float))
		return op(g, "y", "Mul", op(g, "s", "Add", a, b), c)
	})
	// gradModel appended c after a and b, so the feeds are a, b, c.
	s, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := s.RunOrdered(context.Background(), []*kernel.Tensor{
		kernel.FromFloat32(nil, []float32{2}), kernel.FromFloat32(nil, []float32{5}), kernel.FromFloat32(nil, []float32{3})})
	if err != nil {
		t.Fatal(err)
	}
	if da, db := outs[1].Float32s()[0], outs[2].Float32s()[0]; da != 3 || db != 3 {
		t.Fatalf("got da %v, db %v, want 3, 3", da, db)
	}
	for _, u := range c.Uses() {
		if u.Node.Graph() != m.Graph {
			t.Fatalf("c has a use by a node outside the graph (%s)", u.Node.Describe())
		}
	}
}

// Sessions built at the same time on one model must not race: the Gradient kernel's
// forward graph reads values of the caller's graph, whose use lists its construction
// touches. Run with -race.
func TestGradientSessionsBuiltConcurrently(t *testing.T) {
	var c *ir.Value
	m := gradModel(t, nil, nil, func(g *ir.Graph, a, b *ir.Value) *ir.Value {
		c = g.AddInput("c", ir.TensorTypeOf(ir.Float))
		return op(g, "y", "Mul", op(g, "s", "Add", a, b), c)
	})
	uses := len(c.Uses())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(reference bool) {
			defer wg.Done()
			s, err := runtime.NewSession(m, runtime.Options{Reference: reference})
			if err != nil {
				errs <- err
				return
			}
			outs, err := s.RunOrdered(context.Background(), []*kernel.Tensor{
				kernel.FromFloat32(nil, []float32{2}), kernel.FromFloat32(nil, []float32{5}), kernel.FromFloat32(nil, []float32{3})})
			if err != nil {
				errs <- err
				return
			}
			if da := outs[1].Float32s()[0]; da != 3 {
				errs <- fmt.Errorf("da = %v, want 3", da)
			}
		}(i%2 == 0)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(c.Uses()); got != uses {
		t.Errorf("c has %d uses after the builds, %d before", got, uses)
	}
}
