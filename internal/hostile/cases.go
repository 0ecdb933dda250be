package hostile

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// ModelFile is the name every case gives its model inside its folder.
const ModelFile = "model.onnx"

// Case is one hostile input for the whittle command line: the files Write puts into an
// empty folder (always ModelFile, sometimes external data beside it or a link out of the
// folder), the command that reads them, and what the refusal must say.
type Case struct {
	// Name is short and unique: a test name and a folder name.
	Name string
	// Kind says, for the table in docs/hardening.md, what is hostile about the input.
	Kind string
	// Command is the whittle command run on the model; commands that write (optimize,
	// quantize, prune, convert, run) get an output path, which must not exist afterwards.
	Command string
	// Flags follow the model path (for example --random for run, --weight-only).
	Flags []string
	// Want is a fragment of the error: it names the file, node, op, tensor or limit at fault.
	Want string
	// Accepted marks the few inputs whittle reads on purpose (exit status 0); Want is then
	// a fragment of the output, and Kind says why.
	Accepted bool
	// Write creates the case's files in dir (an empty folder; outside is another empty
	// folder, for links that point out of the model's).
	Write func(dir, outside string) error
}

// writeModel encodes m into dir/ModelFile.
func writeModel(dir string, m *onnxpb.ModelProto) error {
	data, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ModelFile), data, 0o644)
}

// fromModel is a Write that stores m.
func fromModel(m func() *onnxpb.ModelProto) func(dir, outside string) error {
	return func(dir, _ string) error { return writeModel(dir, m()) }
}

// fromBytes is a Write that stores raw bytes as the model.
func fromBytes(b func() []byte) func(dir, outside string) error {
	return func(dir, _ string) error { return os.WriteFile(filepath.Join(dir, ModelFile), b(), 0o644) }
}

// outRank is the rank of oneNode's output for the ops whose output rank is not their
// first input's.
var outRank = map[string]int{"OneHot": 3, "Reshape": 3, "Expand": 2, "ConstantOfShape": 3, "Range": 1}

// oneNode is a model with float inputs of the given shapes (named x0, x1, ...; nil means
// no inputs), initializers, one node named n and one float output y of symbolic shape.
func oneNode(opset int64, inputs [][]int64, inits []*onnxpb.TensorProto, op string, in []string, attrs ...*onnxpb.AttributeProto) *onnxpb.ModelProto {
	rank, ok := outRank[op]
	if !ok && len(inputs) > 0 {
		rank = len(inputs[0])
	}
	out := floatType()
	shape := &onnxpb.TensorShapeProto{}
	for i := range rank {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "d" + strconv.Itoa(i)}})
	}
	out.GetTensorType().Shape = shape
	g := &onnxpb.GraphProto{
		Name:        proto.String("g"),
		Initializer: inits,
		Node:        []*onnxpb.NodeProto{named(node(op, in, []string{"y"}, attrs...), "n")},
		Output:      []*onnxpb.ValueInfoProto{{Name: proto.String("y"), Type: out}},
	}
	for i, dims := range inputs {
		g.Input = append(g.Input, tensorVI("x"+strconv.Itoa(i), onnxpb.TensorProto_FLOAT, dims...))
	}
	return model(opset, g)
}

// floatType is a float tensor of unknown rank.
func floatType() *onnxpb.TypeProto {
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}}}
}

// reluModel is x0 float[2,3] -> Relu -> y, the base that many cases break in one place.
func reluModel() *onnxpb.ModelProto {
	return oneNode(13, [][]int64{{2, 3}}, nil, "Relu", []string{"x0"})
}

// withExternal is x0 + W where W is float[2,3] stored externally with the given keys.
func withExternal(kv ...string) *onnxpb.ModelProto {
	w := &onnxpb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{2, 3},
		DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()}
	for i := 0; i+1 < len(kv); i += 2 {
		w.ExternalData = append(w.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return oneNode(13, [][]int64{{2, 3}}, []*onnxpb.TensorProto{w}, "Add", []string{"x0", "W"})
}

// externalCase writes withExternal(kv...) and a 24-byte w.bin beside it.
func externalCase(kv ...string) func(dir, outside string) error {
	return func(dir, _ string) error {
		if err := os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, 24), 0o644); err != nil {
			return err
		}
		return writeModel(dir, withExternal(kv...))
	}
}

