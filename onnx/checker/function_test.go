package checker

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// withFunction adds function local.F (x -> Relu -> y, importing ai.onnx 13) and makes the
// main graph call it after the Relu.
func withFunction(edit func(f *onnxpb.FunctionProto, m *onnxpb.ModelProto)) func(m *onnxpb.ModelProto) {
	return func(m *onnxpb.ModelProto) {
		f := &onnxpb.FunctionProto{
			Name:        proto.String("F"),
			Domain:      proto.String("local"),
			Input:       []string{"x"},
			Output:      []string{"y"},
			OpsetImport: []*onnxpb.OperatorSetIdProto{opset("", 13)},
			Node:        []*onnxpb.NodeProto{node("", "Relu", []string{"x"}, []string{"y"})},
		}
		m.Functions = append(m.Functions, f)
		m.OpsetImport = append(m.OpsetImport, opset("local", 1))
		call := node("call", "F", []string{"Y"}, []string{"Z"})
		call.Domain = proto.String("local")
		m.Graph.Node = append(m.Graph.Node, call)
		if edit != nil {
			edit(f, m)
		}
	}
}

func TestFunctionRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "valid function and call", mutate: withFunction(nil)},
		{name: "no name", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) { f.Name = proto.String("") }), want: "function #0: name: is empty"},
		{name: "no domain at IR 8", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) { f.Domain = nil }), want: "domain: is required for IR version >= 8"},
		{name: "defined twice", mutate: withFunction(func(f *onnxpb.FunctionProto, m *onnxpb.ModelProto) {
			m.Functions = append(m.Functions, proto.Clone(f).(*onnxpb.FunctionProto))
		}), want: `function (domain "local", name "F", overload "") is defined more than once`},
		{name: "overloads are distinct", mutate: withFunction(func(f *onnxpb.FunctionProto, m *onnxpb.ModelProto) {
			g := proto.Clone(f).(*onnxpb.FunctionProto)
			g.Overload = proto.String("v2")
			m.Functions = append(m.Functions, g)
		})},
		{name: "recursive", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) {
			f.OpsetImport = append(f.OpsetImport, opset("local", 1))
			f.Node[0] = node("", "F", []string{"x"}, []string{"y"})
			f.Node[0].Domain = proto.String("local")
		}), want: `function F: calls itself (F -> F): recursive functions cannot be expanded`},
		{name: "mutually recursive", mutate: withFunction(func(f *onnxpb.FunctionProto, m *onnxpb.ModelProto) {
			f.OpsetImport = append(f.OpsetImport, opset("local", 1))
			g := proto.Clone(f).(*onnxpb.FunctionProto)
			g.Name = proto.String("G")
			f.Node[0] = node("", "G", []string{"x"}, []string{"y"})
			f.Node[0].Domain = proto.String("local")
			g.Node[0] = node("", "F", []string{"x"}, []string{"y"})
			g.Node[0].Domain = proto.String("local")
			m.Functions = append(m.Functions, g)
		}), want: `calls itself (F -> G -> F)`},
		{name: "body input undefined", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) { f.Node[0].Input = []string{"q"} }),
			want: `function local.F / node #0 (Relu): input 0 "q": is neither a function input nor an output of an earlier node`},
		{name: "body cannot see the main graph", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) { f.Node[0].Input = []string{"X"} }),
			want: `input 0 "X": is neither a function input`},
		{name: "output not produced", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) { f.Output = append(f.Output, "z") }),
			want: `function local.F: output "z": is not produced`},
		{name: "duplicate input", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) { f.Input = append(f.Input, "x") }),
			want: `input "x": is listed more than once`},
		{name: "duplicate attribute names", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) {
			f.Attribute = []string{"a"}
			f.AttributeProto = []*onnxpb.AttributeProto{attrFloat("a", 1)}
		}), want: `attribute "a": is listed more than once`},
		{name: "body SSA", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) {
			f.Node = append(f.Node, node("", "Relu", []string{"x"}, []string{"y"}))
		}), want: `output 0 "y": is already defined`},
		{name: "body domain not imported by the function", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) { f.OpsetImport = nil }),
			want: `domain: "" is not in the opset_import of the function`},
		{name: "compatible opset imports", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) {
			f.OpsetImport[0].Version = proto.Int64(14) // Abs: version 13 in force at 13 and 14
			f.Node[0].OpType = proto.String("Abs")
		})},
		{name: "incompatible opset imports", mutate: withFunction(func(f *onnxpb.FunctionProto, _ *onnxpb.ModelProto) {
			f.OpsetImport[0].Version = proto.Int64(14) // Relu: 13 under the model, 14 under the function
		}), want: `the function imports "" version 14 but the model imports version 13`},
		{name: "ref_attr_name to a declared attribute", mutate: withFunction(func(f *onnxpb.FunctionProto, m *onnxpb.ModelProto) {
			f.OpsetImport[0].Version = proto.Int64(16)
			m.OpsetImport[0].Version = proto.Int64(16)
			f.Attribute = []string{"slope"}
			f.Node[0].OpType = proto.String("LeakyRelu")
			f.Node[0].Attribute = []*onnxpb.AttributeProto{{Name: proto.String("alpha"), Type: onnxpb.AttributeProto_FLOAT.Enum(), RefAttrName: proto.String("slope")}}
		})},
		{name: "ref_attr_name to an undeclared attribute", mutate: withFunction(func(f *onnxpb.FunctionProto, m *onnxpb.ModelProto) {
			f.OpsetImport[0].Version = proto.Int64(16)
			m.OpsetImport[0].Version = proto.Int64(16)
			f.Node[0].OpType = proto.String("LeakyRelu")
			f.Node[0].Attribute = []*onnxpb.AttributeProto{{Name: proto.String("alpha"), Type: onnxpb.AttributeProto_FLOAT.Enum(), RefAttrName: proto.String("slope")}}
		}), want: `refers to "slope", which is not an attribute of function F`},
		{name: "ref_attr_name with a value", mutate: withFunction(func(f *onnxpb.FunctionProto, m *onnxpb.ModelProto) {
			f.OpsetImport[0].Version = proto.Int64(16)
			m.OpsetImport[0].Version = proto.Int64(16)
			f.Attribute = []string{"slope"}
			f.Node[0].OpType = proto.String("LeakyRelu")
			f.Node[0].Attribute = []*onnxpb.AttributeProto{{Name: proto.String("alpha"), Type: onnxpb.AttributeProto_FLOAT.Enum(), RefAttrName: proto.String("slope"), F: proto.Float32(1)}}
		}), want: `refers to function attribute "slope" but also holds a value`},
		{name: "call passes too many inputs", mutate: withFunction(func(_ *onnxpb.FunctionProto, m *onnxpb.ModelProto) {
			call := m.Graph.Node[len(m.Graph.Node)-1]
			call.Input = []string{"Y", "X"}
		}), want: "node call (local.F): inputs: has 2 inputs, function F declares 1"},
	})
}

