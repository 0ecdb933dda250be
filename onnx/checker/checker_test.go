package checker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

func TestModelRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "valid", want: ""},
		{name: "ir_version missing", mutate: func(m *onnxpb.ModelProto) { m.IrVersion = nil }, want: "ir_version: is not set"},
		{name: "ir_version newest", mutate: func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(MaxIRVersion) }},
		{name: "ir_version too new", mutate: func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(15) }, want: "outside the supported range [1, 14]"},
		{name: "ir_version negative", mutate: func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(-1) }, want: "outside the supported range"},
		{name: "opset_import missing", mutate: func(m *onnxpb.ModelProto) { m.OpsetImport = nil }, want: "opset_import: is required for IR version >= 3"},
		{name: "IR 2 implicit opset 1", mutate: func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(2); m.OpsetImport = nil }},
		{name: "IR 2 with opset_import", mutate: func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(2) }, want: "must be absent for IR version < 3"},
		{name: "duplicate domain", mutate: func(m *onnxpb.ModelProto) { m.OpsetImport = append(m.OpsetImport, opset("", 14)) }, want: `domain "" is imported more than once`},
		{name: "ai.onnx alias duplicates default", mutate: func(m *onnxpb.ModelProto) { m.OpsetImport = append(m.OpsetImport, opset("ai.onnx", 13)) }, want: "imported more than once"},
		{name: "ai.onnx alias alone", mutate: func(m *onnxpb.ModelProto) { m.OpsetImport = []*onnxpb.OperatorSetIdProto{opset("ai.onnx", 13)} }},
		{name: "opset version zero", mutate: func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = proto.Int64(0) }, want: "versions start at 1"},
		{name: "default domain not imported but used", mutate: func(m *onnxpb.ModelProto) {
			m.OpsetImport = []*onnxpb.OperatorSetIdProto{opset("com.acme", 1)}
		}, want: `domain: "" is not in the opset_import of the model`},
		{name: "default domain not imported nor used", mutate: func(m *onnxpb.ModelProto) {
			m.OpsetImport = []*onnxpb.OperatorSetIdProto{opset("com.acme", 1)}
			m.Graph.Node[0].Domain = proto.String("com.acme")
		}},
		{name: "metadata keys unique", mutate: func(m *onnxpb.ModelProto) {
			m.MetadataProps = []*onnxpb.StringStringEntryProto{{Key: proto.String("a")}, {Key: proto.String("b")}}
		}},
		{name: "metadata keys duplicated", mutate: func(m *onnxpb.ModelProto) {
			m.MetadataProps = []*onnxpb.StringStringEntryProto{{Key: proto.String("a")}, {Key: proto.String("a")}}
		}, want: `metadata_props: key "a" appears more than once`},
		{name: "graph missing", mutate: func(m *onnxpb.ModelProto) { m.Graph = nil }, want: "graph: is missing"},
	})
}

func TestOperatorResolution(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "custom domain imported, unknown op allowed", mutate: func(m *onnxpb.ModelProto) {
			m.OpsetImport = append(m.OpsetImport, opset("com.acme", 1))
			m.Graph.Node[0].Domain, m.Graph.Node[0].OpType = proto.String("com.acme"), proto.String("Whatever")
		}},
		{name: "custom domain not imported", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Node[0].Domain = proto.String("com.acme")
		}, want: `"com.acme" is not in the opset_import`},
		{name: "unknown op in ai.onnx", mutate: func(m *onnxpb.ModelProto) { m.Graph.Node[0].OpType = proto.String("Relux") }, want: "Relux is not an operator of ai.onnx"},
		{name: "op introduced later than the opset", mutate: func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(8)
			m.Graph.Node[0].OpType = proto.String("Acosh")
		}, want: "Acosh does not exist at opset 8 of ai.onnx (first version 9)"},
		{name: "op available at its first version", mutate: func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(9)
			m.Graph.Node[0].OpType = proto.String("Acosh")
		}},
		{name: "deprecated op", mutate: func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(10)
			m.Graph.Node[0].OpType = proto.String("Upsample")
			m.Graph.Node[0].Input = []string{"X", "X"}
		}, want: "Upsample is deprecated at opset 10 of ai.onnx"},
		{name: "op before its deprecation", mutate: func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(9)
			m.Graph.Node[0].OpType = proto.String("Upsample")
			m.Graph.Node[0].Input = []string{"X", "X"}
		}},
		{name: "removed experimental op accepted", mutate: func(m *onnxpb.ModelProto) { m.Graph.Node[0].OpType = proto.String("ImageScaler") }},
		{name: "op_type empty", mutate: func(m *onnxpb.ModelProto) { m.Graph.Node[0].OpType = proto.String("") }, want: "op_type: is empty"},
	})
}

