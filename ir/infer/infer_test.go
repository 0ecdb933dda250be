package infer_test

import (
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
)

// TestSymbolicBatchThroughCNN checks the chain every image classifier export has.
func TestSymbolicBatchThroughCNN(t *testing.T) {
	b := newBuilder(t, 13)
	x := b.input("x", "float[batch,3,32,32]")
	conv := b.node("Conv", []*ir.Value{x, b.weight(8, 3, 3, 3), b.weight(8)}, 1, ir.IntsAttr("pads", 1, 1, 1, 1))
	relu := b.node("Relu", []*ir.Value{conv.Output(0)}, 1)
	pool := b.node("MaxPool", []*ir.Value{relu.Output(0)}, 1, ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2))
	flat := b.node("Flatten", []*ir.Value{pool.Output(0)}, 1)
	gemm := b.node("Gemm", []*ir.Value{flat.Output(0), b.weight(10, 2048), b.weight(10)}, 1, ir.IntAttr("transB", 1))
	soft := b.node("Softmax", []*ir.Value{gemm.Output(0)}, 1)
	b.g.Outputs = append(b.g.Outputs, soft.Output(0))
	rep := b.run(infer.Options{Strict: true})
	if len(rep.Problems) > 0 || len(rep.Unknown) > 0 {
		t.Fatalf("problems %v, unknown %v", rep.Problems, rep.Unknown)
	}
	want := map[*ir.Node]string{
		conv: "float[batch,8,32,32]", relu: "float[batch,8,32,32]", pool: "float[batch,8,16,16]",
		flat: "float[batch,2048]", gemm: "float[batch,10]", soft: "float[batch,10]",
	}
	for n, w := range want {
		if got := n.Output(0).Type.String(); got != w {
			t.Errorf("%s: %s, want %s", n.Describe(), got, w)
		}
	}
}

func TestDeclaredTypes(t *testing.T) {
	t.Run("refined", func(t *testing.T) {
		b := newBuilder(t, 13)
		n := b.node("Relu", []*ir.Value{b.input("x", "float[N,3]")}, 1)
		n.Output(0).Type = parseType(t, "float[?,3]")
		if rep := b.run(infer.Options{}); len(rep.Problems) > 0 {
			t.Fatal(rep.Problems)
		}
		if got := n.Output(0).Type.String(); got != "float[N,3]" {
			t.Errorf("got %s, want float[N,3]", got)
		}
	})
	t.Run("declared size kept over a name", func(t *testing.T) {
		b := newBuilder(t, 13)
		n := b.node("Relu", []*ir.Value{b.input("x", "float[N,3]")}, 1)
		n.Output(0).Type = parseType(t, "float[4,3]")
		if rep := b.run(infer.Options{}); len(rep.Problems) > 0 {
			t.Fatal(rep.Problems)
		}
		if got := n.Output(0).Type.String(); got != "float[4,3]" {
			t.Errorf("got %s, want float[4,3]", got)
		}
	})
	for _, tc := range []struct{ declared, want string }{
		{"float[N,4]", "dimension 1"},
		{"int64[N,3]", "element type"},
		{"float[N,3,1]", "rank"},
	} {
		t.Run("conflict "+tc.declared, func(t *testing.T) {
			b := newBuilder(t, 13)
			n := b.node("Relu", []*ir.Value{b.input("x", "float[N,3]")}, 1)
			n.Output(0).Type = parseType(t, tc.declared)
			rep := b.run(infer.Options{})
			if len(rep.Problems) != 1 {
				t.Fatalf("problems %v, want one", rep.Problems)
			}
			p := rep.Problems[0]
			if p.Node != n.Describe() || p.Op != "Relu-13" || !strings.Contains(p.Where, "output 0") || !strings.Contains(p.Message, tc.want) {
				t.Errorf("problem %+v, want one about %s at output 0 of %s", p, tc.want, n.Describe())
			}
			if got := n.Output(0).Type.String(); got != tc.declared {
				t.Errorf("declared type changed to %s", got)
			}
		})
	}
}

func TestUnknownOps(t *testing.T) {
	b := newBuilder(t, 13)
	x := b.input("x", "float[2]")
	n := b.g.NewNode("com.example", "Mystery", []*ir.Value{x}, []string{"y"})
	b.g.Append(n)
	relu := b.node("Relu", []*ir.Value{n.Output(0)}, 1)
	rep := b.run(infer.Options{})
	if len(rep.Problems) != 0 || strings.Join(rep.Unknown, ",") != "com.example::Mystery" {
		t.Fatalf("lenient: problems %v, unknown %v", rep.Problems, rep.Unknown)
	}
	if relu.Output(0).Type != nil {
		t.Errorf("Relu of an untyped value got %s", relu.Output(0).Type)
	}
	rep = b.run(infer.Options{Strict: true})
	if len(rep.Problems) != 1 || rep.Problems[0].Node != n.Describe() {
		t.Fatalf("strict: problems %v", rep.Problems)
	}
}

