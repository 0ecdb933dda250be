package irdiff

import (
	"encoding/json"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/provenance"
)

// netSpec describes the small test network
//
//	X -> Conv(W[, B]) -> [BatchNormalization] -> Relu -> [Identity] -> Y
//
// with knobs for each golden case; zero values give the base model.
type netSpec struct {
	inputDims  []ir.Dim
	weights    []float32 // Conv weight, shape [2,1,2,2]
	bias       []float32 // Conv bias; nil: none
	biasName   string
	noBN       bool
	noIdentity bool
	pads       []int64
	dilations  []int64 // nil: attribute absent
	// names of the nodes (conv, bn, relu, id) and of the intermediate values (c, n, r).
	nodeNames  [4]string
	valueNames [3]string
	metadata   []ir.StringPair
}

var baseWeights = []float32{0.5, -0.25, 1, 2, -1, 0.75, 0.125, -2}

func baseSpec() netSpec {
	return netSpec{
		inputDims:  []ir.Dim{ir.Known(1), ir.Known(1), ir.Known(4), ir.Known(4)},
		weights:    baseWeights,
		pads:       []int64{0, 0, 0, 0},
		nodeNames:  [4]string{"conv", "bn", "relu", "id"},
		valueNames: [3]string{"c", "n", "r"},
	}
}

func buildNet(t testing.TB, s netSpec) *ir.Model {
	t.Helper()
	g := ir.NewGraph("net")
	x := g.AddInput("X", ir.TensorType(ir.Float, s.inputDims...))
	w := g.AddInitializer(ir.FromFloat32("W", []int64{2, 1, 2, 2}, s.weights))
	convIn := []*ir.Value{x, w}
	if s.bias != nil {
		convIn = append(convIn, g.AddInitializer(ir.FromFloat32(s.biasName, []int64{2}, s.bias)))
	}
	attrs := []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("pads", s.pads...)}
	if s.dilations != nil {
		attrs = append(attrs, ir.IntsAttr("dilations", s.dilations...))
	}
	conv := g.NewNode("", "Conv", convIn, []string{s.valueNames[0]}, attrs...)
	conv.Name = s.nodeNames[0]
	g.Append(conv)
	last := conv.Output(0)
	if !s.noBN {
		params := []*ir.Value{
			g.AddInitializer(ir.FromFloat32("bn.scale", []int64{2}, []float32{2, 0.5})),
			g.AddInitializer(ir.FromFloat32("bn.bias", []int64{2}, []float32{0.1, -0.1})),
			g.AddInitializer(ir.FromFloat32("bn.mean", []int64{2}, []float32{0, 1})),
			g.AddInitializer(ir.FromFloat32("bn.var", []int64{2}, []float32{1, 4})),
		}
		bn := g.NewNode("", "BatchNormalization", append([]*ir.Value{last}, params...), []string{s.valueNames[1]}, ir.FloatAttr("epsilon", 1e-5))
		bn.Name = s.nodeNames[1]
		g.Append(bn)
		last = bn.Output(0)
	}
	reluOut := s.valueNames[2]
	if s.noIdentity {
		reluOut = "Y"
	}
	relu := g.NewNode("", "Relu", []*ir.Value{last}, []string{reluOut})
	relu.Name = s.nodeNames[2]
	g.Append(relu)
	last = relu.Output(0)
	if !s.noIdentity {
		id := g.NewNode("", "Identity", []*ir.Value{last}, []string{"Y"})
		id.Name = s.nodeNames[3]
		g.Append(id)
		last = id.Output(0)
	}
	g.Outputs = append(g.Outputs, last)
	last.Type = ir.TensorType(ir.Float, s.inputDims[0], ir.Known(2), ir.Known(3), ir.Known(3))
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 13}}, ProducerName: "test", Graph: g, Metadata: s.metadata}
	if err := m.Verify(); err != nil {
		t.Fatalf("test model is invalid: %v", err)
	}
	return m
}

// whittleMetadata is what whittle writes into a model: the pipeline and the change log.
func whittleMetadata(t testing.TB, pipeline string, changes ...ChangeEntry) []ir.StringPair {
	t.Helper()
	log, err := json.Marshal(map[string]any{"changes": changes})
	if err != nil {
		t.Fatal(err)
	}
	return []ir.StringPair{{Key: PassesKey, Value: pipeline}, {Key: ChangelogKey, Value: string(log)}}
}