func TestGraphRules(t *testing.T) {
	addNode := func(n *onnxpb.NodeProto) func(m *onnxpb.ModelProto) {
		return func(m *onnxpb.ModelProto) { m.Graph.Node = append(m.Graph.Node, n) }
	}
	runRuleCases(t, []ruleCase{
		{name: "graph name empty", mutate: func(m *onnxpb.ModelProto) { m.Graph.Name = nil }, want: "name: a graph must have a name"},
		{name: "two nodes chained", mutate: addNode(node("n2", "Relu", []string{"Y"}, []string{"Z"}))},
		{name: "output defined twice", mutate: addNode(node("n2", "Relu", []string{"X"}, []string{"Y"})), want: `output 0 "Y": is already defined in this graph`},
		{name: "node overwrites graph input", mutate: addNode(node("n2", "Relu", []string{"Y"}, []string{"X"})), want: `output 0 "X": is already defined`},
		{name: "graph input listed twice", mutate: func(m *onnxpb.ModelProto) { m.Graph.Input = append(m.Graph.Input, tensorVI("X")) }, want: `input "X": is listed more than once`},
		{name: "input undefined", mutate: func(m *onnxpb.ModelProto) { m.Graph.Node[0].Input = []string{"Nope"} }, want: `input 0 "Nope": is not a graph input, initializer or output of an earlier node`},
		{name: "empty optional input", mutate: func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(22)
			m.Graph.Initializer = []*onnxpb.TensorProto{floatTensor("W", []int64{1, 1, 1}, 1)}
			m.Graph.Node[0] = node("conv", "Conv", []string{"X", "W", ""}, []string{"Y"})
		}},
		{name: "nodes out of order", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Node = []*onnxpb.NodeProto{node("b", "Relu", []string{"T"}, []string{"Y"}), node("a", "Relu", []string{"X"}, []string{"T"})}
		}, want: `input 0 "T": is produced by a later node, a (Relu): nodes must be in topological order`},
		{name: "cycle", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Node = []*onnxpb.NodeProto{
				node("a", "Add", []string{"X", "C"}, []string{"B"}),
				node("b", "Relu", []string{"B"}, []string{"C"}),
				node("c", "Relu", []string{"C"}, []string{"Y"}),
			}
		}, want: "nodes form a cycle: a (Add) -> b (Relu) -> a (Add)"},
		{name: "self loop", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, node("s", "Add", []string{"X", "S"}, []string{"S"}))
		}, want: "nodes form a cycle: s (Add) -> s (Add)"},
		{name: "graph output not produced", mutate: func(m *onnxpb.ModelProto) { m.Graph.Output = append(m.Graph.Output, tensorVI("Z")) }, want: `output "Z": is not produced`},
		{name: "graph output is an input", mutate: func(m *onnxpb.ModelProto) { m.Graph.Output = append(m.Graph.Output, tensorVI("X")) }},
		{name: "main input untyped", mutate: func(m *onnxpb.ModelProto) { m.Graph.Input[0].Type = nil }, want: `input "X": has no type`},
		{name: "main output without elem_type", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Output[0].GetType().GetTensorType().ElemType = nil
		}, want: `output "Y": tensor type has no elem_type`},
		{name: "main input without shape", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].GetType().GetTensorType().Shape = nil
		}, want: "tensor type has no shape"},
		{name: "value_info unique", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, node("n2", "Relu", []string{"Y"}, []string{"Z"}))
			m.Graph.ValueInfo = []*onnxpb.ValueInfoProto{tensorVI("Z")}
		}},
		{name: "value_info duplicated", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.ValueInfo = []*onnxpb.ValueInfoProto{tensorVI("Y"), tensorVI("Y")}
		}, want: `value_info "Y": is listed more than once`},
		{name: "node without inputs and outputs", mutate: addNode(node("e", "Relu", nil, nil)), want: "node has neither inputs nor outputs"},
		{name: "duplicate node names allowed", mutate: addNode(node("relu", "Relu", []string{"Y"}, []string{"Z"}))},
	})
}