// bigList is an INTS attribute of n zeros, encoded by hand (packed varints, one byte
// each) so that building it costs n bytes, not a []int64 of n.
func bigListModel(n int) []byte {
	base, _ := proto.Marshal(reluModel())
	// AttributeProto: name (1) = "perm", type (20) = INTS (7), ints (8) packed.
	var attr []byte
	attr = protowire.AppendTag(attr, 1, protowire.BytesType)
	attr = protowire.AppendString(attr, "perm")
	attr = protowire.AppendTag(attr, 20, protowire.VarintType)
	attr = protowire.AppendVarint(attr, uint64(onnxpb.AttributeProto_INTS))
	attr = protowire.AppendTag(attr, 8, protowire.BytesType)
	attr = protowire.AppendBytes(attr, make([]byte, n))
	// NodeProto: input (1), output (2), name (3), op_type (4), attribute (5).
	var n0 []byte
	n0 = protowire.AppendTag(n0, 1, protowire.BytesType)
	n0 = protowire.AppendString(n0, "x0")
	n0 = protowire.AppendTag(n0, 2, protowire.BytesType)
	n0 = protowire.AppendString(n0, "t")
	n0 = protowire.AppendTag(n0, 3, protowire.BytesType)
	n0 = protowire.AppendString(n0, "transpose")
	n0 = protowire.AppendTag(n0, 4, protowire.BytesType)
	n0 = protowire.AppendString(n0, "Transpose")
	n0 = protowire.AppendTag(n0, 5, protowire.BytesType)
	n0 = protowire.AppendBytes(n0, attr)
	// GraphProto.node is field 1; ModelProto.graph is field 7. Appending a second graph
	// field merges it into the first, so the node lands in the main graph.
	var g []byte
	g = protowire.AppendTag(g, 1, protowire.BytesType)
	g = protowire.AppendBytes(g, n0)
	out := bytes.Clone(base)
	out = protowire.AppendTag(out, 7, protowire.BytesType)
	return protowire.AppendBytes(out, g)
}

// nestedSequence is a model whose input is a sequence of sequences ... depth levels deep.
func nestedSequence(depth int) *onnxpb.ModelProto {
	t := floatType()
	for range depth {
		t = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{ElemType: t}}}
	}
	g := &onnxpb.GraphProto{
		Name:   proto.String("g"),
		Input:  []*onnxpb.ValueInfoProto{{Name: proto.String("s"), Type: t}},
		Node:   []*onnxpb.NodeProto{named(node("Identity", []string{"s"}, []string{"y"}), "n")},
		Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y"), Type: t}},
	}
	return model(13, g)
}

// ifModel is an If on bool input cond whose branches are then_/else_; the main graph has
// x0 float[2] and writes y.
func ifModel(thenG, elseG *onnxpb.GraphProto) *onnxpb.ModelProto {
	g := &onnxpb.GraphProto{
		Name:   proto.String("g"),
		Input:  []*onnxpb.ValueInfoProto{tensorVI("cond", onnxpb.TensorProto_BOOL), tensorVI("x0", onnxpb.TensorProto_FLOAT, 2)},
		Node:   []*onnxpb.NodeProto{named(node("If", []string{"cond"}, []string{"y"}, attrGraph("then_branch", thenG), attrGraph("else_branch", elseG)), "if")},
		Output: []*onnxpb.ValueInfoProto{tensorVI("y", onnxpb.TensorProto_FLOAT, 2)},
	}
	return model(13, g)
}

func branch(name, op string, in []string, out string) *onnxpb.GraphProto {
	return &onnxpb.GraphProto{
		Name:   proto.String(name),
		Node:   []*onnxpb.NodeProto{named(node(op, in, []string{out}), name+"_node")},
		Output: []*onnxpb.ValueInfoProto{tensorVI(out, onnxpb.TensorProto_FLOAT, 2)},
	}
}

