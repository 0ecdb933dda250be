package hostile

import (
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// NestedIf returns a valid model whose graph is depth If nodes nested in each other's
// then_branch. Every level reads the main graph's inputs cond (bool scalar) and x
// (float[2]) from the outer scope, so each name is resolved through every enclosing graph;
// the else branches return x and the innermost then branch Relu(x). The output y equals
// Relu(x) when cond is true and x otherwise, at every depth. Each level costs about 130
// bytes, so a 3000-deep model is a 400 KB file.
func NestedIf(depth int) *onnxpb.ModelProto {
	if depth < 1 {
		depth = 1
	}
	// Built from the inside out: level k's If writes y_k, which its parent's branch returns.
	inner := &onnxpb.GraphProto{
		Name:   proto.String("then_" + strconv.Itoa(depth)),
		Node:   []*onnxpb.NodeProto{node("Relu", []string{"x"}, []string{"y_" + strconv.Itoa(depth)})},
		Output: []*onnxpb.ValueInfoProto{tensorVI("y_"+strconv.Itoa(depth), onnxpb.TensorProto_FLOAT, 2)},
	}
	for k := depth - 1; k >= 0; k-- {
		ks := strconv.Itoa(k)
		out := "y_" + ks
		elseOut := "e_" + ks
		elseG := &onnxpb.GraphProto{
			Name:   proto.String("else_" + ks),
			Node:   []*onnxpb.NodeProto{node("Identity", []string{"x"}, []string{elseOut})},
			Output: []*onnxpb.ValueInfoProto{tensorVI(elseOut, onnxpb.TensorProto_FLOAT, 2)},
		}
		ifNode := node("If", []string{"cond"}, []string{out}, attrGraph("then_branch", inner), attrGraph("else_branch", elseG))
		ifNode.Name = proto.String("if_" + ks)
		name := "then_" + ks
		if k == 0 {
			name = "nested_if"
		}
		inner = &onnxpb.GraphProto{
			Name:   proto.String(name),
			Node:   []*onnxpb.NodeProto{ifNode},
			Output: []*onnxpb.ValueInfoProto{tensorVI(out, onnxpb.TensorProto_FLOAT, 2)},
		}
	}
	inner.Input = []*onnxpb.ValueInfoProto{tensorVI("cond", onnxpb.TensorProto_BOOL), tensorVI("x", onnxpb.TensorProto_FLOAT, 2)}
	return model(13, inner)
}

// NestedIfWide is NestedIf where every level also defines a value (v_k = Identity(x) in
// level k's then branch) and the innermost branch sums all of them: depth values are read
// across up to depth levels, so any tool that forwards outer values level by level, or
// copies each level's free names, does work quadratic in depth. The output is
// depth*x + ... : y = (depth+1)*x when cond is true, x otherwise.
func NestedIfWide(depth int) *onnxpb.ModelProto {
	if depth < 1 {
		depth = 1
	}
	ds := strconv.Itoa(depth)
	sumIn := []string{"x"}
	for k := 1; k <= depth; k++ {
		sumIn = append(sumIn, "v_"+strconv.Itoa(k))
	}
	inner := &onnxpb.GraphProto{
		Name:   proto.String("then_" + ds),
		Node:   []*onnxpb.NodeProto{node("Sum", sumIn, []string{"y_" + ds})},
		Output: []*onnxpb.ValueInfoProto{tensorVI("y_"+ds, onnxpb.TensorProto_FLOAT, 2)},
	}
	for k := depth - 1; k >= 0; k-- {
		ks := strconv.Itoa(k)
		out, elseOut := "y_"+ks, "e_"+ks
		elseG := &onnxpb.GraphProto{
			Name:   proto.String("else_" + ks),
			Node:   []*onnxpb.NodeProto{node("Identity", []string{"x"}, []string{elseOut})},
			Output: []*onnxpb.ValueInfoProto{tensorVI(elseOut, onnxpb.TensorProto_FLOAT, 2)},
		}
		// Level k+1's value is defined in the graph holding level k+1's If, so that it is
		// visible to everything nested below.
		inner.Node = append([]*onnxpb.NodeProto{node("Identity", []string{"x"}, []string{"v_" + strconv.Itoa(k+1)})}, inner.Node...)
		ifNode := node("If", []string{"cond"}, []string{out}, attrGraph("then_branch", inner), attrGraph("else_branch", elseG))
		ifNode.Name = proto.String("if_" + ks)
		name := "then_" + ks
		if k == 0 {
			name = "nested_if_wide"
		}
		inner = &onnxpb.GraphProto{
			Name:   proto.String(name),
			Node:   []*onnxpb.NodeProto{ifNode},
			Output: []*onnxpb.ValueInfoProto{tensorVI(out, onnxpb.TensorProto_FLOAT, 2)},
		}
	}
	inner.Input = []*onnxpb.ValueInfoProto{tensorVI("cond", onnxpb.TensorProto_BOOL), tensorVI("x", onnxpb.TensorProto_FLOAT, 2)}
	return model(13, inner)
}