func TestInitializerRules(t *testing.T) {
	withInit := func(ir int64, asInput bool) func(m *onnxpb.ModelProto) {
		return func(m *onnxpb.ModelProto) {
			m.IrVersion = proto.Int64(ir)
			m.Graph.Initializer = []*onnxpb.TensorProto{floatTensor("B", []int64{2}, 1, 2)}
			m.Graph.Node = append(m.Graph.Node, node("add", "Add", []string{"Y", "B"}, []string{"Z"}))
			if asInput {
				m.Graph.Input = append(m.Graph.Input, tensorVI("B"))
			}
		}
	}
	runRuleCases(t, []ruleCase{
		{name: "IR 3 initializer also an input", mutate: withInit(3, true)},
		{name: "IR 3 initializer not an input", mutate: withInit(3, false), want: `initializer "B": is not a graph input`},
		{name: "IR 4 initializer not an input", mutate: withInit(4, false)},
		{name: "duplicate initializer", mutate: func(m *onnxpb.ModelProto) {
			withInit(8, false)(m)
			m.Graph.Initializer = append(m.Graph.Initializer, floatTensor("B", []int64{2}, 1, 2))
		}, want: `initializer "B": is listed more than once`},
		{name: "initializer without name", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = []*onnxpb.TensorProto{floatTensor("", []int64{1}, 1)}
		}, want: "initializer #0: has no name"},
		{name: "node output redefines initializer", mutate: func(m *onnxpb.ModelProto) {
			withInit(8, false)(m)
			m.Graph.Node = append(m.Graph.Node, node("n3", "Relu", []string{"X"}, []string{"B"}))
		}, want: `output 0 "B": is already defined`},
	})
}

func TestSubgraphRules(t *testing.T) {
	withIf := func(thenG, elseG *onnxpb.GraphProto) func(m *onnxpb.ModelProto) {
		return func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, tensorVI("cond"))
			m.Graph.Node = append(m.Graph.Node, node("if", "If", []string{"cond"}, []string{"Z"},
				attrGraph("then_branch", thenG), attrGraph("else_branch", elseG)))
		}
	}
	runRuleCases(t, []ruleCase{
		{name: "branches read outer values", mutate: withIf(subgraph("then", "Relu", []string{"X"}, "t"), subgraph("else", "Neg", []string{"Y"}, "e"))},
		{name: "branch reads undefined value", mutate: withIf(subgraph("then", "Relu", []string{"Q"}, "t"), subgraph("else", "Neg", []string{"Y"}, "e")),
			want: `graph g / node if (If) / attribute then_branch / graph then / node #0 (Relu): input 0 "Q": is not defined in this graph or an enclosing one`},
		{name: "branch reads a later outer value", mutate: func(m *onnxpb.ModelProto) {
			withIf(subgraph("then", "Relu", []string{"Late"}, "t"), subgraph("else", "Neg", []string{"Y"}, "e"))(m)
			m.Graph.Node = append(m.Graph.Node, node("late", "Relu", []string{"X"}, []string{"Late"}))
		}, want: `input 0 "Late": is not defined in this graph or an enclosing one`},
		{name: "branch shadows an outer value", mutate: withIf(subgraph("then", "Relu", []string{"X"}, "Y"), subgraph("else", "Neg", []string{"Y"}, "e")),
			want: `output 0 "Y": redefines a value of an enclosing graph`},
		{name: "branch without a name", mutate: withIf(subgraph("", "Relu", []string{"X"}, "t"), subgraph("else", "Neg", []string{"Y"}, "e")), want: "a graph must have a name"},
		{name: "subgraph outputs may be untyped", mutate: withIf(subgraph("then", "Relu", []string{"X"}, "t"), subgraph("else", "Neg", []string{"X"}, "e"))},
		{name: "branch output not produced", mutate: func(m *onnxpb.ModelProto) {
			g := subgraph("then", "Relu", []string{"X"}, "t")
			g.Output = append(g.Output, untypedVI("missing"))
			withIf(g, subgraph("else", "Neg", []string{"Y"}, "e"))(m)
		}, want: `output "missing": is not produced`},
		{name: "cycle through a subgraph", mutate: func(m *onnxpb.ModelProto) {
			withIf(subgraph("then", "Relu", []string{"W"}, "t"), subgraph("else", "Neg", []string{"Y"}, "e"))(m)
			m.Graph.Node = append(m.Graph.Node, node("w", "Relu", []string{"Z"}, []string{"W"}))
		}, want: "nodes form a cycle: if (If) -> w (Relu) -> if (If)"},
	})
}