// recursiveFunction is a model whose local function f calls itself.
func recursiveFunction() *onnxpb.ModelProto {
	m := oneNode(13, [][]int64{{2}}, nil, "f", []string{"x0"})
	m.Graph.Node[0].Domain = proto.String("local")
	m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String("local"), Version: proto.Int64(1)})
	m.Functions = []*onnxpb.FunctionProto{{
		Name: proto.String("f"), Domain: proto.String("local"),
		Input: []string{"a"}, Output: []string{"b"},
		OpsetImport: m.OpsetImport,
		Node: []*onnxpb.NodeProto{
			named(&onnxpb.NodeProto{OpType: proto.String("f"), Domain: proto.String("local"), Input: []string{"a"}, Output: []string{"b"}}, "again"),
		},
	}}
	return m
}

// sparseModel is x0 float[2,3] + W where W is a sparse initializer of the given dense
// shape holding the value 1 at linear index at.
func sparseModel(dims []int64, at int64) *onnxpb.ModelProto {
	m := oneNode(13, [][]int64{{2, 3}}, nil, "Add", []string{"x0", "W"})
	m.Graph.SparseInitializer = []*onnxpb.SparseTensorProto{{
		Values:  floatTensor("W", []int64{1}, 1),
		Indices: int64Tensor("", []int64{1}, at),
		Dims:    dims,
	}}
	return m
}

// nanWeights is x0 float[1,4] MatMul W float[4,3] whose weights hold NaN and ±Inf.
func nanWeights() *onnxpb.ModelProto {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	w := floatTensor("W", []int64{4, 3}, 1, nan, 3, inf, -inf, 6, 7, 8, nan, 10, 11, 12)
	m := oneNode(13, [][]int64{{1, 4}}, []*onnxpb.TensorProto{w}, "MatMul", []string{"x0", "W"})
	m.Graph.Node[0].Name = proto.String("matmul")
	return m
}

