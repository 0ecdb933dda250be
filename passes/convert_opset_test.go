package passes_test

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/conformance"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// tiny builds small models for the convert_opset rule tests; values are named.
type opsetModel struct {
	t    *testing.T
	m    *ir.Model
	g    *ir.Graph
	vals map[string]*ir.Value
}

func newOpsetModel(t *testing.T, opset int64) *opsetModel {
	g := ir.NewGraph("g")
	return &opsetModel{t: t, g: g, vals: map[string]*ir.Value{},
		m: &ir.Model{IRVersion: 7, OpsetImports: []ir.OpsetID{{Domain: "", Version: opset}}, Graph: g}}
}

func (b *opsetModel) in(name string, dt ir.DataType, dims ...int64) *opsetModel {
	b.vals[name] = b.g.AddInput(name, ir.TensorTypeOf(dt, dims...))
	return b
}

// rankless adds a float input whose shape is not declared.
func (b *opsetModel) rankless(name string) *opsetModel {
	b.vals[name] = b.g.AddInput(name, &ir.Type{Kind: ir.TensorKind, Elem: ir.Float})
	return b
}

func (b *opsetModel) floats(name string, dims []int64, data ...float32) *opsetModel {
	b.vals[name] = b.g.AddInitializer(ir.FromFloat32(name, dims, data))
	return b
}

func (b *opsetModel) ints(name string, dims []int64, data ...int64) *opsetModel {
	b.vals[name] = b.g.AddInitializer(ir.FromInt64(name, dims, data))
	return b
}

// node adds op reading ins (comma-separated, "_" for an omitted input) and writing outs.
func (b *opsetModel) node(op, ins, outs string, attrs ...*ir.Attr) *opsetModel {
	var inputs []*ir.Value
	for _, name := range strings.Split(ins, ",") {
		if name == "_" {
			inputs = append(inputs, nil)
			continue
		}
		v, ok := b.vals[name]
		if !ok {
			b.t.Fatalf("opsetModel: %s reads undefined %q", op, name)
		}
		inputs = append(inputs, v)
	}
	names := strings.Split(outs, ",")
	n := b.g.NewNode("", op, inputs, names, attrs...)
	n.Name = op + "_" + names[0]
	b.g.Append(n)
	for _, sub := range n.Subgraphs() {
		n.AttachSubgraph(sub)
	}
	for _, v := range n.Outputs() {
		if v != nil {
			b.vals[v.Name] = v
		}
	}
	return b
}