func TestTensorRules(t *testing.T) {
	withTensor := func(tensor *onnxpb.TensorProto) func(m *onnxpb.ModelProto) {
		return func(m *onnxpb.ModelProto) { m.Graph.Initializer = append(m.Graph.Initializer, tensor) }
	}
	with := func(dt onnxpb.TensorProto_DataType, dims []int64, set func(*onnxpb.TensorProto)) func(m *onnxpb.ModelProto) {
		tensor := typedTensor("T", dt, dims...)
		set(tensor)
		return withTensor(tensor)
	}
	runRuleCases(t, []ruleCase{
		{name: "float_data matches dims", mutate: withTensor(floatTensor("T", []int64{2, 3}, 1, 2, 3, 4, 5, 6))},
		{name: "scalar", mutate: withTensor(floatTensor("T", nil, 1))},
		{name: "float_data too short", mutate: withTensor(floatTensor("T", []int64{2, 3}, 1, 2, 3, 4, 5)), want: "float_data holds 5 values, FLOAT of shape [2 3] needs 6"},
		{name: "no data_type", mutate: withTensor(&onnxpb.TensorProto{Name: proto.String("T"), FloatData: []float32{1}}), want: "tensor has no data_type"},
		{name: "UNDEFINED data_type", mutate: with(onnxpb.TensorProto_UNDEFINED, nil, func(*onnxpb.TensorProto) {}), want: "data_type is UNDEFINED"},
		{name: "unknown data_type", mutate: with(99, nil, func(*onnxpb.TensorProto) {}), want: "data_type 99 is not a known type"},
		{name: "raw_data size ok", mutate: with(onnxpb.TensorProto_FLOAT, []int64{2, 3}, func(t *onnxpb.TensorProto) { t.RawData = floatRaw(6) })},
		{name: "raw_data size wrong", mutate: with(onnxpb.TensorProto_FLOAT, []int64{2, 3}, func(t *onnxpb.TensorProto) { t.RawData = floatRaw(6)[:23] }),
			want: "raw_data holds 23 bytes, FLOAT of shape [2 3] needs 24"},
		{name: "two data fields", mutate: with(onnxpb.TensorProto_FLOAT, []int64{1}, func(t *onnxpb.TensorProto) { t.FloatData = []float32{1}; t.RawData = floatRaw(1) }),
			want: "more than one data field (float_data, raw_data)"},
		{name: "wrong typed field", mutate: with(onnxpb.TensorProto_FLOAT, []int64{1}, func(t *onnxpb.TensorProto) { t.Int64Data = []int64{1} }),
			want: "FLOAT tensor must store its values in float_data (or raw_data), not int64_data"},
		{name: "no data", mutate: with(onnxpb.TensorProto_FLOAT, []int64{3}, func(*onnxpb.TensorProto) {}), want: "has 3 elements but no data field is set"},
		{name: "negative dim", mutate: with(onnxpb.TensorProto_FLOAT, []int64{2, -1}, func(*onnxpb.TensorProto) {}), want: "dims[1] is negative (-1)"},
		{name: "dims overflow", mutate: with(onnxpb.TensorProto_FLOAT, []int64{1 << 40, 1 << 40}, func(t *onnxpb.TensorProto) { t.FloatData = []float32{1} }),
			want: "overflows int64"},
		{name: "huge dims with a zero are empty", mutate: with(onnxpb.TensorProto_FLOAT, []int64{1 << 40, 1 << 40, 0}, func(*onnxpb.TensorProto) {})},
		{name: "empty tensor with data", mutate: with(onnxpb.TensorProto_FLOAT, []int64{0}, func(t *onnxpb.TensorProto) { t.FloatData = []float32{1} }), want: "has no elements but sets float_data"},
		{name: "string_data", mutate: with(onnxpb.TensorProto_STRING, []int64{2}, func(t *onnxpb.TensorProto) { t.StringData = [][]byte{[]byte("a"), []byte("b")} })},
		{name: "string in raw_data", mutate: with(onnxpb.TensorProto_STRING, []int64{2}, func(t *onnxpb.TensorProto) { t.RawData = []byte("ab") }), want: "STRING tensor must use string_data"},
		{name: "int4 packed two per int32", mutate: with(onnxpb.TensorProto_INT4, []int64{3}, func(t *onnxpb.TensorProto) { t.Int32Data = []int32{0x21, 0x3} })},
		{name: "int4 unpacked", mutate: with(onnxpb.TensorProto_INT4, []int64{3}, func(t *onnxpb.TensorProto) { t.Int32Data = []int32{1, 2, 3} }), want: "int32_data holds 3 values, INT4 of shape [3] needs 2"},
		{name: "int4 raw_data", mutate: with(onnxpb.TensorProto_INT4, []int64{3}, func(t *onnxpb.TensorProto) { t.RawData = []byte{0x21, 0x03} })},
		{name: "complex64 pairs", mutate: with(onnxpb.TensorProto_COMPLEX64, []int64{2}, func(t *onnxpb.TensorProto) { t.FloatData = []float32{1, 2, 3, 4} })},
		{name: "complex64 half", mutate: with(onnxpb.TensorProto_COMPLEX64, []int64{2}, func(t *onnxpb.TensorProto) { t.FloatData = []float32{1, 2} }), want: "needs 4"},
		{name: "uint32 in uint64_data", mutate: with(onnxpb.TensorProto_UINT32, []int64{1}, func(t *onnxpb.TensorProto) { t.Uint64Data = []uint64{7} })},
		{name: "external_data without EXTERNAL location", mutate: with(onnxpb.TensorProto_FLOAT, []int64{1}, func(t *onnxpb.TensorProto) {
			t.FloatData = []float32{1}
			t.ExternalData = []*onnxpb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("w.bin")}}
		}), want: "external_data entries but data_location is not EXTERNAL"},
	})
}

