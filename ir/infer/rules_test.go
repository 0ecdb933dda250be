package infer_test

import (
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestElementwiseRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "unary keeps type", build: func(b *builder) *ir.Node {
			return b.node("Relu", []*ir.Value{b.input("x", "float[N,3]")}, 1)
		}, want: []string{"float[N,3]"}},
		{name: "broadcast N with 1 and known", build: func(b *builder) *ir.Node {
			return b.node("Add", []*ir.Value{b.input("x", "float[N,3,1]"), b.input("y", "float[4]")}, 1)
		}, want: []string{"float[N,3,4]"}},
		{name: "broadcast N with N", build: func(b *builder) *ir.Node {
			return b.node("Mul", []*ir.Value{b.input("x", "float[N,1]"), b.input("y", "float[N,5]")}, 1)
		}, want: []string{"float[N,5]"}},
		{name: "broadcast N with M gives a fresh name", build: func(b *builder) *ir.Node {
			return b.node("Sub", []*ir.Value{b.input("x", "float[N]"), b.input("y", "float[M]")}, 1)
		}, want: []string{"float[unk__0]"}},
		{name: "broadcast mismatch", build: func(b *builder) *ir.Node {
			return b.node("Add", []*ir.Value{b.input("x", "float[2,3]"), b.input("y", "float[4]")}, 1)
		}, wantProblem: "not broadcastable"},
		{name: "element type mismatch", build: func(b *builder) *ir.Node {
			return b.node("Add", []*ir.Value{b.input("x", "float[2]"), b.input("y", "int64[2]")}, 1)
		}, wantProblem: "element type int64 differs"},
		{name: "unknown rank", build: func(b *builder) *ir.Node {
			return b.node("Div", []*ir.Value{b.input("x", "float"), b.input("y", "float[2]")}, 1)
		}, want: []string{"float"}},
		{name: "comparison gives bool", build: func(b *builder) *ir.Node {
			return b.node("Less", []*ir.Value{b.input("x", "int64[N,1]"), b.input("y", "int64[1,7]")}, 1)
		}, want: []string{"bool[N,7]"}},
		{name: "where takes the value type", build: func(b *builder) *ir.Node {
			return b.node("Where", []*ir.Value{b.input("c", "bool[N,1]"), b.input("x", "float16[1,4]"), b.input("y", "float16[4]")}, 1)
		}, want: []string{"float16[N,4]"}},
		{name: "variadic sum", build: func(b *builder) *ir.Node {
			return b.node("Sum", []*ir.Value{b.input("a", "double[3,1]"), b.input("b", "double[1,2]"), b.input("c", "double[2]")}, 1)
		}, want: []string{"double[3,2]"}},
		{name: "pow keeps the base type", build: func(b *builder) *ir.Node {
			return b.node("Pow", []*ir.Value{b.input("x", "float[3]"), b.input("y", "int64[]")}, 1)
		}, want: []string{"float[3]"}},
		{name: "cast", build: func(b *builder) *ir.Node {
			return b.node("Cast", []*ir.Value{b.input("x", "float[N,2]")}, 1, ir.IntAttr("to", int64(ir.Int64)))
		}, want: []string{"int64[N,2]"}},
		{name: "castlike", build: func(b *builder) *ir.Node {
			return b.node("CastLike", []*ir.Value{b.input("x", "float[N,2]"), b.input("y", "int8[]")}, 1)
		}, want: []string{"int8[N,2]"}},
		{name: "isnan", build: func(b *builder) *ir.Node {
			return b.node("IsNaN", []*ir.Value{b.input("x", "float[N,2]")}, 1)
		}, want: []string{"bool[N,2]"}},
		{name: "dropout-13 mask is bool", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Dropout", []*ir.Value{b.input("x", "float[N,2]")}, 2)
		}, want: []string{"float[N,2]", "bool[N,2]"}},
		{name: "dropout-7 mask has the input type", opset: 7, build: func(b *builder) *ir.Node {
			return b.node("Dropout", []*ir.Value{b.input("x", "float[N,2]")}, 2)
		}, want: []string{"float[N,2]", "float[N,2]"}},
		{name: "layernorm statistics", build: func(b *builder) *ir.Node {
			return b.node("LayerNormalization", []*ir.Value{b.input("x", "float16[B,S,8]"), b.input("s", "float16[8]")}, 3)
		}, want: []string{"float16[B,S,8]", "float[B,S,1]", "float[B,S,1]"}},
		{name: "batchnorm", build: func(b *builder) *ir.Node {
			return b.node("BatchNormalization", []*ir.Value{b.input("x", "float[N,3,H,W]"), b.weight(3), b.weight(3), b.weight(3), b.weight(3)}, 1)
		}, want: []string{"float[N,3,H,W]"}},
	})
}

func TestShapeRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "shape", build: func(b *builder) *ir.Node {
			return b.node("Shape", []*ir.Value{b.input("x", "float[N,3,4]")}, 1)
		}, want: []string{"int64[3]"}},
		{name: "shape-15 start", opset: 15, build: func(b *builder) *ir.Node {
			return b.node("Shape", []*ir.Value{b.input("x", "float[N,3,4]")}, 1, ir.IntAttr("start", -2))
		}, want: []string{"int64[2]"}},
		{name: "reshape 0 and -1 keep the batch", build: func(b *builder) *ir.Node {
			return b.node("Reshape", []*ir.Value{b.input("x", "float[N,3,4]"), b.ints(0, -1)}, 1)
		}, want: []string{"float[N,12]"}},
		{name: "reshape -1 solves for the batch", build: func(b *builder) *ir.Node {
			return b.node("Reshape", []*ir.Value{b.input("x", "float[N,3,4]"), b.ints(-1, 2, 6)}, 1)
		}, want: []string{"float[N,2,6]"}},
		{name: "reshape -1 known", build: func(b *builder) *ir.Node {
			return b.node("Reshape", []*ir.Value{b.input("x", "float[2,3,4]"), b.ints(4, -1)}, 1)
		}, want: []string{"float[4,6]"}},
		{name: "reshape volume mismatch", build: func(b *builder) *ir.Node {
			return b.node("Reshape", []*ir.Value{b.input("x", "float[2,3]"), b.ints(4, 2)}, 1)
		}, wantProblem: "cannot reshape"},
		{name: "reshape-1 shape attribute", opset: 1, build: func(b *builder) *ir.Node {
			return b.node("Reshape", []*ir.Value{b.input("x", "float[2,3]")}, 1, ir.IntsAttr("shape", 3, 2))
		}, want: []string{"float[3,2]"}},
		{name: "reshape to a runtime shape keeps the rank", build: func(b *builder) *ir.Node {
			return b.node("Reshape", []*ir.Value{b.input("x", "float[2,3]"), b.input("s", "int64[3]")}, 1)
		}, want: []string{"float[?,?,?]"}},
		{name: "flatten", build: func(b *builder) *ir.Node {
			return b.node("Flatten", []*ir.Value{b.input("x", "float[N,3,4,5]")}, 1)
		}, want: []string{"float[N,60]"}},
		{name: "flatten axis 0", build: func(b *builder) *ir.Node {
			return b.node("Flatten", []*ir.Value{b.input("x", "float[2,3]")}, 1, ir.IntAttr("axis", 0))
		}, want: []string{"float[1,6]"}},
		{name: "squeeze-11 attribute", opset: 11, build: func(b *builder) *ir.Node {
			return b.node("Squeeze", []*ir.Value{b.input("x", "float[N,1,4]")}, 1, ir.IntsAttr("axes", 1))
		}, want: []string{"float[N,4]"}},
		{name: "squeeze-13 input", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Squeeze", []*ir.Value{b.input("x", "float[N,1,4]"), b.ints(-2)}, 1)
		}, want: []string{"float[N,4]"}},
		{name: "squeeze a non-1 axis", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Squeeze", []*ir.Value{b.input("x", "float[N,2,4]"), b.ints(1)}, 1)
		}, wantProblem: "not 1"},
		{name: "squeeze all", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Squeeze", []*ir.Value{b.input("x", "float[1,2,1]")}, 1)
		}, want: []string{"float[2]"}},
		{name: "unsqueeze-11 attribute", opset: 11, build: func(b *builder) *ir.Node {
			return b.node("Unsqueeze", []*ir.Value{b.input("x", "float[N,4]")}, 1, ir.IntsAttr("axes", 0, 3))
		}, want: []string{"float[1,N,4,1]"}},
		{name: "unsqueeze-13 input", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Unsqueeze", []*ir.Value{b.input("x", "float[N,4]"), b.ints(-1)}, 1)
		}, want: []string{"float[N,4,1]"}},
		{name: "transpose default reverses", build: func(b *builder) *ir.Node {
			return b.node("Transpose", []*ir.Value{b.input("x", "float[N,3,4]")}, 1)
		}, want: []string{"float[4,3,N]"}},
		{name: "transpose perm", build: func(b *builder) *ir.Node {
			return b.node("Transpose", []*ir.Value{b.input("x", "float[N,3,4]")}, 1, ir.IntsAttr("perm", 0, 2, 1))
		}, want: []string{"float[N,4,3]"}},
		{name: "concat", build: func(b *builder) *ir.Node {
			return b.node("Concat", []*ir.Value{b.input("x", "float[N,3]"), b.input("y", "float[N,5]")}, 1, ir.IntAttr("axis", 1))
		}, want: []string{"float[N,8]"}},
		{name: "concat along a named axis", build: func(b *builder) *ir.Node {
			return b.node("Concat", []*ir.Value{b.input("x", "float[N,3]"), b.input("y", "float[2,3]")}, 1, ir.IntAttr("axis", 0))
		}, want: []string{"float[?,3]"}},
		{name: "concat mismatch", build: func(b *builder) *ir.Node {
			return b.node("Concat", []*ir.Value{b.input("x", "float[2,3]"), b.input("y", "float[2,4]")}, 1, ir.IntAttr("axis", 0))
		}, wantProblem: "dimension 1"},
		{name: "split-11 attribute", opset: 11, build: func(b *builder) *ir.Node {
			return b.node("Split", []*ir.Value{b.input("x", "float[N,6]")}, 2, ir.IntAttr("axis", 1), ir.IntsAttr("split", 2, 4))
		}, want: []string{"float[N,2]", "float[N,4]"}},
		{name: "split-13 input", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Split", []*ir.Value{b.input("x", "float[N,6]"), b.ints(1, 5)}, 2, ir.IntAttr("axis", -1))
		}, want: []string{"float[N,1]", "float[N,5]"}},
		{name: "split-13 even", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Split", []*ir.Value{b.input("x", "float[6,N]")}, 3)
		}, want: []string{"float[2,N]", "float[2,N]", "float[2,N]"}},
		{name: "split-18 uneven num_outputs", opset: 18, build: func(b *builder) *ir.Node {
			return b.node("Split", []*ir.Value{b.input("x", "float[7]")}, 3, ir.IntAttr("num_outputs", 3))
		}, want: []string{"float[3]", "float[3]", "float[1]"}},
		{name: "slice-1 attributes", opset: 1, build: func(b *builder) *ir.Node {
			return b.node("Slice", []*ir.Value{b.input("x", "float[N,10]")}, 1,
				ir.IntsAttr("starts", 2), ir.IntsAttr("ends", -1), ir.IntsAttr("axes", 1))
		}, want: []string{"float[N,7]"}},
		{name: "slice-13 inputs with step", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Slice", []*ir.Value{b.input("x", "float[N,10]"), b.ints(0, 1), b.ints(1<<62, 100), b.ints(0, 1), b.ints(1, 3)}, 1)
		}, want: []string{"float[N,3]"}},
		{name: "slice negative step", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Slice", []*ir.Value{b.input("x", "float[10]"), b.ints(-1), b.ints(-1 << 62), b.ints(0), b.ints(-2)}, 1)
		}, want: []string{"float[5]"}},
		{name: "slice runtime bounds", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Slice", []*ir.Value{b.input("x", "float[N,10]"), b.input("s", "int64[1]"), b.input("e", "int64[1]"), b.ints(1)}, 1)
		}, want: []string{"float[N,?]"}},
		{name: "gather", build: func(b *builder) *ir.Node {
			return b.node("Gather", []*ir.Value{b.input("x", "float[V,16]"), b.input("i", "int64[B,S]")}, 1)
		}, want: []string{"float[B,S,16]"}},
		{name: "gather scalar index on axis 1", build: func(b *builder) *ir.Node {
			return b.node("Gather", []*ir.Value{b.input("x", "float[N,5,4]"), b.scalar(0)}, 1, ir.IntAttr("axis", 1))
		}, want: []string{"float[N,4]"}},
		{name: "gather elements", build: func(b *builder) *ir.Node {
			return b.node("GatherElements", []*ir.Value{b.input("x", "float[3,3]"), b.input("i", "int64[2,3]")}, 1)
		}, want: []string{"float[2,3]"}},
		{name: "gather nd", build: func(b *builder) *ir.Node {
			return b.node("GatherND", []*ir.Value{b.input("x", "float[2,3,4]"), b.input("i", "int64[5,2]")}, 1)
		}, want: []string{"float[5,4]"}},
		{name: "scatter nd", build: func(b *builder) *ir.Node {
			return b.node("ScatterND", []*ir.Value{b.input("x", "float[N,4]"), b.input("i", "int64[2,1]"), b.input("u", "float[2,4]")}, 1)
		}, want: []string{"float[N,4]"}},
		{name: "expand", build: func(b *builder) *ir.Node {
			return b.node("Expand", []*ir.Value{b.input("x", "float[3,1]"), b.ints(2, 1, 6)}, 1)
		}, want: []string{"float[2,3,6]"}},
		{name: "tile", build: func(b *builder) *ir.Node {
			return b.node("Tile", []*ir.Value{b.input("x", "float[N,3]"), b.ints(1, 2)}, 1)
		}, want: []string{"float[N,6]"}},
		{name: "pad-2 attribute", opset: 2, build: func(b *builder) *ir.Node {
			return b.node("Pad", []*ir.Value{b.input("x", "float[N,3,4]")}, 1, ir.IntsAttr("pads", 0, 0, 1, 0, 0, 2))
		}, want: []string{"float[N,3,7]"}},
		{name: "pad-11 input", opset: 11, build: func(b *builder) *ir.Node {
			return b.node("Pad", []*ir.Value{b.input("x", "float[N,3,4]"), b.ints(0, 1, 1, 0, 1, 1)}, 1)
		}, want: []string{"float[N,5,6]"}},
		{name: "pad-18 axes", opset: 18, build: func(b *builder) *ir.Node {
			return b.node("Pad", []*ir.Value{b.input("x", "float[N,3,4]"), b.ints(2, 3), nil, b.ints(-1)}, 1)
		}, want: []string{"float[N,3,9]"}},
		{name: "constant of shape", build: func(b *builder) *ir.Node {
			return b.node("ConstantOfShape", []*ir.Value{b.ints(2, 3)}, 1, ir.TensorAttr("value", ir.FromInt64("v", []int64{1}, []int64{0})))
		}, want: []string{"int64[2,3]"}},
		{name: "constant", build: func(b *builder) *ir.Node {
			return b.node("Constant", nil, 1, ir.TensorAttr("value", ir.FromFloat32("v", []int64{2, 2}, make([]float32, 4))))
		}, want: []string{"float[2,2]"}},
		{name: "constant value_ints", build: func(b *builder) *ir.Node {
			return b.node("Constant", nil, 1, ir.IntsAttr("value_ints", 1, 2, 3))
		}, want: []string{"int64[3]"}},
		{name: "depth to space", build: func(b *builder) *ir.Node {
			return b.node("DepthToSpace", []*ir.Value{b.input("x", "float[N,8,3,4]")}, 1, ir.IntAttr("blocksize", 2))
		}, want: []string{"float[N,2,6,8]"}},
		{name: "space to depth", build: func(b *builder) *ir.Node {
			return b.node("SpaceToDepth", []*ir.Value{b.input("x", "float[N,2,6,8]")}, 1, ir.IntAttr("blocksize", 2))
		}, want: []string{"float[N,8,3,4]"}},
		{name: "size", build: func(b *builder) *ir.Node {
			return b.node("Size", []*ir.Value{b.input("x", "float[N,2]")}, 1)
		}, want: []string{"int64[]"}},
		{name: "identity of a sequence", build: func(b *builder) *ir.Node {
			s := b.g.AddInput("s", &ir.Type{Kind: ir.SequenceKind, Inner: parseType(b.t, "float[2]")})
			return b.node("Identity", []*ir.Value{s}, 1)
		}, want: []string{"seq(float[2])"}},
	})
}

func TestNNRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "conv symbolic batch", build: func(b *builder) *ir.Node {
			return b.node("Conv", []*ir.Value{b.input("x", "float[N,3,32,32]"), b.weight(16, 3, 3, 3)}, 1,
				ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2))
		}, want: []string{"float[N,16,16,16]"}},
		{name: "conv symbolic spatial", build: func(b *builder) *ir.Node {
			return b.node("Conv", []*ir.Value{b.input("x", "float[N,3,H,W]"), b.weight(16, 3, 3, 3)}, 1)
		}, want: []string{"float[N,16,?,?]"}},
		{name: "conv same_upper dilated", build: func(b *builder) *ir.Node {
			return b.node("Conv", []*ir.Value{b.input("x", "float[1,3,7]"), b.weight(4, 3, 3)}, 1,
				ir.StringAttr("auto_pad", "SAME_UPPER"), ir.IntsAttr("strides", 2), ir.IntsAttr("dilations", 2))
		}, want: []string{"float[1,4,4]"}},
		{name: "conv grouped channel mismatch", build: func(b *builder) *ir.Node {
			return b.node("Conv", []*ir.Value{b.input("x", "float[1,6,7,7]"), b.weight(4, 2, 3, 3)}, 1, ir.IntAttr("group", 2))
		}, wantProblem: "input channels"},
		{name: "conv integer", build: func(b *builder) *ir.Node {
			return b.node("ConvInteger", []*ir.Value{b.input("x", "uint8[N,1,5,5]"), b.input("w", "uint8[2,1,3,3]")}, 1)
		}, want: []string{"int32[N,2,3,3]"}},
		{name: "qlinearconv", build: func(b *builder) *ir.Node {
			return b.node("QLinearConv", []*ir.Value{b.input("x", "uint8[N,1,5,5]"), b.input("xs", "float[]"), b.input("xz", "uint8[]"),
				b.input("w", "int8[2,1,3,3]"), b.input("ws", "float[]"), b.input("wz", "int8[]"), b.input("ys", "float[]"), b.input("yz", "int8[]")}, 1)
		}, want: []string{"int8[N,2,3,3]"}},
		{name: "conv transpose", build: func(b *builder) *ir.Node {
			return b.node("ConvTranspose", []*ir.Value{b.input("x", "float[N,4,5,5]"), b.weight(4, 2, 3, 3)}, 1,
				ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("output_padding", 1, 1))
		}, want: []string{"float[N,2,10,10]"}},
		{name: "maxpool ceil mode with indices", build: func(b *builder) *ir.Node {
			return b.node("MaxPool", []*ir.Value{b.input("x", "float[N,3,6,6]")}, 2,
				ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntAttr("ceil_mode", 1))
		}, want: []string{"float[N,3,3,3]", "int64[N,3,3,3]"}},
		{name: "averagepool padded", build: func(b *builder) *ir.Node {
			return b.node("AveragePool", []*ir.Value{b.input("x", "float[N,3,7,7]")}, 1,
				ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1))
		}, want: []string{"float[N,3,4,4]"}},
		{name: "global average pool", build: func(b *builder) *ir.Node {
			return b.node("GlobalAveragePool", []*ir.Value{b.input("x", "float[N,C,H,W]")}, 1)
		}, want: []string{"float[N,C,1,1]"}},
		{name: "matmul batched broadcast", build: func(b *builder) *ir.Node {
			return b.node("MatMul", []*ir.Value{b.input("x", "float[B,1,S,64]"), b.input("y", "float[12,64,S]")}, 1)
		}, want: []string{"float[B,12,S,S]"}},
		{name: "matmul vector", build: func(b *builder) *ir.Node {
			return b.node("MatMul", []*ir.Value{b.input("x", "float[N,3]"), b.input("y", "float[3]")}, 1)
		}, want: []string{"float[N]"}},
		{name: "matmul inner mismatch", build: func(b *builder) *ir.Node {
			return b.node("MatMul", []*ir.Value{b.input("x", "float[2,3]"), b.input("y", "float[4,5]")}, 1)
		}, wantProblem: "inner dimensions"},
		{name: "matmul integer", build: func(b *builder) *ir.Node {
			return b.node("MatMulInteger", []*ir.Value{b.input("x", "uint8[N,3]"), b.input("y", "int8[3,5]")}, 1)
		}, want: []string{"int32[N,5]"}},
		{name: "qlinear matmul", build: func(b *builder) *ir.Node {
			return b.node("QLinearMatMul", []*ir.Value{b.input("a", "uint8[N,3]"), b.input("as", "float[]"), b.input("az", "uint8[]"),
				b.input("b", "uint8[3,5]"), b.input("bs", "float[]"), b.input("bz", "uint8[]"), b.input("ys", "float[]"), b.input("yz", "uint8[]")}, 1)
		}, want: []string{"uint8[N,5]"}},
		{name: "gemm transB", build: func(b *builder) *ir.Node {
			return b.node("Gemm", []*ir.Value{b.input("x", "float[N,512]"), b.weight(10, 512), b.weight(10)}, 1, ir.IntAttr("transB", 1))
		}, want: []string{"float[N,10]"}},
		{name: "lstm bidirectional", build: func(b *builder) *ir.Node {
			return b.node("LSTM", []*ir.Value{b.input("x", "float[S,B,8]"), b.weight(2, 64, 8), b.weight(2, 64, 16)}, 3,
				ir.IntAttr("hidden_size", 16), ir.StringAttr("direction", "bidirectional"))
		}, want: []string{"float[S,2,B,16]", "float[2,B,16]", "float[2,B,16]"}},
		{name: "gru batch-first layout", opset: 14, build: func(b *builder) *ir.Node {
			return b.node("GRU", []*ir.Value{b.input("x", "float[B,S,8]"), b.weight(1, 48, 8), b.weight(1, 48, 16)}, 2, ir.IntAttr("layout", 1))
		}, want: []string{"float[B,S,1,16]", "float[B,1,16]"}},
	})
}

func TestReduceAndIndexRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "reducemean-13 attribute axes", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("ReduceMean", []*ir.Value{b.input("x", "float[N,3,H,W]")}, 1, ir.IntsAttr("axes", 2, 3), ir.IntAttr("keepdims", 0))
		}, want: []string{"float[N,3]"}},
		{name: "reducemean-18 input axes", opset: 18, build: func(b *builder) *ir.Node {
			return b.node("ReduceMean", []*ir.Value{b.input("x", "float[N,3,H,W]"), b.ints(-1)}, 1)
		}, want: []string{"float[N,3,H,1]"}},
		{name: "reducesum-13 input axes", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("ReduceSum", []*ir.Value{b.input("x", "float[N,3]"), b.ints(1)}, 1, ir.IntAttr("keepdims", 0))
		}, want: []string{"float[N]"}},
		{name: "reduce all", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("ReduceMax", []*ir.Value{b.input("x", "float[N,3]")}, 1)
		}, want: []string{"float[1,1]"}},
		{name: "reduce noop with empty axes", opset: 18, build: func(b *builder) *ir.Node {
			return b.node("ReduceL2", []*ir.Value{b.input("x", "float[N,3]")}, 1, ir.IntAttr("noop_with_empty_axes", 1))
		}, want: []string{"float[N,3]"}},
		{name: "reduce runtime axes keepdims", opset: 18, build: func(b *builder) *ir.Node {
			return b.node("ReduceMin", []*ir.Value{b.input("x", "float[N,3]"), b.input("a", "int64[1]")}, 1)
		}, want: []string{"float[?,?]"}},
		{name: "argmax", build: func(b *builder) *ir.Node {
			return b.node("ArgMax", []*ir.Value{b.input("x", "float[N,10]")}, 1, ir.IntAttr("axis", 1), ir.IntAttr("keepdims", 0))
		}, want: []string{"int64[N]"}},
		{name: "topk-11 input k", opset: 11, build: func(b *builder) *ir.Node {
			return b.node("TopK", []*ir.Value{b.input("x", "float[N,10]"), b.ints(3)}, 2)
		}, want: []string{"float[N,3]", "int64[N,3]"}},
		{name: "topk-1 attribute k", opset: 1, build: func(b *builder) *ir.Node {
			return b.node("TopK", []*ir.Value{b.input("x", "float[N,10]")}, 2, ir.IntAttr("k", 4))
		}, want: []string{"float[N,4]", "int64[N,4]"}},
		{name: "onehot", build: func(b *builder) *ir.Node {
			return b.node("OneHot", []*ir.Value{b.input("i", "int64[N]"), b.scalar(5), b.floats(0, 1)}, 1)
		}, want: []string{"float[N,5]"}},
		{name: "nonzero", build: func(b *builder) *ir.Node {
			return b.node("NonZero", []*ir.Value{b.input("x", "float[N,3]")}, 1)
		}, want: []string{"int64[2,unk__0]"}},
		{name: "range", build: func(b *builder) *ir.Node {
			return b.node("Range", []*ir.Value{b.scalar(1), b.scalar(10), b.scalar(3)}, 1)
		}, want: []string{"int64[3]"}},
		{name: "einsum batched matmul", build: func(b *builder) *ir.Node {
			return b.node("Einsum", []*ir.Value{b.input("x", "float[B,2,3]"), b.input("y", "float[B,3,5]")}, 1, ir.StringAttr("equation", "bij,bjk->bik"))
		}, want: []string{"float[B,2,5]"}},
		{name: "einsum implicit with ellipsis", build: func(b *builder) *ir.Node {
			return b.node("Einsum", []*ir.Value{b.input("x", "float[N,2,3]")}, 1, ir.StringAttr("equation", "...ij"))
		}, want: []string{"float[N,2,3]"}},
		{name: "resize scales", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Resize", []*ir.Value{b.input("x", "float[N,3,8,8]"), nil, b.floats(1, 1, 2, 2)}, 1)
		}, want: []string{"float[N,3,16,16]"}},
		{name: "resize sizes", opset: 13, build: func(b *builder) *ir.Node {
			return b.node("Resize", []*ir.Value{b.input("x", "float[N,3,8,8]"), nil, nil, b.ints(1, 3, 5, 5)}, 1)
		}, want: []string{"float[1,3,5,5]"}},
		{name: "resize-10 scales", opset: 10, build: func(b *builder) *ir.Node {
			return b.node("Resize", []*ir.Value{b.input("x", "float[1,1,2,2]"), b.floats(1, 1, 1.5, 2)}, 1)
		}, want: []string{"float[1,1,3,4]"}},
		{name: "quantize with zero point type", build: func(b *builder) *ir.Node {
			return b.node("QuantizeLinear", []*ir.Value{b.input("x", "float[N,3]"), b.input("s", "float[]"), b.input("z", "int8[]")}, 1)
		}, want: []string{"int8[N,3]"}},
		{name: "quantize default uint8", build: func(b *builder) *ir.Node {
			return b.node("QuantizeLinear", []*ir.Value{b.input("x", "float[N,3]"), b.input("s", "float[]")}, 1)
		}, want: []string{"uint8[N,3]"}},
		{name: "dequantize-19 takes the scale type", opset: 19, build: func(b *builder) *ir.Node {
			return b.node("DequantizeLinear", []*ir.Value{b.input("x", "int8[N,3]"), b.input("s", "float16[]")}, 1)
		}, want: []string{"float16[N,3]"}},
		{name: "dynamic quantize", build: func(b *builder) *ir.Node {
			return b.node("DynamicQuantizeLinear", []*ir.Value{b.input("x", "float[N,3]")}, 3)
		}, want: []string{"uint8[N,3]", "float[]", "uint8[]"}},
	})
}