// Cases returns the hostile inputs of the table in docs/hardening.md, in its order.
// Adding one: give it a Want that names what is at fault, run TestHostileInputs, and
// regenerate the table (see docs/hardening.md).
func Cases() []Case {
	big := int64(1) << 40
	return []Case{
		// Files that are not (whole) models.
		{Name: "empty", Kind: "empty file", Command: "check", Want: "empty file",
			Write: fromBytes(func() []byte { return nil })},
		{Name: "truncated", Kind: "model truncated by 7 bytes", Command: "check", Want: "truncated",
			Write: fromBytes(func() []byte { b, _ := proto.Marshal(reluModel()); return b[:len(b)-7] })},
		{Name: "text", Kind: "text, not protobuf", Command: "inspect", Want: "decode",
			Write: fromBytes(func() []byte { return []byte("this is not a model, just text\n") })},

		// Limits checked while decoding.
		{Name: "nested-if-4097", Kind: "If nested 4,097 deep, one past the limit (valid, 664 KB)", Command: "run", Flags: []string{"--random"}, Want: "subgraph nesting depth 4097 exceeds",
			Write: fromModel(func() *onnxpb.ModelProto { return NestedIf(4097) })},
		{Name: "nested-if-10k", Kind: "If nested 10,000 deep (valid, 1.6 MB)", Command: "check", Want: "nesting depth exceeds",
			Write: fromModel(func() *onnxpb.ModelProto { return NestedIf(10000) })},
		{Name: "nested-types", Kind: "sequence type nested 100 deep", Command: "check", Want: "type nesting depth",
			Write: fromModel(func() *onnxpb.ModelProto { return nestedSequence(100) })},
		{Name: "huge-attr-list", Kind: "list attribute of 2^24+1 ints (17 MB)", Command: "inspect", Want: `attribute "perm": attribute list length`,
			Write: fromBytes(func() []byte { return bigListModel(1<<24 + 1) })},
		{Name: "long-name", Kind: "node name of 65,537 bytes", Command: "check", Want: "name",
			Write: fromModel(func() *onnxpb.ModelProto {
				m := reluModel()
				m.Graph.Node[0].Name = proto.String(strings.Repeat("n", 1<<16+1))
				return m
			})},

		// Tensors whose declared size lies.
		{Name: "dims-overflow", Kind: "initializer dims 2^32 x 2^32 (product overflows)", Command: "check", Want: "big",
			Write: fromModel(func() *onnxpb.ModelProto {
				m := reluModel()
				m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("big"),
					DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{1 << 32, 1 << 32}, RawData: []byte{1, 2, 3, 4}})
				return m
			})},
		{Name: "huge-declared", Kind: "initializer float[2^20, 2^20] (4 TiB) with 4 bytes of data", Command: "run", Flags: []string{"--random"}, Want: "W",
			Write: fromModel(func() *onnxpb.ModelProto {
				w := &onnxpb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{1 << 20, 1 << 20}, RawData: []byte{0, 0, 0x80, 0x3f}}
				return oneNode(13, [][]int64{{1, 1 << 20}}, []*onnxpb.TensorProto{w}, "MatMul", []string{"x0", "W"})
			})},
		{Name: "negative-dim-init", Kind: "initializer with a negative dimension", Command: "optimize", Want: "W",
			Write: fromModel(func() *onnxpb.ModelProto {
				w := floatTensor("W", []int64{-2, 3}, 1, 2, 3, 4, 5, 6)
				return oneNode(13, [][]int64{{2, 3}}, []*onnxpb.TensorProto{w}, "Add", []string{"x0", "W"})
			})},
		{Name: "negative-dim-input", Kind: "graph input declared float[-5, 3]: accepted, the negative size read as unknown (exporters write -1), --random makes it 1",
			Command: "run", Flags: []string{"--random"}, Want: "y: float[1 3]", Accepted: true,
			Write: fromModel(func() *onnxpb.ModelProto { return oneNode(13, [][]int64{{-5, 3}}, nil, "Relu", []string{"x0"}) })},
		{Name: "huge-input", Kind: "graph input declared float[2^20, 2^20] (4 TiB), filled by run --random", Command: "run", Flags: []string{"--random"}, Want: "x0",
			Write: fromModel(func() *onnxpb.ModelProto {
				return oneNode(13, [][]int64{{1 << 20, 1 << 20}}, nil, "Relu", []string{"x0"})
			})},
		{Name: "huge-input-overflow", Kind: "graph input declared float[2^40, 2^40] (element count overflows), run --random", Command: "run", Flags: []string{"--random"}, Want: "x0",
			Write: fromModel(func() *onnxpb.ModelProto {
				return oneNode(13, [][]int64{{1 << 40, 1 << 40}}, nil, "Relu", []string{"x0"})
			})},
		{Name: "bad-dtype", Kind: "initializer of element type 999", Command: "optimize", Want: "W",
			Write: fromModel(func() *onnxpb.ModelProto {
				w := &onnxpb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(999), Dims: []int64{2, 3}, RawData: make([]byte, 24)}
				return oneNode(13, [][]int64{{2, 3}}, []*onnxpb.TensorProto{w}, "Add", []string{"x0", "W"})
			})},

		{Name: "sparse-huge", Kind: "sparse initializer of dense shape [2^20, 2^20] (4 TiB) holding one value", Command: "run", Flags: []string{"--random"}, Want: "W",
			Write: fromModel(func() *onnxpb.ModelProto { return sparseModel([]int64{1 << 20, 1 << 20}, 5) })},
		{Name: "sparse-index-range", Kind: "sparse initializer whose index lies past its dense size", Command: "run", Flags: []string{"--random"}, Want: "W",
			Write: fromModel(func() *onnxpb.ModelProto { return sparseModel([]int64{2, 3}, 1<<40) })},

		// External data.
		{Name: "ext-dotdot", Kind: "external data at ../w.bin (outside the model's folder)", Command: "check", Want: "W",
			Write: externalCase("location", "../w.bin")},
		{Name: "ext-absolute", Kind: "external data at an absolute path (/etc/passwd)", Command: "inspect", Want: "W",
			Write: externalCase("location", "/etc/passwd")},
		{Name: "ext-symlink", Kind: "external data through a symlink leading out of the folder", Command: "run", Flags: []string{"--random"}, Want: "W",
			Write: func(dir, outside string) error {
				secret := filepath.Join(outside, "secret.bin")
				if err := os.WriteFile(secret, make([]byte, 24), 0o644); err != nil {
					return err
				}
				if err := os.Symlink(secret, filepath.Join(dir, "link.bin")); err != nil {
					return err
				}
				return writeModel(dir, withExternal("location", "link.bin"))
			}},
		{Name: "ext-missing", Kind: "external data file missing", Command: "optimize", Want: "absent.bin",
			Write: externalCase("location", "absent.bin")},
		{Name: "ext-past-eof", Kind: "external data offset past the file's end", Command: "quantize", Flags: []string{"--weight-only"}, Want: "W",
			Write: externalCase("location", "w.bin", "offset", "4096")},
		{Name: "ext-length-overflow", Kind: "external data length 2^63-1 (offset+length overflows)", Command: "convert", Want: "W",
			Write: externalCase("location", "w.bin", "offset", "8", "length", strconv.FormatInt(math.MaxInt64, 10))},
		{Name: "ext-short", Kind: "external data shorter than the declared float[2,3]", Command: "prune", Flags: []string{"--sparsity", "0.5"}, Want: "W",
			Write: externalCase("location", "w.bin", "offset", "8")},
		{Name: "ext-directory", Kind: "external data location is a directory", Command: "check", Want: "W",
			Write: func(dir, outside string) error {
				if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
					return err
				}
				return writeModel(dir, withExternal("location", "sub"))
			}},

		{Name: "ext-fifo", Kind: "external data location is a named pipe (reading it would block)", Command: "run", Flags: []string{"--random"}, Want: "W",
			Write: func(dir, outside string) error {
				if err := mkfifo(filepath.Join(dir, "pipe")); err != nil {
					return err
				}
				return writeModel(dir, withExternal("location", "pipe"))
			}},

		// Graph structure.
		{Name: "cycle", Kind: "cycle in the main graph", Command: "optimize", Want: "B",
			Write: fromModel(func() *onnxpb.ModelProto {
				m := reluModel()
				m.Graph.Node = []*onnxpb.NodeProto{
					named(node("Add", []string{"x0", "B"}, []string{"A"}), "a"),
					named(node("Relu", []string{"A"}, []string{"B"}), "b"),
					named(node("Relu", []string{"B"}, []string{"y"}), "c"),
				}
				return m
			})},
		{Name: "subgraph-cycle", Kind: "If branch reading the If's own output (cyclic subgraph reference)", Command: "run", Flags: []string{"--random"}, Want: "y",
			Write: fromModel(func() *onnxpb.ModelProto {
				return ifModel(branch("then", "Relu", []string{"y"}, "t"), branch("else", "Identity", []string{"x0"}, "e"))
			})},
		{Name: "recursive-function", Kind: "model-local function calling itself", Command: "check", Want: "calls itself (f -> f)",
			Write: fromModel(recursiveFunction)},
		{Name: "shadowed-name", Kind: "subgraph redefining an outer name (cond) in its scope", Command: "check", Want: `"cond": redefines a value of an enclosing graph`,
			Write: fromModel(func() *onnxpb.ModelProto {
				return ifModel(branch("then", "Relu", []string{"x0"}, "cond"), branch("else", "Identity", []string{"x0"}, "e"))
			})},
		{Name: "duplicate-output", Kind: "two nodes writing the same name", Command: "optimize", Want: "y",
			Write: fromModel(func() *onnxpb.ModelProto {
				m := reluModel()
				m.Graph.Node = append(m.Graph.Node, named(node("Relu", []string{"x0"}, []string{"y"}), "again"))
				return m
			})},
		{Name: "unknown-op", Kind: "unknown operator", Command: "run", Flags: []string{"--random"}, Want: "Frobnicate",
			Write: fromModel(func() *onnxpb.ModelProto { return oneNode(13, [][]int64{{2}}, nil, "Frobnicate", []string{"x0"}) })},
		{Name: "opset-huge", Kind: "default-domain opset 1,000,000: accepted (as by onnx's checker), each operator at its newest version",
			Command: "optimize", Want: "wrote", Accepted: true,
			Write: fromModel(func() *onnxpb.ModelProto { return oneNode(1000000, [][]int64{{2}}, nil, "Relu", []string{"x0"}) })},

		// Valid models that ask for too much, or for something undefined, at run time.
		{Name: "expand-32g", Kind: "Expand to 2^33 floats (32 GiB) from a 100-byte file", Command: "run", Want: `"expand" (Expand)`,
			Write: fromModel(func() *onnxpb.ModelProto { return ExpandHuge(1 << 33) })},
		{Name: "expand-overflow", Kind: "Expand to 2^40 x 2^40 (element count overflows)", Command: "run", Want: "Expand",
			Write: fromModel(func() *onnxpb.ModelProto {
				s := int64Tensor("s", []int64{2}, big, big)
				return oneNode(13, nil, []*onnxpb.TensorProto{floatTensor("x", []int64{1}, 1), s}, "Expand", []string{"x", "s"})
			})},
		{Name: "constantofshape-huge", Kind: "ConstantOfShape [2^20, 2^20, 2^20]", Command: "run", Want: "ConstantOfShape",
			Write: fromModel(func() *onnxpb.ModelProto {
				s := int64Tensor("s", []int64{3}, 1<<20, 1<<20, 1<<20)
				return oneNode(13, nil, []*onnxpb.TensorProto{s}, "ConstantOfShape", []string{"s"})
			})},
		{Name: "range-overflow", Kind: "Range from -2^63 to 2^63-1 (count overflows)", Command: "run", Want: "Range",
			Write: fromModel(func() *onnxpb.ModelProto {
				m := oneNode(13, nil, []*onnxpb.TensorProto{int64Tensor("a", nil, math.MinInt64), int64Tensor("b", nil, math.MaxInt64), int64Tensor("d", nil, 1)},
					"Range", []string{"a", "b", "d"})
				m.Graph.Output[0].Type.GetTensorType().ElemType = proto.Int32(int32(onnxpb.TensorProto_INT64))
				return m
			})},
		{Name: "range-zero-delta", Kind: "Range with delta 0 (endless)", Command: "run", Want: "Range",
			Write: fromModel(func() *onnxpb.ModelProto {
				return oneNode(13, nil, []*onnxpb.TensorProto{floatTensor("a", nil, 0), floatTensor("b", nil, 10), floatTensor("d", nil, 0)},
					"Range", []string{"a", "b", "d"})
			})},
		{Name: "tile-overflow", Kind: "Tile by repeats [2^62, 4] (overflows)", Command: "run", Flags: []string{"--random"}, Want: "Tile",
			Write: fromModel(func() *onnxpb.ModelProto {
				r := int64Tensor("r", []int64{2}, 1<<62, 4)
				return oneNode(13, [][]int64{{2, 3}}, []*onnxpb.TensorProto{r}, "Tile", []string{"x0", "r"})
			})},
		{Name: "reshape-overflow", Kind: "Reshape of 6 floats to [2^40, 2^40, -1]", Command: "run", Flags: []string{"--random"}, Want: "Reshape",
			Write: fromModel(func() *onnxpb.ModelProto {
				s := int64Tensor("s", []int64{3}, big, big, -1)
				return oneNode(13, [][]int64{{2, 3}}, []*onnxpb.TensorProto{s}, "Reshape", []string{"x0", "s"})
			})},
		{Name: "pad-huge", Kind: "Pad by 2^40 on one side", Command: "run", Flags: []string{"--random"}, Want: "Pad",
			Write: fromModel(func() *onnxpb.ModelProto {
				p := int64Tensor("p", []int64{4}, 0, 0, 0, big)
				return oneNode(13, [][]int64{{2, 3}}, []*onnxpb.TensorProto{p}, "Pad", []string{"x0", "p"})
			})},
		{Name: "resize-huge", Kind: "Resize by scale 10^9", Command: "run", Flags: []string{"--random"}, Want: "Resize",
			Write: fromModel(func() *onnxpb.ModelProto {
				sc := floatTensor("sc", []int64{4}, 1, 1, 1e9, 1e9)
				return oneNode(13, [][]int64{{1, 1, 2, 3}}, []*onnxpb.TensorProto{floatTensor("roi", []int64{0}), sc}, "Resize", []string{"x0", "roi", "sc"})
			})},
		{Name: "onehot-huge", Kind: "OneHot of depth 2^40", Command: "run", Flags: []string{"--random"}, Want: "OneHot",
			Write: fromModel(func() *onnxpb.ModelProto {
				return oneNode(13, [][]int64{{2, 3}}, []*onnxpb.TensorProto{int64Tensor("d", nil, big), floatTensor("v", []int64{2}, 0, 1)}, "OneHot", []string{"x0", "d", "v"})
			})},
		{Name: "maxpool-empty", Kind: "1x1 map into MaxPool 2x2 stride 2 (empty output)", Command: "run", Flags: []string{"--random"}, Want: "MaxPool",
			Write: fromModel(func() *onnxpb.ModelProto {
				return oneNode(13, [][]int64{{1, 1, 1, 1}}, nil, "MaxPool", []string{"x0"}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2))
			})},
		{Name: "conv-empty", Kind: "3x3 kernel over a 2x2 map, no padding (empty output)", Command: "run", Flags: []string{"--random"}, Want: "Conv",
			Write: fromModel(func() *onnxpb.ModelProto {
				w := floatTensor("w", []int64{1, 1, 3, 3}, 1, 1, 1, 1, 1, 1, 1, 1, 1)
				return oneNode(13, [][]int64{{1, 1, 2, 2}}, []*onnxpb.TensorProto{w}, "Conv", []string{"x0", "w"})
			})},
		{Name: "zero-dim-gather", Kind: "Gather index 0 from a zero-sized axis", Command: "run", Flags: []string{"--random"}, Want: "Gather",
			Write: fromModel(func() *onnxpb.ModelProto {
				return oneNode(13, [][]int64{{0, 3}}, []*onnxpb.TensorProto{int64Tensor("i", []int64{1}, 0)}, "Gather", []string{"x0", "i"})
			})},
		{Name: "conv-group-zero", Kind: "Conv with group 0", Command: "run", Flags: []string{"--random"}, Want: "Conv",
			Write: fromModel(func() *onnxpb.ModelProto {
				w := floatTensor("w", []int64{1, 1, 1, 1}, 1)
				return oneNode(13, [][]int64{{1, 1, 2, 2}}, []*onnxpb.TensorProto{w}, "Conv", []string{"x0", "w"}, attrInt("group", 0))
			})},
		// Under the default budget (three quarters of memory) it stops at 16 GiB; the table
		// shows a small budget, which CI can afford.
		{Name: "loop-doubling", Kind: "Loop doubling a tensor on each of 64 trips (2^64 elements at the end), under --max-memory 256MiB", Command: "run",
			Flags: []string{"--random", "--max-memory", "256MiB"}, Want: `node "double" (Concat)`,
			Write: fromModel(LoopDoubling)},
		{Name: "loop-forever", Kind: "Loop of 2^62 trips under --timeout 300ms", Command: "run", Flags: []string{"--random", "--timeout", "300ms"}, Want: "--timeout",
			Write: fromModel(func() *onnxpb.ModelProto { return LoopForever(1 << 62) })},

		// Weights quantization cannot represent.
		{Name: "nan-weights", Kind: "NaN and ±Inf weights into quantize --weight-only", Command: "quantize", Flags: []string{"--weight-only"}, Want: "W",
			Write: fromModel(nanWeights)},
		{Name: "nan-weights-dynamic", Kind: "NaN and ±Inf weights into quantize --dynamic", Command: "quantize", Flags: []string{"--dynamic"}, Want: "W",
			Write: fromModel(nanWeights)},
		{Name: "nan-weights-prune", Kind: "NaN and ±Inf weights into prune", Command: "prune", Flags: []string{"--sparsity", "0.5"}, Want: "W",
			Write: fromModel(nanWeights)},
	}
}
