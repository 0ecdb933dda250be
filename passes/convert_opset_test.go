package passes_test

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/irtest"

	"github.com/whittle-ml/whittle/conformance"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// newOpsetModel starts a model for the convert_opset rule tests (IR version 7, which
// the old opsets were written with).
func newOpsetModel(t *testing.T, opset int64) *irtest.Builder {
	return irtest.New(t, opset).IRVersion(7)
}

// upgrade converts a copy of m to opset target with verification after the pass, then
// round-trips it through the ONNX encoder so that what would be written is what runs.
func upgrade(m *ir.Model, target int64) (*ir.Model, error) {
	c := m.Clone()
	p, err := passes.ParsePipeline(fmt.Sprintf("convert_opset:opset=%d", target))
	if err != nil {
		return nil, err
	}
	if _, err := passes.Run(&passes.Context{VerifyEach: true}, c, p); err != nil {
		return nil, err
	}
	if v, _ := c.Opset(""); v != target {
		return nil, fmt.Errorf("opset is %d after conversion, want %d", v, target)
	}
	pm, err := onnx.FromIR(c)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	back, err := onnx.ToIR(pm)
	if err != nil {
		return nil, fmt.Errorf("reload: %w", err)
	}
	return back, back.Verify()
}

// randomFeeds makes inputs of the declared types: floats in [-2, 2), small ints, bools.
func randomFeeds(m *ir.Model, seed int64) ([]string, []*kernel.Tensor) {
	rng := rand.New(rand.NewSource(seed))
	var names []string
	var ts []*kernel.Tensor
	for _, v := range feeds(m) {
		dims, _ := v.Type.StaticDims()
		t := kernel.New(v.Type.Elem, dims...)
		switch d := t.Data.(type) {
		case []float32:
			for i := range d {
				d[i] = rng.Float32()*4 - 2
			}
		case []int64:
			for i := range d {
				d[i] = rng.Int63n(5)
			}
		case []bool:
			for i := range d {
				d[i] = rng.Intn(2) == 1
			}
		}
		names = append(names, v.Name)
		ts = append(ts, t)
	}
	return names, ts
}

// uses returns "Op" for every node of the main graph, in order.
func opList(m *ir.Model) string {
	var out []string
	for _, n := range m.Graph.Nodes() {
		out = append(out, n.OpType)
	}
	return strings.Join(out, ",")
}

// rankless inputs are fed as [2,3,4,5].
func feedFor(m *ir.Model, seed int64) ([]string, []*kernel.Tensor) {
	for _, v := range feeds(m) {
		if v.Type.Rank() < 0 {
			v.Type = ir.TensorTypeOf(ir.Float, 2, 3, 4, 5)
			defer func(v *ir.Value) { v.Type = &ir.Type{Kind: ir.TensorKind, Elem: ir.Float} }(v)
		}
	}
	return randomFeeds(m, seed)
}