func TestModelWithoutGraph(t *testing.T) {
	if _, err := infer.Model(&ir.Model{}, infer.Options{}); err == nil {
		t.Error("no error for a model without a graph")
	}
}

func TestControlFlow(t *testing.T) {
	t.Run("if generalizes its branches", func(t *testing.T) {
		b := newBuilder(t, 13)
		x := b.input("x", "float[N,3]")
		cond := b.input("c", "bool[]")
		branch := func(name string, axis int64) *ir.Graph {
			sub := b.g.NewSubgraph(name)
			ax := sub.AddInitializer(ir.FromInt64(name+"_axes", []int64{1}, []int64{axis}))
			n := sub.NewNode("", "ReduceSum", []*ir.Value{x, ax}, []string{name + "_y"})
			sub.Append(n)
			sub.Outputs = []*ir.Value{n.Output(0)}
			return sub
		}
		then, els := branch("then", 0), branch("else", 1)
		n := b.node("If", []*ir.Value{cond}, 1, ir.GraphAttr("then_branch", then), ir.GraphAttr("else_branch", els))
		n.AttachSubgraph(then)
		n.AttachSubgraph(els)
		rep := b.run(infer.Options{})
		if len(rep.Problems) > 0 {
			t.Fatal(rep.Problems)
		}
		if got := then.Outputs[0].Type.String(); got != "float[1,3]" {
			t.Errorf("then output %s", got)
		}
		if got := n.Output(0).Type.String(); got != "float[?,?]" {
			t.Errorf("If output %s, want float[?,?]", got)
		}
	})
	t.Run("loop carries and stacks", func(t *testing.T) {
		b := newBuilder(t, 13)
		x := b.input("x", "float[N,3]")
		body := b.g.NewSubgraph("body")
		iter := body.AddInput("i", nil)
		condIn := body.AddInput("cond", nil)
		acc := body.AddInput("acc", nil)
		_ = iter
		add := body.NewNode("", "Add", []*ir.Value{acc, x}, []string{"acc_out"})
		body.Append(add)
		condOut := body.NewNode("", "Identity", []*ir.Value{condIn}, []string{"cond_out"})
		body.Append(condOut)
		slice := body.NewNode("", "ReduceSum", []*ir.Value{acc}, []string{"scan_out"}, ir.IntAttr("keepdims", 0))
		body.Append(slice)
		body.Outputs = []*ir.Value{condOut.Output(0), add.Output(0), slice.Output(0)}
		n := b.node("Loop", []*ir.Value{b.scalar(4), nil, x}, 2, ir.GraphAttr("body", body))
		n.AttachSubgraph(body)
		rep := b.run(infer.Options{})
		if len(rep.Problems) > 0 {
			t.Fatal(rep.Problems)
		}
		if got := strings.Join(outTypes(n), " "); got != "float[N,3] float[4]" {
			t.Errorf("Loop outputs %s, want float[N,3] float[4]", got)
		}
		if got := iter.Type.String(); got != "int64[]" {
			t.Errorf("iteration input typed %s", got)
		}
	})
	t.Run("scan", func(t *testing.T) {
		b := newBuilder(t, 11)
		state := b.input("s", "float[3]")
		seq := b.input("xs", "float[T,3]")
		body := b.g.NewSubgraph("body")
		si := body.AddInput("s_in", nil)
		xi := body.AddInput("x_in", nil)
		add := body.NewNode("", "Add", []*ir.Value{si, xi}, []string{"s_out"})
		body.Append(add)
		id := body.NewNode("", "Identity", []*ir.Value{add.Output(0)}, []string{"y"})
		body.Append(id)
		body.Outputs = []*ir.Value{add.Output(0), id.Output(0)}
		n := b.node("Scan", []*ir.Value{state, seq}, 2, ir.GraphAttr("body", body), ir.IntAttr("num_scan_inputs", 1))
		n.AttachSubgraph(body)
		rep := b.run(infer.Options{})
		if len(rep.Problems) > 0 {
			t.Fatal(rep.Problems)
		}
		if got := strings.Join(outTypes(n), " "); got != "float[3] float[T,3]" {
			t.Errorf("Scan outputs %s", got)
		}
	})
}
