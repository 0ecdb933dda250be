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

// LoopForever returns a model whose Loop runs trips iterations (2^62 is forever) of a body
// adding 1 to a float scalar: it takes no memory and never ends by itself, so only a
// deadline or an interrupt stops it. Its input x is float[1].
func LoopForever(trips int64) *onnxpb.ModelProto {
	body := &onnxpb.GraphProto{
		Name: proto.String("body"),
		Input: []*onnxpb.ValueInfoProto{tensorVI("i", onnxpb.TensorProto_INT64), tensorVI("c", onnxpb.TensorProto_BOOL),
			tensorVI("acc", onnxpb.TensorProto_FLOAT, 1)},
		Initializer: []*onnxpb.TensorProto{floatTensor("one", []int64{1}, 1)},
		Node: []*onnxpb.NodeProto{
			node("Identity", []string{"c"}, []string{"c_out"}),
			node("Add", []string{"acc", "one"}, []string{"acc_out"}),
		},
		Output: []*onnxpb.ValueInfoProto{tensorVI("c_out", onnxpb.TensorProto_BOOL), tensorVI("acc_out", onnxpb.TensorProto_FLOAT, 1)},
	}
	g := &onnxpb.GraphProto{
		Name:        proto.String("g"),
		Input:       []*onnxpb.ValueInfoProto{tensorVI("x", onnxpb.TensorProto_FLOAT, 1)},
		Initializer: []*onnxpb.TensorProto{int64Tensor("trips", nil, trips), boolTensor("cond", true)},
		Node:        []*onnxpb.NodeProto{named(node("Loop", []string{"trips", "cond", "x"}, []string{"y"}, attrGraph("body", body)), "loop")},
		Output:      []*onnxpb.ValueInfoProto{tensorVI("y", onnxpb.TensorProto_FLOAT, 1)},
	}
	return model(13, g)
}

func boolTensor(name string, v bool) *onnxpb.TensorProto {
	b := int32(0)
	if v {
		b = 1
	}
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_BOOL)), Int32Data: []int32{b}}
}

// LoopDoubling returns a model whose Loop concatenates its carried float tensor with
// itself on each of 64 trips: from one element, 2^k after k trips, so only a memory
// budget stops it (after about 30 trips at 4 GiB). Its input x is float[1].
func LoopDoubling() *onnxpb.ModelProto {
	body := &onnxpb.GraphProto{
		Name: proto.String("body"),
		Input: []*onnxpb.ValueInfoProto{tensorVI("i", onnxpb.TensorProto_INT64), tensorVI("c", onnxpb.TensorProto_BOOL),
			{Name: proto.String("acc"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}}}}},
		Node: []*onnxpb.NodeProto{
			node("Identity", []string{"c"}, []string{"c_out"}),
			named(node("Concat", []string{"acc", "acc"}, []string{"acc_out"}, attrInt("axis", 0)), "double"),
		},
		Output: []*onnxpb.ValueInfoProto{tensorVI("c_out", onnxpb.TensorProto_BOOL),
			{Name: proto.String("acc_out"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}}}}},
	}
	g := &onnxpb.GraphProto{
		Name:        proto.String("g"),
		Input:       []*onnxpb.ValueInfoProto{tensorVI("x", onnxpb.TensorProto_FLOAT, 1)},
		Initializer: []*onnxpb.TensorProto{int64Tensor("trips", nil, 64), boolTensor("cond", true)},
		Node:        []*onnxpb.NodeProto{named(node("Loop", []string{"trips", "cond", "x"}, []string{"y"}, attrGraph("body", body)), "loop")},
		Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "n"}}}}}}}}},
	}
	return model(13, g)
}
