package checker

import (
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/hostile"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// innermost returns the deepest then_branch of a hostile.NestedIf model.
func innermost(m *onnxpb.ModelProto) *onnxpb.GraphProto {
	g := m.Graph
	for {
		var next *onnxpb.GraphProto
		for _, n := range g.Node {
			for _, a := range n.Attribute {
				if a.GetName() == "then_branch" {
					next = a.G
				}
			}
		}
		if next == nil {
			return g
		}
		g = next
	}
}

// TestDeepProblemPath reports a problem 500 levels down with a path of bounded size that
// keeps its outermost and innermost elements.
func TestDeepProblemPath(t *testing.T) {
	m := hostile.NestedIf(500)
	innermost(m).Node[0].Input[0] = "nowhere"
	probs := CheckModel(m, Options{})
	if len(probs) != 1 {
		t.Fatalf("got %d problems, want 1: %v", len(probs), probs)
	}
	p := probs[0]
	if !strings.HasPrefix(p.Path, "graph nested_if / node if_0 (If) / attribute then_branch / graph then_1") ||
		!strings.HasSuffix(p.Path, "attribute then_branch / graph then_500 / node #0 (Relu)") ||
		!strings.Contains(p.Path, "... (986 more) ...") || len(p.Path) > 600 {
		t.Errorf("path %q (%d bytes): want the outer and inner ends around an elision", p.Path, len(p.Path))
	}
	if !strings.Contains(p.Msg, "is not defined in this graph or an enclosing one") {
		t.Errorf("message %q", p.Msg)
	}
}

// TestDeepDependencies checks that reads from deep inside a subgraph count as reads by the
// node holding it in the graph that defines the value, and only there: a value defined at
// level 1 and read at level 3 orders level 1's nodes, not the main graph's.
func TestDeepDependencies(t *testing.T) {
	m := hostile.NestedIf(3)
	level1 := m.Graph.Node[0].Attribute[0].G // then_1, holding if_1
	// A node of level 1 placed after if_1 defines "late"; the innermost branch reads it:
	// if_1 depends on a later node.
	level1.Node = append(level1.Node, node("late", "Relu", []string{"x"}, []string{"late"}))
	inner := innermost(m)
	inner.Node = append(inner.Node, node("use", "Relu", []string{"late"}, []string{"unused"}))
	probs := CheckModel(m, Options{})
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), `graph then_3 / node use (Relu): input 0 "late": is not defined in this graph or an enclosing one`) {
		t.Fatalf("got %v, want one problem about late's use before its definition", probs)
	}
	// Moving the definition before if_1 makes the model valid.
	level1.Node = append([]*onnxpb.NodeProto{level1.Node[1]}, level1.Node[0])
	if probs := CheckModel(m, Options{}); len(probs) != 0 {
		t.Fatalf("got %v, want none", probs)
	}
	// A level-1 value that the deep read makes if_1 depend on, and that itself reads if_1's
	// output, is a cycle inside level 1.
	level1.Node[0].Input[0] = "y_1"
	got := CheckModel(m, Options{})
	if len(got) == 0 || !strings.Contains(got[0].Error(), "nodes form a cycle: ") || !strings.Contains(got[0].Path, "graph then_1") {
		t.Fatalf("got %v, want a cycle in then_1", got)
	}
}