func TestDataPropagation(t *testing.T) {
	// Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) is what exporters emit for
	// x.view(x.size(0), -1).
	build := func(b *builder) *ir.Node {
		x := b.input("x", "float[N,3,4]")
		shape := b.node("Shape", []*ir.Value{x}, 1)
		batch := b.node("Gather", []*ir.Value{shape.Output(0), b.scalar(0)}, 1)
		unsq := b.node("Unsqueeze", []*ir.Value{batch.Output(0), b.ints(0)}, 1)
		target := b.node("Concat", []*ir.Value{unsq.Output(0), b.ints(-1)}, 1, ir.IntAttr("axis", 0))
		return b.node("Reshape", []*ir.Value{x, target.Output(0)}, 1)
	}
	runRuleCases(t, []ruleCase{
		{name: "view(batch, -1)", opset: 13, build: build, want: []string{"float[N,12]"}},
		{name: "without data propagation only the rank is known", opset: 13, noDataProp: true, build: build, want: []string{"float[?,?]"}},
		{name: "arithmetic on shape values", opset: 13, build: func(b *builder) *ir.Node {
			x := b.input("x", "float[N,3,4]")
			shape := b.node("Shape", []*ir.Value{x}, 1)
			last := b.node("Slice", []*ir.Value{shape.Output(0), b.ints(1), b.ints(3)}, 1)
			mul := b.node("Mul", []*ir.Value{last.Output(0), b.ints(2, 1)}, 1)
			return b.node("Reshape", []*ir.Value{x, b.node("Concat", []*ir.Value{b.ints(-1), mul.Output(0)}, 1, ir.IntAttr("axis", 0)).Output(0)}, 1)
		}, want: []string{"float[?,6,4]"}},
		{name: "expand to a computed shape", opset: 13, build: func(b *builder) *ir.Node {
			x := b.input("x", "float[N,1]")
			y := b.input("y", "float[N,7]")
			return b.node("Expand", []*ir.Value{x, b.node("Shape", []*ir.Value{y}, 1).Output(0)}, 1)
		}, want: []string{"float[N,7]"}},
		{name: "constant of shape from shape", opset: 13, build: func(b *builder) *ir.Node {
			x := b.input("x", "float[B,S]")
			return b.node("ConstantOfShape", []*ir.Value{b.node("Shape", []*ir.Value{x}, 1).Output(0)}, 1)
		}, want: []string{"float[B,S]"}},
	})
}
