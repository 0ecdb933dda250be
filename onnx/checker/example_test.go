package checker_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/checker"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

func ExampleCheckModel() {
	floatVI := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1), Shape: &onnxpb.TensorShapeProto{}},
		}}}
	}
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		Graph: &onnxpb.GraphProto{
			Name:   proto.String("main"),
			Input:  []*onnxpb.ValueInfoProto{floatVI("A")},
			Output: []*onnxpb.ValueInfoProto{floatVI("Y")},
			Node: []*onnxpb.NodeProto{{
				Name: proto.String("gemm"), OpType: proto.String("Gemm"),
				Input: []string{"A"}, Output: []string{"Y"},
				Attribute: []*onnxpb.AttributeProto{{Name: proto.String("transA"), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(1)}},
			}},
		},
	}
	for _, p := range checker.CheckModel(m, checker.Options{}) {
		fmt.Println(p)
	}
	// Output:
	// graph main / node gemm (Gemm): inputs: has 1 inputs, the operator takes 2 to 3
	// graph main / node gemm (Gemm): attribute "transA": has type FLOAT, Gemm-13 expects INT
}