// externalTensor returns a FLOAT tensor of shape dims stored in location.
func externalTensor(location string, dims []int64, kv ...string) *onnxpb.TensorProto {
	t := typedTensor("T", onnxpb.TensorProto_FLOAT, dims...)
	t.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
	if location != "" {
		t.ExternalData = append(t.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String("location"), Value: proto.String(location)})
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.ExternalData = append(t.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return t
}

func TestExternalDataRules(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret.bin")
	if err := os.WriteFile(outside, make([]byte, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "w.bin"), filepath.Join(dir, "hard.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "single.bin"), make([]byte, 16), 0o644); err != nil {
		t.Fatal(err)
	}
	withExt := func(tensor *onnxpb.TensorProto) func(m *onnxpb.ModelProto) {
		return func(m *onnxpb.ModelProto) { m.Graph.Initializer = append(m.Graph.Initializer, tensor) }
	}
	inDir := Options{ModelDir: dir}
	full := Options{ModelDir: dir, FullCheck: true}
	runRuleCases(t, []ruleCase{
		{name: "no model dir: file not checked", mutate: withExt(externalTensor("missing.bin", []int64{4}))},
		{name: "file exists", mutate: withExt(externalTensor("single.bin", []int64{4})), opts: inDir},
		{name: "location missing", mutate: withExt(externalTensor("", []int64{4}, "offset", "0")), want: "external tensor has no location"},
		{name: "file missing", mutate: withExt(externalTensor("missing.bin", []int64{4})), opts: inDir, want: `external data file "missing.bin" does not exist`},
		{name: "absolute location", mutate: withExt(externalTensor("/etc/passwd", []int64{4})), want: "is an absolute path"},
		{name: "location escapes", mutate: withExt(externalTensor("sub/../../w.bin", []int64{4})), want: "points outside the model folder"},
		{name: "location inside after cleaning", mutate: withExt(externalTensor("sub/../single.bin", []int64{4})), opts: inDir},
		{name: "symlink", mutate: withExt(externalTensor("link.bin", []int64{4})), opts: inDir, want: "is a symbolic link"},
		{name: "hard link", mutate: withExt(externalTensor("hard.bin", []int64{4})), opts: inDir, want: "has more than one hard link"},
		{name: "directory", mutate: withExt(externalTensor("sub", []int64{4})), opts: inDir, want: "is not a regular file"},
		{name: "also inline data", mutate: withExt(func() *onnxpb.TensorProto {
			t := externalTensor("single.bin", []int64{4})
			t.RawData = floatRaw(4)
			return t
		}()), want: "stored externally but also sets raw_data"},
		{name: "bad offset", mutate: withExt(externalTensor("single.bin", []int64{4}, "offset", "-4")), want: `external_data offset "-4" is not a non-negative integer`},
		{name: "full check: range fits", mutate: withExt(externalTensor("single.bin", []int64{2}, "offset", "8", "length", "8")), opts: full},
		{name: "full check: length differs", mutate: withExt(externalTensor("single.bin", []int64{4}, "length", "8")), opts: full, want: "external data length 8 differs from the tensor size 16"},
		{name: "full check: beyond end", mutate: withExt(externalTensor("single.bin", []int64{4}, "offset", "8")), opts: full, want: "lies beyond the end"},
	})
}

func sparse(dims []int64, values []float32, indexDims []int64, indices ...int64) *onnxpb.SparseTensorProto {
	st := &onnxpb.SparseTensorProto{Dims: dims, Values: floatTensor("S", []int64{int64(len(values))}, values...)}
	if indexDims != nil {
		st.Indices = &onnxpb.TensorProto{DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: indexDims, Int64Data: indices}
	}
	return st
}

func TestSparseTensorRules(t *testing.T) {
	withSparse := func(st *onnxpb.SparseTensorProto) func(m *onnxpb.ModelProto) {
		return func(m *onnxpb.ModelProto) { m.Graph.SparseInitializer = append(m.Graph.SparseInitializer, st) }
	}
	runRuleCases(t, []ruleCase{
		{name: "linear indices", mutate: withSparse(sparse([]int64{10}, []float32{1, 2, 3}, []int64{3}, 1, 4, 9))},
		{name: "coordinate indices", mutate: withSparse(sparse([]int64{4, 5}, []float32{1, 2}, []int64{2, 2}, 0, 4, 3, 0))},
		{name: "raw_data indices", mutate: withSparse(func() *onnxpb.SparseTensorProto {
			st := sparse([]int64{10}, []float32{1, 2}, []int64{2})
			st.Indices.RawData = int64Raw(2, 7)
			return st
		}())},
		{name: "raw_data indices unsorted", mutate: withSparse(func() *onnxpb.SparseTensorProto {
			st := sparse([]int64{10}, []float32{1, 2}, []int64{2})
			st.Indices.RawData = int64Raw(7, 2)
			return st
		}()), want: "not strictly increasing at position 1"},
		{name: "linear indices unsorted", mutate: withSparse(sparse([]int64{10}, []float32{1, 2, 3}, []int64{3}, 1, 9, 4)), want: "not strictly increasing at position 2"},
		{name: "linear indices repeated", mutate: withSparse(sparse([]int64{10}, []float32{1, 2}, []int64{2}, 4, 4)), want: "not strictly increasing"},
		{name: "coordinate indices unsorted", mutate: withSparse(sparse([]int64{4, 5}, []float32{1, 2}, []int64{2, 2}, 3, 0, 0, 4)), want: "not strictly increasing"},
		{name: "linear index out of range", mutate: withSparse(sparse([]int64{10}, []float32{1}, []int64{1}, 10)), want: "index 10 at position 0 is out of range [0, 10)"},
		{name: "coordinate out of range", mutate: withSparse(sparse([]int64{4, 5}, []float32{1}, []int64{1, 2}, 0, 5)), want: "at position [0, 1] is out of range [0, 5)"},
		{name: "indices count differs", mutate: withSparse(sparse([]int64{10}, []float32{1, 2}, []int64{3}, 1, 2, 3)), want: "has 3 indices for 2 values"},
		{name: "indices shape wrong", mutate: withSparse(sparse([]int64{4, 5}, []float32{1}, []int64{1, 3}, 0, 1, 2)), want: "want [1, 2] (NNZ, rank)"},
		{name: "indices rank 3", mutate: withSparse(sparse([]int64{4, 5}, []float32{1}, []int64{1, 1, 2}, 0, 1)), want: "must have rank 1 or 2"},
		{name: "values rank 2", mutate: withSparse(func() *onnxpb.SparseTensorProto {
			st := sparse([]int64{10}, []float32{1, 2}, []int64{2}, 1, 2)
			st.Values.Dims = []int64{1, 2}
			return st
		}()), want: "values must have rank 1, not 2"},
		{name: "dims not positive", mutate: withSparse(sparse([]int64{10, 0}, []float32{}, nil)), want: "dims[1] is 0; dimensions must be positive"},
		{name: "no indices", mutate: withSparse(sparse([]int64{10}, []float32{1}, nil)), want: "has 1 values but no indices"},
		{name: "int32 indices", mutate: withSparse(func() *onnxpb.SparseTensorProto {
			st := sparse([]int64{10}, []float32{1}, []int64{1})
			st.Indices.DataType = proto.Int32(int32(onnxpb.TensorProto_INT32))
			st.Indices.Int32Data = []int32{3}
			return st
		}()), want: "indices must be INT64"},
		{name: "no values", mutate: withSparse(&onnxpb.SparseTensorProto{Dims: []int64{3}}), want: "has no name"},
		{name: "sparse attribute checked", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, node("c", "Constant", nil, []string{"C"}, &onnxpb.AttributeProto{
				Name: proto.String("sparse_value"), Type: onnxpb.AttributeProto_SPARSE_TENSOR.Enum(),
				SparseTensor: sparse([]int64{10}, []float32{1, 2}, []int64{2}, 5, 3),
			}))
		}, want: `node c (Constant): attribute "sparse_value": sparse tensor indices are not strictly increasing`},
	})
}