func TestTrainingInfoRules(t *testing.T) {
	withTraining := func(edit func(ti *onnxpb.TrainingInfoProto)) func(m *onnxpb.ModelProto) {
		return func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = []*onnxpb.TensorProto{floatTensor("W", []int64{2}, 1, 2)}
			m.Graph.Node = append(m.Graph.Node, node("add", "Add", []string{"Y", "W"}, []string{"Z"}))
			ti := &onnxpb.TrainingInfoProto{
				Algorithm: &onnxpb.GraphProto{
					Name:   proto.String("algo"),
					Node:   []*onnxpb.NodeProto{node("upd", "Sub", []string{"W", "Z"}, []string{"W_new"})},
					Output: []*onnxpb.ValueInfoProto{untypedVI("W_new")},
				},
				UpdateBinding: []*onnxpb.StringStringEntryProto{{Key: proto.String("W"), Value: proto.String("W_new")}},
			}
			if edit != nil {
				edit(ti)
			}
			m.TrainingInfo = append(m.TrainingInfo, ti)
		}
	}
	initGraph := &onnxpb.GraphProto{
		Name:   proto.String("init"),
		Node:   []*onnxpb.NodeProto{node("c", "Constant", nil, []string{"W0"}, &onnxpb.AttributeProto{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: floatTensor("v", []int64{2}, 0, 0)})},
		Output: []*onnxpb.ValueInfoProto{untypedVI("W0")},
	}
	runRuleCases(t, []ruleCase{
		{name: "algorithm reads the inference graph", mutate: withTraining(nil)},
		{name: "with initialization", mutate: withTraining(func(ti *onnxpb.TrainingInfoProto) {
			ti.Initialization = initGraph
			ti.InitializationBinding = []*onnxpb.StringStringEntryProto{{Key: proto.String("W"), Value: proto.String("W0")}}
		})},
		{name: "algorithm redefines an inference value", mutate: withTraining(func(ti *onnxpb.TrainingInfoProto) {
			ti.Algorithm.Node = append(ti.Algorithm.Node, node("bad", "Relu", []string{"X"}, []string{"Z"}))
		}), want: `training_info[0] / algorithm graph algo / node bad (Relu): output 0 "Z": redefines a value of an enclosing graph`},
		{name: "algorithm node checked", mutate: withTraining(func(ti *onnxpb.TrainingInfoProto) { ti.Algorithm.Node[0].OpType = proto.String("Subb") }),
			want: "Subb is not an operator of ai.onnx"},
		{name: "binding key not an initializer", mutate: withTraining(func(ti *onnxpb.TrainingInfoProto) { ti.UpdateBinding[0].Key = proto.String("X") }),
			want: `update_binding: key "X" is not an initializer`},
		{name: "binding value not an output", mutate: withTraining(func(ti *onnxpb.TrainingInfoProto) { ti.UpdateBinding[0].Value = proto.String("Q") }),
			want: `update_binding: value "Q" (bound to "W") is not an output of the graph`},
		{name: "binding key repeated", mutate: withTraining(func(ti *onnxpb.TrainingInfoProto) { ti.UpdateBinding = append(ti.UpdateBinding, ti.UpdateBinding[0]) }),
			want: `key "W" is bound more than once`},
		{name: "initialization binding without graph", mutate: withTraining(func(ti *onnxpb.TrainingInfoProto) {
			ti.InitializationBinding = []*onnxpb.StringStringEntryProto{{Key: proto.String("W"), Value: proto.String("W0")}}
		}), want: "initialization_binding: is set but there is no initialization graph"},
	})
}
