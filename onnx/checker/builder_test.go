package checker

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// Small builders for hand-made models. base() is a valid model: X -> Relu -> Y.

func base() *onnxpb.ModelProto {
	return &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{opset("", 13)},
		Graph: &onnxpb.GraphProto{
			Name:   proto.String("g"),
			Input:  []*onnxpb.ValueInfoProto{tensorVI("X")},
			Output: []*onnxpb.ValueInfoProto{tensorVI("Y")},
			Node:   []*onnxpb.NodeProto{node("relu", "Relu", []string{"X"}, []string{"Y"})},
		},
	}
}

func opset(domain string, v int64) *onnxpb.OperatorSetIdProto {
	return &onnxpb.OperatorSetIdProto{Domain: proto.String(domain), Version: proto.Int64(v)}
}

func tensorVI(name string) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 2}}}},
		},
	}}}
}

func untypedVI(name string) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name)}
}

func node(name, op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	n := &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: out, Attribute: attrs}
	if name != "" {
		n.Name = proto.String(name)
	}
	return n
}

func attrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func attrGraph(name string, g *onnxpb.GraphProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: g}
}

func floatTensor(name string, dims []int64, vals ...float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: dims, FloatData: vals}
}

func typedTensor(name string, dt onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(dt)), Dims: dims}
}

func int64Raw(vals ...int64) []byte {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return b
}

func floatRaw(n int) []byte {
	b := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(i)))
	}
	return b
}

// subgraph returns a graph named name whose single node applies op to in, giving out.
func subgraph(name, op string, in []string, out string) *onnxpb.GraphProto {
	return &onnxpb.GraphProto{
		Name:   proto.String(name),
		Output: []*onnxpb.ValueInfoProto{untypedVI(out)},
		Node:   []*onnxpb.NodeProto{node("", op, in, []string{out})},
	}
}

// ruleCase is one table entry: mutate edits base(); want is "" for a valid model, or a
// substring that some problem's Error() must contain.
type ruleCase struct {
	name   string
	mutate func(m *onnxpb.ModelProto)
	want   string
	opts   Options
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			if tc.mutate != nil {
				tc.mutate(m)
			}
			problems := CheckModel(m, tc.opts)
			var errs []string
			for _, p := range problems {
				if !p.Warning {
					errs = append(errs, p.Error())
				}
			}
			if tc.want == "" {
				if len(errs) > 0 {
					t.Fatalf("valid model got problems:\n  %s", strings.Join(errs, "\n  "))
				}
				return
			}
			for _, e := range errs {
				if strings.Contains(e, tc.want) {
					return
				}
			}
			t.Fatalf("no problem contains %q; got:\n  %s", tc.want, strings.Join(errs, "\n  "))
		})
	}
}