func TestAttributeRules(t *testing.T) {
	onRelu := func(a *onnxpb.AttributeProto) func(m *onnxpb.ModelProto) {
		return func(m *onnxpb.ModelProto) {
			// LeakyRelu-16 has one FLOAT attribute, alpha.
			m.OpsetImport[0].Version = proto.Int64(16)
			m.Graph.Node[0].OpType = proto.String("LeakyRelu")
			m.Graph.Node[0].Attribute = append(m.Graph.Node[0].Attribute, a)
		}
	}
	runRuleCases(t, []ruleCase{
		{name: "well formed", mutate: onRelu(attrFloat("alpha", 0.1))},
		{name: "empty name", mutate: onRelu(attrFloat("", 0.1)), want: "attribute: has an empty name"},
		{name: "no type", mutate: onRelu(&onnxpb.AttributeProto{Name: proto.String("alpha"), F: proto.Float32(1)}), want: `attribute "alpha": has no type (required for IR version >= 2)`},
		{name: "no type in IR 1", mutate: func(m *onnxpb.ModelProto) {
			m.IrVersion, m.OpsetImport = proto.Int64(1), nil
			m.Graph.Node[0].OpType = proto.String("LeakyRelu")
			m.Graph.Node[0].Attribute = []*onnxpb.AttributeProto{{Name: proto.String("alpha"), F: proto.Float32(1)}}
		}},
		{name: "unknown type", mutate: onRelu(&onnxpb.AttributeProto{Name: proto.String("alpha"), Type: onnxpb.AttributeProto_AttributeType(42).Enum()}), want: "has unknown type 42"},
		{name: "two value fields", mutate: onRelu(&onnxpb.AttributeProto{Name: proto.String("alpha"), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(1), Ints: []int64{1}}),
			want: "sets more than one value field (f, ints)"},
		{name: "type and field disagree", mutate: onRelu(&onnxpb.AttributeProto{Name: proto.String("alpha"), Type: onnxpb.AttributeProto_INT.Enum(), F: proto.Float32(1)}),
			want: "has type INT but sets field f (of type FLOAT)"},
		{name: "tensor attribute without tensor", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, node("c", "Constant", nil, []string{"C"}, &onnxpb.AttributeProto{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum()}))
		}, want: "has type TENSOR but no value in field t"},
		{name: "tensor attribute checked", mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, node("c", "Constant", nil, []string{"C"}, &onnxpb.AttributeProto{
				Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: floatTensor("v", []int64{2}, 1)}))
		}, want: `node c (Constant): attribute "value": tensor float_data holds 1 values`},
		{name: "duplicate attribute", mutate: func(m *onnxpb.ModelProto) {
			onRelu(attrFloat("alpha", 0.1))(m)
			onRelu(attrFloat("alpha", 0.2))(m)
		}, want: `attribute "alpha": appears more than once`},
		{name: "ref_attr_name outside a function", mutate: onRelu(&onnxpb.AttributeProto{Name: proto.String("alpha"), Type: onnxpb.AttributeProto_FLOAT.Enum(), RefAttrName: proto.String("a")}),
			want: `ref_attr_name "a" is only allowed inside a function body`},
	})
}