func TestConvertOpsetRules(t *testing.T) {
	f := func(name string, v float32) *ir.Attr { return ir.FloatAttr(name, v) }
	i := func(name string, v int64) *ir.Attr { return ir.IntAttr(name, v) }
	is := ir.IntsAttr
	s := ir.StringAttr
	cases := []struct {
		name    string
		targets []int64
		build   func(t *testing.T) *ir.Model
		// wantOps is the upgraded main graph's op list at the first target ("" to skip).
		wantOps string
		// reference, when set, is an equivalent model written by hand at a current opset,
		// for operator versions whittle's runtime cannot run.
		reference func(t *testing.T) *ir.Model
	}{
		{"Add legacy broadcast axis", []int64{13, 8}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("a", ir.Float, 2, 3, 4, 5).Input("b", ir.Float, 3).
				Node("Add", "a,b", "y", i("broadcast", 1), i("axis", 1)).Output("y").Model()
		}, "Unsqueeze,Add", nil},
		{"Mul legacy broadcast suffix", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("a", ir.Float, 2, 3, 4).Input("b", ir.Float, 3, 4).
				Node("Mul", "a,b", "y", i("broadcast", 1), i("axis", 1)).Output("y").Model()
		}, "Mul", nil},
		{"Sub Div legacy axis 0", []int64{7}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("a", ir.Float, 2, 3, 4).Input("b", ir.Float, 2).Input("c", ir.Float, 2, 3).
				Node("Sub", "a,b", "y", i("broadcast", 1), i("axis", 0)).
				Node("Div", "y,c", "z", i("broadcast", 1), i("axis", 0)).Output("z").Model()
		}, "Unsqueeze,Sub,Unsqueeze,Div", nil},
		{"Greater legacy broadcast", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("a", ir.Float, 2, 3, 4).Input("b", ir.Float, 3).
				Node("Greater", "a,b", "y", i("broadcast", 1), i("axis", 1)).Output("y").Model()
		}, "Unsqueeze,Greater", nil},
		{"Relu consumed_inputs", []int64{13, 14}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).Input("x", ir.Float, 2, 3).Node("Relu", "x", "y", is("consumed_inputs", 0)).Output("y").Model()
		}, "Relu", nil},
		{"Gemm broadcast C", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("a", ir.Float, 4, 3).Input("b", ir.Float, 5, 3).Input("c", ir.Float, 5).
				Node("Gemm", "a,b,c", "y", i("broadcast", 1), i("transB", 1), f("alpha", 0.5)).Output("y").Model()
		}, "Gemm", nil},
		{"PRelu per-channel slope", []int64{7, 17}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("x", ir.Float, 2, 3, 4, 5).Input("s", ir.Float, 3).Node("PRelu", "x,s", "y").Output("y").Model()
		}, "Unsqueeze,PRelu", nil},
		{"PRelu 2-D and shared slope", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("x", ir.Float, 2, 3).Input("s", ir.Float, 3).Input("x2", ir.Float, 2, 3, 4).
				Input("s2", ir.Float, 1).Node("PRelu", "x,s", "y").Node("PRelu", "x2,s2", "y2").Output("y", "y2").Model()
		}, "PRelu,PRelu", nil},
		{"BatchNormalization is_test", []int64{9, 15}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("x", ir.Float, 2, 3, 4).Floats("sc", []int64{3}, 1, 2, 3).
				Floats("b", []int64{3}, 0.1, 0.2, 0.3).Floats("mu", []int64{3}, 0, 0.5, -0.5).
				Floats("var", []int64{3}, 1, 2, 0.5).
				Node("BatchNormalization", "x,sc,b,mu,var", "y", i("is_test", 1), f("epsilon", 1e-3), i("spatial", 1)).Output("y").Model()
		}, "BatchNormalization", nil},
		{"Dropout is_test ratio", []int64{10, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("x", ir.Float, 2, 3).Node("Dropout", "x", "y", i("is_test", 1), f("ratio", 0.3)).Output("y").Model()
		}, "Dropout", nil},
		{"Clip min max", []int64{11, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("x", ir.Float, 2, 3).Node("Clip", "x", "y", f("min", -0.5), f("max", 1)).
				Node("Clip", "y", "z", f("max", 0.75)).Output("z").Model()
		}, "Clip,Clip", nil},
		{"Reshape shape attribute", []int64{5, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 4).Input("x", ir.Float, 2, 3, 4).Node("Reshape", "x", "y", is("shape", 6, -1)).Output("y").Model()
		}, "Reshape", nil},
		{"Squeeze Unsqueeze axes", []int64{13, 21}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).Input("x", ir.Float, 2, 1, 3).Node("Squeeze", "x", "y", is("axes", 1)).
				Node("Unsqueeze", "y", "z", is("axes", 0, -1)).Output("z").Model()
		}, "Squeeze,Unsqueeze", nil},
		{"ReduceSum and ReduceMean axes", []int64{13, 18}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).Input("x", ir.Float, 2, 3, 4).Node("ReduceSum", "x", "y", is("axes", 1), i("keepdims", 0)).
				Node("ReduceMean", "x", "z", is("axes", -1)).Node("ReduceMax", "x", "w").Output("y", "z", "w").Model()
		}, "ReduceSum,ReduceMean,ReduceMax", nil},
		{"Split attribute", []int64{13, 18}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).Input("x", ir.Float, 2, 6).Node("Split", "x", "a,b", i("axis", 1), is("split", 2, 4)).Output("a", "b").Model()
		}, "Split", nil},
		{"Split-1 split input", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).Input("x", ir.Float, 5, 2).Ints("sp", []int64{2}, 3, 2).Node("Split", "x,sp", "a,b").Output("a", "b").Model()
		}, "Split", func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 13).Input("x", ir.Float, 5, 2).Ints("sp", []int64{2}, 3, 2).Node("Split", "x,sp", "a,b").Output("a", "b").Model()
		}},
		{"Slice attributes", []int64{10, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 9).Input("x", ir.Float, 4, 5, 6).
				Node("Slice", "x", "y", is("starts", 1, -4), is("ends", 3, 1000), is("axes", 0, 2)).Output("y").Model()
		}, "Slice", nil},
		{"Pad value", []int64{11, 19}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 2).Input("x", ir.Float, 2, 3).Node("Pad", "x", "y", is("pads", 1, 0, 0, 2), f("value", 1.5)).
				Node("Pad", "y", "z", s("mode", "edge"), is("pads", 0, 1, 1, 0)).Output("z").Model()
		}, "Pad,Pad", nil},
		{"Pad-1 paddings", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).Input("x", ir.Float, 2, 3).Node("Pad", "x", "y", is("paddings", 1, 1, 0, 0)).Output("y").Model()
		}, "Pad", nil},
		{"TopK k", []int64{10, 11}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).Input("x", ir.Float, 3, 5).Node("TopK", "x", "v,ix", i("k", 2)).Output("v", "ix").Model()
		}, "TopK", nil},
		{"Softmax axis 1 of 4-D", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).Input("x", ir.Float, 2, 3, 4, 5).Node("Softmax", "x", "y", i("axis", 1)).Output("y").Model()
		}, "Shape,Flatten,Softmax,Reshape", nil},
		{"LogSoftmax last axis", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 9).Input("x", ir.Float, 2, 3, 4).Node("LogSoftmax", "x", "y", i("axis", -1)).Output("y").Model()
		}, "LogSoftmax", nil},
		{"Softmax default axis of 2-D", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("x", ir.Float, 4, 5).Node("Softmax", "x", "y").Output("y").Model()
		}, "Softmax", nil},
		{"Hardmax default axis of 3-D", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).Input("x", ir.Float, 2, 3, 4).Node("Hardmax", "x", "y").Output("y").Model()
		}, "Shape,Flatten,Hardmax,Reshape", nil},
		{"Softmax of unknown rank", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).InputOf("x", "float").Node("Softmax", "x", "y", i("axis", 2)).Output("y").Model()
		}, "Shape,Flatten,Softmax,Reshape", nil},
		{"Concat default axis", []int64{4, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).Input("a", ir.Float, 2, 3).Input("b", ir.Float, 2, 2).Node("Concat", "a,b", "y").Output("y").Model()
		}, "Concat", func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 13).Input("a", ir.Float, 2, 3).Input("b", ir.Float, 2, 2).Node("Concat", "a,b", "y", i("axis", 1)).Output("y").Model()
		}},
		{"Upsample-7 to Resize", []int64{10, 11, 13, 19}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 7).Input("x", ir.Float, 1, 2, 3, 3).
				Node("Upsample", "x", "y", s("mode", "nearest"), ir.FloatsAttr("scales", 1, 1, 2, 3)).Output("y").Model()
		}, "Resize", nil},
		{"Upsample-9 linear to Resize", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 9).Input("x", ir.Float, 1, 2, 3, 3).Floats("sc", []int64{4}, 1, 1, 2, 2).
				Node("Upsample", "x,sc", "y", s("mode", "linear")).Output("y").Model()
		}, "Resize", nil},
		{"Resize-10 nearest downsample", []int64{11, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 10).Input("x", ir.Float, 1, 1, 4, 6).Floats("sc", []int64{4}, 1, 1, 0.5, 0.6).
				Node("Resize", "x,sc", "y", s("mode", "nearest")).Output("y").Model()
		}, "Resize", nil},
		{"Scatter to ScatterElements", []int64{11, 18}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 9).Input("x", ir.Float, 3, 3).Ints("idx", []int64{2, 3}, 1, 0, 2, 0, 2, 1).
				Input("u", ir.Float, 2, 3).Node("Scatter", "x,idx,u", "y", i("axis", 0)).Output("y").Model()
		}, "ScatterElements", nil},
		{"Tile-1 tiles and axis", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).Input("x", ir.Float, 2, 3).Ints("tiles", nil, 3).Ints("axis", nil, 1).
				Node("Tile", "x,tiles,axis", "y").Output("y").Model()
		}, "Tile", func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 13).Input("x", ir.Float, 2, 3).Ints("r", []int64{2}, 1, 3).Node("Tile", "x,r", "y").Output("y").Model()
		}},
		{"Cast-1 type name", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).Input("x", ir.Float, 2, 3).Node("Cast", "x", "y", s("to", "INT32")).Output("y").Model()
		}, "Cast", nil},
		{"LpPool float p", []int64{11}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).Input("x", ir.Float, 1, 2, 4, 4).
				Node("LpPool", "x", "y", f("p", 2), is("kernel_shape", 2, 2)).
				Node("GlobalLpPool", "x", "z", f("p", 3)).Output("y", "z").Model()
		}, "LpPool,GlobalLpPool", nil},
		{"Equal legacy broadcast ints", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).Input("a", ir.Int64, 2, 3, 4).Input("b", ir.Int64, 2, 3).
				Node("Equal", "a,b", "y", i("broadcast", 1), i("axis", 0)).Output("y").Model()
		}, "Unsqueeze,Equal", nil},
		{"DFT axis attribute", []int64{20}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 17).Input("x", ir.Float, 2, 8, 1).Node("DFT", "x", "y", i("axis", 1)).Output("y").Model()
		}, "DFT", nil},
		{"GroupNormalization per group", []int64{21}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 18).Input("x", ir.Float, 2, 4, 3).Floats("sc", []int64{2}, 0.5, 2).
				Floats("b", []int64{2}, 0.1, -0.1).Node("GroupNormalization", "x,sc,b", "y", i("num_groups", 2)).Output("y").Model()
		}, "GroupNormalization", nil},
		{"Softmax in an If branch", []int64{13}, func(t *testing.T) *ir.Model {
			b := newOpsetModel(t, 11).Input("x", ir.Float, 2, 3, 4).Input("c", ir.Bool)
			body := b.Graph().NewSubgraph("then")
			n := body.NewNode("", "Softmax", []*ir.Value{b.Value("x")}, []string{"sm"}, i("axis", 1))
			body.Append(n)
			body.Outputs = []*ir.Value{n.Output(0)}
			els := b.Graph().NewSubgraph("else")
			m := els.NewNode("", "Identity", []*ir.Value{b.Value("x")}, []string{"id"})
			els.Append(m)
			els.Outputs = []*ir.Value{m.Output(0)}
			return b.Node("If", "c", "y", ir.GraphAttr("then_branch", body), ir.GraphAttr("else_branch", els)).Output("y").Model()
		}, "If", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(t)
			names, inputs := feedFor(m, 1)
			want, err := runModel(m, names, inputs)
			if err != nil && tc.reference != nil {
				t.Logf("the original does not run (%v); comparing with a hand-written reference", firstLine(err))
				want, err = runModel(tc.reference(t), names, inputs)
			}
			if err != nil {
				t.Fatalf("the original does not run: %v", err)
			}
			for k, target := range tc.targets {
				up, err := upgrade(m, target)
				if err != nil {
					t.Fatalf("to opset %d: %v", target, err)
				}
				if k == 0 && tc.wantOps != "" && opList(up) != tc.wantOps {
					t.Errorf("to opset %d: ops %s, want %s\n%s", target, opList(up), tc.wantOps, ir.Format(up))
				}
				checkNoLegacyAttrs(t, up)
				got, err := runModel(up, names, inputs)
				if err != nil {
					t.Fatalf("opset %d model does not run: %v\n%s", target, err, ir.Format(up))
				}
				if err := compareOutputs(up, got, want); err != nil {
					t.Errorf("opset %d changed the outputs: %v\n%s", target, err, ir.Format(up))
				}
			}
		})
	}
}

