package hostile

import (
	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// ExpandHuge returns a model of a few dozen bytes whose Expand broadcasts a one-element
// float tensor to elements floats (2^33 is 32 GiB): all constant, so it needs no input.
func ExpandHuge(elements int64) *onnxpb.ModelProto {
	g := &onnxpb.GraphProto{
		Name:        proto.String("g"),
		Initializer: []*onnxpb.TensorProto{floatTensor("x", []int64{1}, 1), int64Tensor("s", []int64{1}, elements)},
		Node:        []*onnxpb.NodeProto{named(node("Expand", []string{"x", "s"}, []string{"y"}), "expand")},
		Output:      []*onnxpb.ValueInfoProto{tensorVI("y", onnxpb.TensorProto_FLOAT, elements)},
	}
	return model(13, g)
}

func named(n *onnxpb.NodeProto, name string) *onnxpb.NodeProto {
	n.Name = proto.String(name)
	return n
}