func TestSchemaRules(t *testing.T) {
	at := func(opset int64, n *onnxpb.NodeProto, inits ...*onnxpb.TensorProto) func(m *onnxpb.ModelProto) {
		return func(m *onnxpb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(opset)
			m.Graph.Initializer = inits
			m.Graph.Node = []*onnxpb.NodeProto{n}
		}
	}
	w := floatTensor("W", []int64{1, 1, 1}, 1)
	conv := func(attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return node("Conv_3", "Conv", []string{"X", "W"}, []string{"Y"}, attrs...)
	}
	runRuleCases(t, []ruleCase{
		{name: "known attribute", mutate: at(22, conv(attrInt("group", 1)), w)},
		{name: "unknown attribute", mutate: at(22, conv(attrInt("foo", 1)), w), want: `attribute "foo": is not an attribute of Conv-22`},
		{name: "internal attribute ignored", mutate: at(22, conv(attrInt("__hint", 1)), w)},
		{name: "attribute of the wrong type", mutate: at(22, conv(attrFloat("group", 1)), w), want: `attribute "group": has type FLOAT, Conv-22 expects INT`},
		{name: "required attribute present", mutate: at(25, node("c", "Cast", []string{"X"}, []string{"Y"}, attrInt("to", 1)))},
		{name: "required attribute missing", mutate: at(25, node("c", "Cast", []string{"X"}, []string{"Y"})), want: `attribute "to": is required by Cast-25 but missing`},
		{name: "too few inputs", mutate: at(13, node("g", "Gemm", []string{"X"}, []string{"Y"})), want: "inputs: has 1 inputs, the operator takes 2 to 3"},
		{name: "too many inputs", mutate: at(13, node("g", "Gemm", []string{"X", "X", "X", "X"}, []string{"Y"})), want: "has 4 inputs, the operator takes 2 to 3"},
		{name: "optional input given", mutate: at(13, node("g", "Gemm", []string{"X", "X", "X"}, []string{"Y"}))},
		{name: "variadic inputs", mutate: at(13, node("c", "Concat", []string{"X", "X", "X"}, []string{"Y"}, attrInt("axis", 0)))},
		{name: "variadic needs one", mutate: at(13, node("c", "Concat", nil, []string{"Y"}, attrInt("axis", 0))), want: "has 0 inputs, the operator takes at least 1"},
		{name: "too many outputs", mutate: at(14, node("r", "Relu", []string{"X"}, []string{"Y", "Z"})), want: "outputs: has 2 outputs, the operator takes exactly 1"},
		{name: "required input empty", mutate: at(13, node("g", "Gemm", []string{"", "X"}, []string{"Y"})), want: "input 0 (A): is required but the name is empty"},
		{name: "optional output empty", mutate: at(22, node("d", "Dropout", []string{"X"}, []string{"Y", ""}))},
		{name: "required output empty", mutate: at(22, node("d", "Dropout", []string{"X"}, []string{"", "M"})), want: "output 0 (output): is required but the name is empty"},
		// Operators.md details only the newest version of an operator, so an older version
		// in force is not checked against the signature: the limitation is deliberate.
		{name: "older version not checked against the newest signature", mutate: at(11, conv(attrInt("foo", 1)), w)},
	})
}