func (b *opsetModel) out(names ...string) *ir.Model {
	for _, name := range names {
		b.g.Outputs = append(b.g.Outputs, b.vals[name])
	}
	if err := b.m.Verify(); err != nil {
		b.t.Fatalf("test model is invalid: %v", err)
	}
	return b.m
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
			return newOpsetModel(t, 6).in("a", ir.Float, 2, 3, 4, 5).in("b", ir.Float, 3).
				node("Add", "a,b", "y", i("broadcast", 1), i("axis", 1)).out("y")
		}, "Unsqueeze,Add", nil},
		{"Mul legacy broadcast suffix", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("a", ir.Float, 2, 3, 4).in("b", ir.Float, 3, 4).
				node("Mul", "a,b", "y", i("broadcast", 1), i("axis", 1)).out("y")
		}, "Mul", nil},
		{"Sub Div legacy axis 0", []int64{7}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("a", ir.Float, 2, 3, 4).in("b", ir.Float, 2).in("c", ir.Float, 2, 3).
				node("Sub", "a,b", "y", i("broadcast", 1), i("axis", 0)).
				node("Div", "y,c", "z", i("broadcast", 1), i("axis", 0)).out("z")
		}, "Unsqueeze,Sub,Unsqueeze,Div", nil},
		{"Greater legacy broadcast", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("a", ir.Float, 2, 3, 4).in("b", ir.Float, 3).
				node("Greater", "a,b", "y", i("broadcast", 1), i("axis", 1)).out("y")
		}, "Unsqueeze,Greater", nil},
		{"Relu consumed_inputs", []int64{13, 14}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).in("x", ir.Float, 2, 3).node("Relu", "x", "y", is("consumed_inputs", 0)).out("y")
		}, "Relu", nil},
		{"Gemm broadcast C", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("a", ir.Float, 4, 3).in("b", ir.Float, 5, 3).in("c", ir.Float, 5).
				node("Gemm", "a,b,c", "y", i("broadcast", 1), i("transB", 1), f("alpha", 0.5)).out("y")
		}, "Gemm", nil},
		{"PRelu per-channel slope", []int64{7, 17}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("x", ir.Float, 2, 3, 4, 5).in("s", ir.Float, 3).node("PRelu", "x,s", "y").out("y")
		}, "Unsqueeze,PRelu", nil},
		{"PRelu 2-D and shared slope", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("x", ir.Float, 2, 3).in("s", ir.Float, 3).in("x2", ir.Float, 2, 3, 4).
				in("s2", ir.Float, 1).node("PRelu", "x,s", "y").node("PRelu", "x2,s2", "y2").out("y", "y2")
		}, "PRelu,PRelu", nil},
		{"BatchNormalization is_test", []int64{9, 15}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("x", ir.Float, 2, 3, 4).floats("sc", []int64{3}, 1, 2, 3).
				floats("b", []int64{3}, 0.1, 0.2, 0.3).floats("mu", []int64{3}, 0, 0.5, -0.5).
				floats("var", []int64{3}, 1, 2, 0.5).
				node("BatchNormalization", "x,sc,b,mu,var", "y", i("is_test", 1), f("epsilon", 1e-3), i("spatial", 1)).out("y")
		}, "BatchNormalization", nil},
		{"Dropout is_test ratio", []int64{10, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("x", ir.Float, 2, 3).node("Dropout", "x", "y", i("is_test", 1), f("ratio", 0.3)).out("y")
		}, "Dropout", nil},
		{"Clip min max", []int64{11, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("x", ir.Float, 2, 3).node("Clip", "x", "y", f("min", -0.5), f("max", 1)).
				node("Clip", "y", "z", f("max", 0.75)).out("z")
		}, "Clip,Clip", nil},
		{"Reshape shape attribute", []int64{5, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 4).in("x", ir.Float, 2, 3, 4).node("Reshape", "x", "y", is("shape", 6, -1)).out("y")
		}, "Reshape", nil},
		{"Squeeze Unsqueeze axes", []int64{13, 21}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).in("x", ir.Float, 2, 1, 3).node("Squeeze", "x", "y", is("axes", 1)).
				node("Unsqueeze", "y", "z", is("axes", 0, -1)).out("z")
		}, "Squeeze,Unsqueeze", nil},
		{"ReduceSum and ReduceMean axes", []int64{13, 18}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).in("x", ir.Float, 2, 3, 4).node("ReduceSum", "x", "y", is("axes", 1), i("keepdims", 0)).
				node("ReduceMean", "x", "z", is("axes", -1)).node("ReduceMax", "x", "w").out("y", "z", "w")
		}, "ReduceSum,ReduceMean,ReduceMax", nil},
		{"Split attribute", []int64{13, 18}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).in("x", ir.Float, 2, 6).node("Split", "x", "a,b", i("axis", 1), is("split", 2, 4)).out("a", "b")
		}, "Split", nil},
		{"Split-1 split input", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).in("x", ir.Float, 5, 2).ints("sp", []int64{2}, 3, 2).node("Split", "x,sp", "a,b").out("a", "b")
		}, "Split", func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 13).in("x", ir.Float, 5, 2).ints("sp", []int64{2}, 3, 2).node("Split", "x,sp", "a,b").out("a", "b")
		}},
		{"Slice attributes", []int64{10, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 9).in("x", ir.Float, 4, 5, 6).
				node("Slice", "x", "y", is("starts", 1, -4), is("ends", 3, 1000), is("axes", 0, 2)).out("y")
		}, "Slice", nil},
		{"Pad value", []int64{11, 19}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 2).in("x", ir.Float, 2, 3).node("Pad", "x", "y", is("pads", 1, 0, 0, 2), f("value", 1.5)).
				node("Pad", "y", "z", s("mode", "edge"), is("pads", 0, 1, 1, 0)).out("z")
		}, "Pad,Pad", nil},
		{"Pad-1 paddings", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).in("x", ir.Float, 2, 3).node("Pad", "x", "y", is("paddings", 1, 1, 0, 0)).out("y")
		}, "Pad", nil},
		{"TopK k", []int64{10, 11}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).in("x", ir.Float, 3, 5).node("TopK", "x", "v,ix", i("k", 2)).out("v", "ix")
		}, "TopK", nil},
		{"Softmax axis 1 of 4-D", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).in("x", ir.Float, 2, 3, 4, 5).node("Softmax", "x", "y", i("axis", 1)).out("y")
		}, "Shape,Flatten,Softmax,Reshape", nil},
		{"LogSoftmax last axis", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 9).in("x", ir.Float, 2, 3, 4).node("LogSoftmax", "x", "y", i("axis", -1)).out("y")
		}, "LogSoftmax", nil},
		{"Softmax default axis of 2-D", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("x", ir.Float, 4, 5).node("Softmax", "x", "y").out("y")
		}, "Softmax", nil},
		{"Hardmax default axis of 3-D", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).in("x", ir.Float, 2, 3, 4).node("Hardmax", "x", "y").out("y")
		}, "Shape,Flatten,Hardmax,Reshape", nil},
		{"Softmax of unknown rank", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 11).rankless("x").node("Softmax", "x", "y", i("axis", 2)).out("y")
		}, "Shape,Flatten,Softmax,Reshape", nil},
		{"Concat default axis", []int64{4, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).in("a", ir.Float, 2, 3).in("b", ir.Float, 2, 2).node("Concat", "a,b", "y").out("y")
		}, "Concat", func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 13).in("a", ir.Float, 2, 3).in("b", ir.Float, 2, 2).node("Concat", "a,b", "y", i("axis", 1)).out("y")
		}},
		{"Upsample-7 to Resize", []int64{10, 11, 13, 19}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 7).in("x", ir.Float, 1, 2, 3, 3).
				node("Upsample", "x", "y", s("mode", "nearest"), ir.FloatsAttr("scales", 1, 1, 2, 3)).out("y")
		}, "Resize", nil},
		{"Upsample-9 linear to Resize", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 9).in("x", ir.Float, 1, 2, 3, 3).floats("sc", []int64{4}, 1, 1, 2, 2).
				node("Upsample", "x,sc", "y", s("mode", "linear")).out("y")
		}, "Resize", nil},
		{"Resize-10 nearest downsample", []int64{11, 13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 10).in("x", ir.Float, 1, 1, 4, 6).floats("sc", []int64{4}, 1, 1, 0.5, 0.6).
				node("Resize", "x,sc", "y", s("mode", "nearest")).out("y")
		}, "Resize", nil},
		{"Scatter to ScatterElements", []int64{11, 18}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 9).in("x", ir.Float, 3, 3).ints("idx", []int64{2, 3}, 1, 0, 2, 0, 2, 1).
				in("u", ir.Float, 2, 3).node("Scatter", "x,idx,u", "y", i("axis", 0)).out("y")
		}, "ScatterElements", nil},
		{"Tile-1 tiles and axis", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).in("x", ir.Float, 2, 3).ints("tiles", nil, 3).ints("axis", nil, 1).
				node("Tile", "x,tiles,axis", "y").out("y")
		}, "Tile", func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 13).in("x", ir.Float, 2, 3).ints("r", []int64{2}, 1, 3).node("Tile", "x,r", "y").out("y")
		}},
		{"Cast-1 type name", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).in("x", ir.Float, 2, 3).node("Cast", "x", "y", s("to", "INT32")).out("y")
		}, "Cast", nil},
		{"LpPool float p", []int64{11}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).in("x", ir.Float, 1, 2, 4, 4).
				node("LpPool", "x", "y", f("p", 2), is("kernel_shape", 2, 2)).
				node("GlobalLpPool", "x", "z", f("p", 3)).out("y", "z")
		}, "LpPool,GlobalLpPool", nil},
		{"Equal legacy broadcast ints", []int64{13}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 1).in("a", ir.Int64, 2, 3, 4).in("b", ir.Int64, 2, 3).
				node("Equal", "a,b", "y", i("broadcast", 1), i("axis", 0)).out("y")
		}, "Unsqueeze,Equal", nil},
		{"DFT axis attribute", []int64{20}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 17).in("x", ir.Float, 2, 8, 1).node("DFT", "x", "y", i("axis", 1)).out("y")
		}, "DFT", nil},
		{"GroupNormalization per group", []int64{21}, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 18).in("x", ir.Float, 2, 4, 3).floats("sc", []int64{2}, 0.5, 2).
				floats("b", []int64{2}, 0.1, -0.1).node("GroupNormalization", "x,sc,b", "y", i("num_groups", 2)).out("y")
		}, "GroupNormalization", nil},
		{"Softmax in an If branch", []int64{13}, func(t *testing.T) *ir.Model {
			b := newOpsetModel(t, 11).in("x", ir.Float, 2, 3, 4).in("c", ir.Bool)
			body := b.g.NewSubgraph("then")
			n := body.NewNode("", "Softmax", []*ir.Value{b.vals["x"]}, []string{"sm"}, i("axis", 1))
			body.Append(n)
			body.Outputs = []*ir.Value{n.Output(0)}
			els := b.g.NewSubgraph("else")
			m := els.NewNode("", "Identity", []*ir.Value{b.vals["x"]}, []string{"id"})
			els.Append(m)
			els.Outputs = []*ir.Value{m.Output(0)}
			return b.node("If", "c", "y", ir.GraphAttr("then_branch", body), ir.GraphAttr("else_branch", els)).out("y")
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
			return newOpsetModel(t, 13).in("x", ir.Float, 2, 1).node("Squeeze", "x", "y").out("y")
		}, []string{"downgrading opset 13 to 11", "Squeeze-13->11"}},
		{"BatchNormalization spatial=0", 13, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 7).in("x", ir.Float, 2, 3, 4).in("s", ir.Float, 3, 4).in("b", ir.Float, 3, 4).
				in("mu", ir.Float, 3, 4).in("v", ir.Float, 3, 4).
				node("BatchNormalization", "x,s,b,mu,v", "y", ir.IntAttr("spatial", 0)).
				node("Relu", "y", "z").out("z")
		}, []string{"BatchNormalization-7->9: spatial=0", "1 node: BatchNormalization_y"}},
		{"unknown operator", 13, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).in("x", ir.Float, 2).node("ImageScaler", "x", "y").node("Relu", "y", "z").out("z")
		}, []string{"ImageScaler: operator not in the ONNX specification"}},
		{"Dropout mask read", 12, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 7).in("x", ir.Float, 2).node("Dropout", "x", "y,mask").out("y", "mask")
		}, []string{"Dropout-7->10: the mask output is read"}},
		{"legacy broadcast of unknown rank", 8, func(t *testing.T) *ir.Model {
			return newOpsetModel(t, 6).rankless("a").in("b", ir.Float, 3).
				node("Add", "a,b", "y", ir.IntAttr("broadcast", 1), ir.IntAttr("axis", 1)).out("y")
		}, []string{"Add-6->7: broadcast=1 with axis needs the ranks"}},
		{"batched Scan-8", 11, func(t *testing.T) *ir.Model {
			b := newOpsetModel(t, 8).in("x", ir.Float, 1, 2)
			body := b.g.NewSubgraph("body")
			in := body.AddInput("e", ir.TensorTypeOf(ir.Float, 2))
			n := body.NewNode("", "Identity", []*ir.Value{in}, []string{"o"})
			body.Append(n)
			body.Outputs = []*ir.Value{n.Output(0)}
			return b.node("Scan", "_,x", "y", ir.GraphAttr("body", body), ir.IntAttr("num_scan_inputs", 1)).out("y")
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