// checkNoLegacyAttrs fails on attributes that no current operator version has.
func checkNoLegacyAttrs(t *testing.T, m *ir.Model) {
	t.Helper()
	for _, g := range m.Graphs() {
		for _, n := range g.Nodes() {
			for _, a := range n.Attrs {
				switch a.Name {
				case "consumed_inputs", "broadcast", "is_test", "spatial", "paddings":
					t.Errorf("%s keeps legacy attribute %s", n.Describe(), a.Name)
				}
			}
		}
	}
}

func TestConvertOpsetRefuses(t *testing.T) {
	cases := []struct {
		name   string
		target int64
		build  func(t *testing.T) *ir.Model
		want   []string
	}{
		{"downgrade", 11, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 13).Input("x", ir.Float, 2, 1).Node("Squeeze", "x", "y").Output("y").Model()
		}, []string{"downgrading opset 13 to 11", "Squeeze-13->11"}},
		{"BatchNormalization spatial=0", 13, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 7).Input("x", ir.Float, 2, 3, 4).Input("s", ir.Float, 3, 4).Input("b", ir.Float, 3, 4).
				Input("mu", ir.Float, 3, 4).Input("v", ir.Float, 3, 4).
				Node("BatchNormalization", "x,s,b,mu,v", "y", ir.IntAttr("spatial", 0)).
				Node("Relu", "y", "z").Output("z").Model()
		}, []string{"BatchNormalization-7->9: spatial=0", "1 node: BatchNormalization_y"}},
		{"unknown operator", 13, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).Input("x", ir.Float, 2).Node("ImageScaler", "x", "y").Node("Relu", "y", "z").Output("z").Model()
		}, []string{"ImageScaler: operator not in the ONNX specification"}},
		{"Dropout mask read", 12, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 7).Input("x", ir.Float, 2).Node("Dropout", "x", "y,mask").Output("y", "mask").Model()
		}, []string{"Dropout-7->10: the mask output is read"}},
		{"legacy broadcast of unknown rank", 8, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).InputOf("a", "float").Input("b", ir.Float, 3).
				Node("Add", "a,b", "y", ir.IntAttr("broadcast", 1), ir.IntAttr("axis", 1)).Output("y").Model()
		}, []string{"Add-6->7: broadcast=1 with axis needs the ranks"}},
		{"batched Scan-8", 11, func(t *testing.T) *ir.Model {
			b := newOpsetModel(t, 8).Input("x", ir.Float, 1, 2)
			body := b.Graph().NewSubgraph("body")
			in := body.AddInput("e", ir.TensorTypeOf(ir.Float, 2))
			n := body.NewNode("", "Identity", []*ir.Value{in}, []string{"o"})
			body.Append(n)
			body.Outputs = []*ir.Value{n.Output(0)}
			return b.Node("Scan", "_,x", "y", ir.GraphAttr("body", body), ir.IntAttr("num_scan_inputs", 1)).Output("y").Model()
		}, []string{"Scan-8->9: no conversion rule"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(t)
			// The pass may refine value types by inference, which is not a change.
			_, _ = infer.Model(m, infer.Options{DataPropagation: true})
			before := ir.Format(m)
			p, _ := passes.ParsePipeline(fmt.Sprintf("convert_opset:opset=%d", tc.target))
			_, err := passes.Run(&passes.Context{VerifyEach: true}, m, p)
			if err == nil {
				t.Fatalf("converted:\n%s", ir.Format(m))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if after := ir.Format(m); after != before {
				t.Errorf("a refused conversion changed the model:\n%s", after)
			}
			var ce *passes.ConversionError
			if tc.name != "downgrade" && !errors.As(err, &ce) {
				t.Errorf("error is %T, want *passes.ConversionError", err)
			}
		})
	}
}

