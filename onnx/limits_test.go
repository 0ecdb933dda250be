package onnx

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
)

func TestCheckLimits(t *testing.T) {
	small := Limits{MaxSubgraphDepth: 2, MaxTypeDepth: 3, MaxNodes: 5, MaxAttrElems: 4, MaxNameBytes: 8, MaxStringBytes: 16}
	relu := func(name string) *pb.NodeProto {
		return &pb.NodeProto{Name: proto.String(name), OpType: proto.String("Relu"), Input: []string{"x"}, Output: []string{"y"}}
	}
	withGraph := func(name string, g *pb.GraphProto) *pb.NodeProto {
		n := relu(name)
		n.Attribute = []*pb.AttributeProto{{Name: proto.String("body"), Type: pb.AttributeProto_GRAPH.Enum(), G: g}}
		return n
	}
	nest := func(levels int) *pb.GraphProto {
		g := &pb.GraphProto{Name: proto.String("leaf"), Node: []*pb.NodeProto{relu("")}}
		for i := 0; i < levels; i++ {
			g = &pb.GraphProto{Name: proto.String("g"), Node: []*pb.NodeProto{withGraph("n", g)}}
		}
		return g
	}
	seqType := func(levels int) *pb.TypeProto {
		tp := &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(1)}}}
		for i := 0; i < levels; i++ {
			tp = &pb.TypeProto{Value: &pb.TypeProto_SequenceType{SequenceType: &pb.TypeProto_Sequence{ElemType: tp}}}
		}
		return tp
	}
	attr := func(a *pb.AttributeProto) *pb.GraphProto {
		n := relu("n")
		n.Attribute = []*pb.AttributeProto{a}
		return &pb.GraphProto{Name: proto.String("g"), Node: []*pb.NodeProto{n}}
	}
	fnModel := func(nodes int) *pb.ModelProto {
		f := &pb.FunctionProto{Name: proto.String("f")}
		for i := 0; i < nodes; i++ {
			f.Node = append(f.Node, relu(""))
		}
		return &pb.ModelProto{Graph: nest(0), Functions: []*pb.FunctionProto{f}}
	}
	tests := []struct {
		name string
		m    *pb.ModelProto
		want string // "" for within the limits
	}{
		{"at every limit", &pb.ModelProto{Graph: nest(2)}, ""},
		{"nested one level too deep", &pb.ModelProto{Graph: nest(3)}, `node "n" (Relu) / graph "leaf": subgraph nesting depth 3 exceeds whittle's limit of 2`},
		{"too many nodes", &pb.ModelProto{Graph: &pb.GraphProto{Node: []*pb.NodeProto{relu(""), relu(""), relu(""), relu(""), relu(""), relu("")}}}, "node count 6 exceeds whittle's limit of 5"},
		{"nodes counted across functions", fnModel(5), "node count 6"},
		{"long node name", &pb.ModelProto{Graph: &pb.GraphProto{Node: []*pb.NodeProto{relu("123456789")}}}, `name "123456789" length in bytes 9 exceeds`},
		{"long graph name", &pb.ModelProto{Graph: &pb.GraphProto{Name: proto.String("graph-name")}}, "length in bytes 10"},
		{"long ints", &pb.ModelProto{Graph: attr(&pb.AttributeProto{Name: proto.String("a"), Ints: []int64{1, 2, 3, 4, 5}})}, `attribute "a": attribute list length 5 exceeds whittle's limit of 4`},
		{"long string", &pb.ModelProto{Graph: attr(&pb.AttributeProto{Name: proto.String("s"), S: make([]byte, 17)})}, "string attribute size in bytes 17"},
		{"long strings element", &pb.ModelProto{Graph: attr(&pb.AttributeProto{Name: proto.String("s"), Strings: [][]byte{nil, make([]byte, 17)}})}, "string attribute size in bytes 17"},
		{"deep value type", &pb.ModelProto{Graph: &pb.GraphProto{Input: []*pb.ValueInfoProto{{Name: proto.String("x"), Type: seqType(3)}}}}, `value "x": type nesting depth 4 exceeds whittle's limit of 3`},
		{"deep attribute type", &pb.ModelProto{Graph: attr(&pb.AttributeProto{Name: proto.String("tp"), Tp: seqType(3)})}, "type nesting depth 4"},
		{"graphs attribute nested too deep", &pb.ModelProto{Graph: attr(&pb.AttributeProto{Name: proto.String("gs"), Graphs: []*pb.GraphProto{nest(0), nest(2)}})}, "subgraph nesting depth 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLimits(tt.m, small)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a LimitError containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeRefusesDeepMessages(t *testing.T) {
	// A type nested far past MaxTypeDepth stops protobuf decoding itself.
	tp := &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(1)}}}
	for i := 0; i < protoRecursionLimit(DefaultLimits); i++ {
		tp = &pb.TypeProto{Value: &pb.TypeProto_SequenceType{SequenceType: &pb.TypeProto_Sequence{ElemType: tp}}}
	}
	data, err := proto.MarshalOptions{}.Marshal(&pb.ModelProto{IrVersion: proto.Int64(8), Graph: &pb.GraphProto{Input: []*pb.ValueInfoProto{{Name: proto.String("x"), Type: tp}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode(data)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "protobuf message nesting depth") {
		t.Fatalf("got %v, want ErrLimit for message nesting", err)
	}
}