// goldenCase is a pair of models and what their diff must say.
type goldenCase struct {
	name string
	a, b netSpec
}

func goldenCases(t testing.TB) []goldenCase {
	identityRemoved := baseSpec()
	identityRemoved.noIdentity = true
	identityRemoved.metadata = whittleMetadata(t, `[{"whittle_version":"v0.1.0","pipeline":[{"pass":"eliminate_identity"}]}]`,
		ChangeEntry{Pass: "eliminate_identity", Kind: provenance.NodeRemoved, Node: "id", Op: "Identity"},
		ChangeEntry{Pass: "eliminate_identity", Kind: provenance.ValueRenamed, Value: "Y", From: "r", To: "Y"})

	// Folding bn into conv: W' = W * scale/sqrt(var+eps), B' = bias - mean*scale/sqrt(var+eps).
	bnFolded := baseSpec()
	bnFolded.noBN = true
	bnFolded.weights = []float32{0.99999, -0.499998, 1.99999, 3.99998, -0.249999, 0.1875, 0.03125, -0.5}
	bnFolded.bias = []float32{0.1, -0.35}
	bnFolded.biasName = "conv.bias"
	bnFolded.metadata = whittleMetadata(t, `[{"whittle_version":"v0.1.0","pipeline":[{"pass":"fold_constants"}]},{"whittle_version":"v0.1.0","pipeline":[{"pass":"fuse_bn_into_conv"},{"pass":"eliminate_identity","params":{"keep_graph_outputs":"true"}}]}]`,
		ChangeEntry{Pass: "fuse_bn_into_conv", Kind: provenance.InitializerChanged, Value: "W"},
		ChangeEntry{Pass: "fuse_bn_into_conv", Kind: provenance.InitializerAdded, Value: "conv.bias"},
		ChangeEntry{Pass: "fuse_bn_into_conv", Kind: provenance.InputRewired, Node: "conv", Op: "Conv", Index: 2, Value: "conv.bias"},
		ChangeEntry{Pass: "fuse_bn_into_conv", Kind: provenance.InputRewired, Node: "relu", Op: "Relu", Value: "c", From: "n", To: "c"},
		ChangeEntry{Pass: "fuse_bn_into_conv", Kind: provenance.NodeRemoved, Node: "bn", Op: "BatchNormalization"},
		ChangeEntry{Pass: "fuse_bn_into_conv", Kind: provenance.InitializerRemoved, Value: "bn.scale"},
		ChangeEntry{Pass: "fuse_bn_into_conv", Kind: provenance.InitializerRemoved, Value: "bn.bias"},
		ChangeEntry{Pass: "fuse_bn_into_conv", Kind: provenance.InitializerRemoved, Value: "bn.mean"},
		// bn.var's removal is deliberately not logged: the diff must mark it unexplained.
		// An entry for a change that is not visible must be listed as unmatched.
		ChangeEntry{Pass: "eliminate_identity", Kind: provenance.NodeRemoved, Node: "ghost", Op: "Identity"})

	attrChanged := baseSpec()
	attrChanged.pads = []int64{1, 1, 1, 1}
	attrChanged.dilations = []int64{1, 1}

	pruned := baseSpec()
	pruned.weights = []float32{0.5, 0, 1, 0, -1, 0, 0, -2} // 4 of 8 zero: sparsity 50%

	inputShape := baseSpec()
	inputShape.inputDims = []ir.Dim{ir.Symbolic("N"), ir.Known(1), ir.Known(4), ir.Known(4)}

	renamed := baseSpec()
	renamed.nodeNames = [4]string{"Conv_0", "BatchNormalization_1", "Relu_2", "Identity_3"}
	renamed.valueNames = [3]string{"t0", "t1", "t2"}

	return []goldenCase{
		{"identical", baseSpec(), baseSpec()},
		{"identity_removed", baseSpec(), identityRemoved},
		{"bn_folded", baseSpec(), bnFolded},
		{"attr_changed", baseSpec(), attrChanged},
		{"pruned", baseSpec(), pruned},
		{"input_shape", baseSpec(), inputShape},
		{"renamed", baseSpec(), renamed},
	}
}