func TestErrorNamesNodeOpAndAttribute(t *testing.T) {
	m := base()
	m.OpsetImport[0].Version = proto.Int64(22)
	m.Graph.Name = proto.String("main_graph")
	m.Graph.Initializer = []*onnxpb.TensorProto{floatTensor("W", []int64{1, 1, 1}, 1)}
	m.Graph.Node = []*onnxpb.NodeProto{node("Conv_3", "Conv", []string{"X", "W"}, []string{"Y"}, attrFloat("group", 1))}
	problems := CheckModel(m, Options{})
	if len(problems) != 1 {
		t.Fatalf("got %d problems, want 1: %v", len(problems), problems)
	}
	p := problems[0]
	want := `graph main_graph / node Conv_3 (Conv): attribute "group": has type FLOAT, Conv-22 expects INT`
	if p.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", p.Error(), want)
	}
	if p.Node != "Conv_3" || p.Op != "Conv" || p.Field != `attribute "group"` || p.Path != "graph main_graph / node Conv_3 (Conv)" {
		t.Errorf("problem fields = %+v", p)
	}
	err := AsError(problems)
	if err == nil || !strings.Contains(err.Error(), "1 problems") || !strings.Contains(err.Error(), want) {
		t.Errorf("AsError = %v", err)
	}
	if AsError(nil) != nil {
		t.Error("AsError(nil) should be nil")
	}
}

func TestAllProblemsReported(t *testing.T) {
	m := base()
	m.IrVersion = nil
	m.Graph.Node = append(m.Graph.Node,
		node("a", "Relux", []string{"X"}, []string{"A"}),
		node("b", "Relu", []string{"Nope"}, []string{"B"}),
		node("c", "Relu", []string{"X"}, []string{"Y"}))
	problems := CheckModel(m, Options{})
	for _, want := range []string{"ir_version", "Relux", `"Nope"`, `output 0 "Y"`} {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p.Error(), want)
		}
		if !found {
			t.Errorf("no problem mentions %s in %v", want, problems)
		}
	}
}

func TestWarnings(t *testing.T) {
	m := base()
	m.Graph.Node = append(m.Graph.Node, node("relu", "Relu", []string{"Y"}, []string{"Z"}))
	m.Graph.ValueInfo = []*onnxpb.ValueInfoProto{tensorVI("ghost")}
	if got := CheckModel(m, Options{}); len(got) != 0 {
		t.Fatalf("warnings reported without Options.Warnings: %v", got)
	}
	got := CheckModel(m, Options{Warnings: true})
	var msgs []string
	for _, p := range got {
		if !p.Warning {
			t.Errorf("unexpected error %v", p)
		}
		msgs = append(msgs, p.Error())
	}
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{"warning: graph g / node relu (Relu): name: is also the name of node #0", `value_info "ghost": does not name a value`} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", joined, want)
		}
	}
	if AsError(got) != nil {
		t.Error("AsError should ignore warnings")
	}
}

func TestNilModel(t *testing.T) {
	if got := CheckModel(nil, Options{}); len(got) != 1 {
		t.Errorf("CheckModel(nil) = %v", got)
	}
	if got := CheckModel(&onnxpb.ModelProto{}, Options{}); len(got) < 2 {
		t.Errorf("empty model: %v", got)
	}
}