func TestConvertOpsetParams(t *testing.T) {
	for _, bad := range []string{"convert_opset", "convert_opset:opset=x", "convert_opset:opset=0", "convert_opset:opset=999"} {
		if _, err := passes.ParsePipeline(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestConvertOpsetPytorchConverted upgrades every pytorch-converted model (opsets 6-12) to
// 13 and 17 and requires whittle's outputs on test_data_set_0 to stay the same.
func TestConvertOpsetPytorchConverted(t *testing.T) {
	compared := map[int64]int{}
	dirs := caseDirs(t, "pytorch-converted")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c, err := conformance.LoadCase(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, v := range feeds(c.Model) {
				names = append(names, v.Name)
			}
			inputs := c.DataSets[0].Inputs
			want, err := runModel(c.Model, names, inputs)
			if err != nil {
				t.Fatalf("original does not run: %v", err)
			}
			for _, target := range []int64{13, 17} {
				up, err := upgrade(c.Model, target)
				if err != nil {
					t.Fatalf("to opset %d: %v", target, err)
				}
				checkNoLegacyAttrs(t, up)
				got, err := runModel(up, names, inputs)
				if err != nil {
					t.Fatalf("opset %d model does not run: %v", target, err)
				}
				if err := compareOutputs(up, got, want); err != nil {
					t.Errorf("opset %d changed the outputs: %v", target, err)
					continue
				}
				compared[target]++
			}
		})
	}
	t.Logf("pytorch-converted: %d models; outputs unchanged after upgrade to 13: %d, to 17: %d", len(dirs), compared[13], compared[17])
	if len(dirs) == 0 {
		t.Fatal("no pytorch-converted models")
	}
}

// nodeSuiteTarget is the opset the ONNX backend node tests are upgraded to.
const nodeSuiteTarget = 21

// TestConvertOpsetNodeSuite upgrades every node test whose model imports an opset below
// nodeSuiteTarget and runs the upgraded model through the conformance harness (same data
// sets, tolerances and known gaps). A case counts against the converter when the original
// passes and the upgrade does not.
func TestConvertOpsetNodeSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs the old-opset node tests twice")
	}
	tmp := t.TempDir()
	var older, origPass, upPass, refused int
	var regressions []string
	for _, dir := range caseDirs(t, "node") {
		c, err := conformance.LoadCase(dir)
		if err != nil {
			continue
		}
		v, ok := c.Model.Opset("")
		if !ok || v >= nodeSuiteTarget {
			continue
		}
		older++
		orig := conformance.RunCase(dir)
		if orig.Status == conformance.Pass {
			origPass++
		}
		up, err := upgrade(c.Model, nodeSuiteTarget)
		if err != nil {
			refused++
			t.Logf("%s (opset %d): not converted: %v", c.Name, v, err)
			if orig.Status == conformance.Pass {
				regressions = append(regressions, c.Name+" (refused)")
			}
			continue
		}
		res := runUpgradedCase(t, tmp, dir, up)
		if res.Status == conformance.Pass {
			upPass++
			continue
		}
		t.Logf("%s (opset %d -> %d): %s %s: %s", c.Name, v, nodeSuiteTarget, res.Status, res.Category, firstLine(errors.New(res.Reason)))
		if orig.Status == conformance.Pass {
			regressions = append(regressions, c.Name)
			t.Errorf("%s passes at opset %d but not after the upgrade to %d: %s", c.Name, v, nodeSuiteTarget, res.Reason)
		}
	}
	t.Logf("node suite: %d cases below opset %d; original passes %d; upgraded passes %d; refused %d; regressions %d %v",
		older, nodeSuiteTarget, origPass, upPass, refused, len(regressions), regressions)
	if older == 0 {
		t.Fatal("no node test below the target opset")
	}
}

// runUpgradedCase writes m as a case folder named like dir (so that the harness applies
// the case's tolerance and known gaps) whose data sets link to dir's, and runs it.
func runUpgradedCase(t *testing.T, tmp, dir string, m *ir.Model) conformance.Result {
	t.Helper()
	cdir := filepath.Join(tmp, filepath.Base(dir))
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := onnx.SaveModel(filepath.Join(cdir, "model.onnx"), m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*", "*.pb"))
	for _, f := range files {
		set := filepath.Join(cdir, filepath.Base(filepath.Dir(f)))
		if err := os.MkdirAll(set, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(f, filepath.Join(set, filepath.Base(f))); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	return conformance.RunCase(cdir)
}
