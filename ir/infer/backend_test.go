package infer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// caseResult is how inference fared on one backend test model.
type caseResult struct {
	name    string
	outputs int
	exact   int      // outputs whose element type and every dimension match the real output
	misses  []string // what went wrong, for the log
	unknown []string
	loadErr error
}

// stripTypes forgets every type inference can recompute: node outputs in every graph
// (value_info and the graph outputs' declared types).
func stripTypes(m *ir.Model) {
	for _, g := range m.Graphs() {
		for _, n := range g.Nodes() {
			for _, v := range n.Outputs() {
				if v != nil {
					v.Type = nil
				}
			}
		}
		g.ValueInfoOrder = nil
	}
}

// realShape reads the dims of test_data_set_0/output_k.pb; ok is false for non-tensor
// outputs or missing data.
func realShape(dir string, k int, declared *ir.Type) ([]int64, bool) {
	if declared == nil || declared.Kind != ir.TensorKind {
		return nil, false
	}
	data, err := os.ReadFile(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("output_%d.pb", k)))
	if err != nil {
		return nil, false
	}
	var t onnxpb.TensorProto
	if err := proto.Unmarshal(data, &t); err != nil {
		return nil, false
	}
	return t.GetDims(), true
}

// bindInputs makes the small inputs of test_data_set_0 constants of the model, as if they
// were initializers, so that rules reading shape, axes or scale inputs can be checked on
// cases that pass those as graph inputs.
func bindInputs(m *ir.Model, dir string) {
	for k, v := range m.Graph.Inputs {
		if v.Const != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", k)))
		if err != nil {
			continue
		}
		var p onnxpb.TensorProto
		if proto.Unmarshal(data, &p) != nil {
			continue
		}
		t, err := onnx.TensorFromProto(&p)
		if err != nil || t.DataType == ir.String {
			continue
		}
		if n, err := t.NumElements(); err == nil && n <= 64 {
			v.Const = t
		}
	}
}

func runCase(dir string, bind bool) caseResult {
	r := caseResult{name: filepath.Base(dir)}
	m, err := onnx.LoadModel(filepath.Join(dir, "model.onnx"))
	if err != nil {
		r.loadErr = err
		return r
	}
	declared := make([]*ir.Type, len(m.Graph.Outputs))
	for i, v := range m.Graph.Outputs {
		declared[i] = v.Type.Clone()
	}
	stripTypes(m)
	if bind {
		bindInputs(m, dir)
	}
	rep, err := infer.Model(m, infer.Options{DataPropagation: true})
	if err != nil {
		r.loadErr = err
		return r
	}
	r.unknown = rep.Unknown
	for _, p := range rep.Problems {
		r.misses = append(r.misses, "problem: "+p.String())
	}
	for i, v := range m.Graph.Outputs {
		r.outputs++
		got, want := v.Type, declared[i]
		if miss := compareOutput(got, want); miss != "" {
			r.misses = append(r.misses, fmt.Sprintf("output %d %q: %s", i, v.Name, miss))
			continue
		}
		if dims, ok := realShape(dir, i, want); ok {
			static, ok := got.StaticDims()
			if !ok || fmt.Sprint(static) != fmt.Sprint(dims) {
				r.misses = append(r.misses, fmt.Sprintf("output %d %q: inferred %s, real shape %v", i, v.Name, got, dims))
				continue
			}
		}
		r.exact++
	}
	return r
}

// compareOutput checks an inferred type against the declared one: same kind and element
// type, same rank, and every dimension the declaration fixes inferred to the same size.
func compareOutput(got, want *ir.Type) string {
	if want == nil {
		return ""
	}
	if got == nil {
		return fmt.Sprintf("not inferred (declared %s)", want)
	}
	if got.Kind != want.Kind || got.Elem != want.Elem {
		return fmt.Sprintf("inferred %s, declared %s", got, want)
	}
	if got.Kind == ir.SequenceKind || got.Kind == ir.OptionalKind {
		return compareOutput(got.Inner, want.Inner)
	}
	if !want.HasShape {
		return ""
	}
	if !got.HasShape || len(got.Dims) != len(want.Dims) {
		return fmt.Sprintf("inferred %s, declared %s", got, want)
	}
	for k, d := range want.Dims {
		if d.IsKnown() && (!got.Dims[k].IsKnown() || got.Dims[k].Value != d.Value) {
			return fmt.Sprintf("inferred %s, declared %s", got, want)
		}
	}
	return ""
}

func runSuite(t *testing.T, dir string, bind bool) []caseResult {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var results []caseResult
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "model.onnx")); err != nil {
			continue
		}
		results = append(results, runCase(filepath.Join(dir, e.Name()), bind))
	}
	return results
}

func summarize(t *testing.T, suite string, results []caseResult) (models, exactModels int) {
	unknown := map[string]int{}
	var loadFails, outputs, exact int
	for _, r := range results {
		if r.loadErr != nil {
			loadFails++
			continue
		}
		models++
		outputs += r.outputs
		exact += r.exact
		if r.exact == r.outputs && len(r.misses) == 0 {
			exactModels++
		}
		for _, u := range r.unknown {
			unknown[u]++
		}
	}
	var ops []string
	for op, n := range unknown {
		ops = append(ops, fmt.Sprintf("%s(%d)", op, n))
	}
	sort.Strings(ops)
	t.Logf("%s: %d models loaded (%d failed to load); %d/%d models fully exact; %d/%d outputs exact; ops without rules: %s",
		suite, models, loadFails, exactModels, models, exact, outputs, strings.Join(ops, " "))
	return models, exactModels
}

// TestPytorchConverted requires every output of every pytorch-converted model to be inferred
// exactly from the graph inputs alone.
func TestPytorchConverted(t *testing.T) {
	root := testenv.ONNXTestsDir(t)
	results := runSuite(t, filepath.Join(root, "pytorch-converted"), false)
	if len(results) == 0 {
		t.Fatal("no models found")
	}
	for _, r := range results {
		if r.loadErr != nil {
			t.Errorf("%s: %v", r.name, r.loadErr)
			continue
		}
		if r.exact != r.outputs || len(r.misses) > 0 {
			t.Errorf("%s: %d/%d outputs exact: %s", r.name, r.exact, r.outputs, strings.Join(r.misses, "; "))
		}
	}
	summarize(t, "pytorch-converted", results)
}

// TestNodeSuite measures inference over the ONNX node tests; the figure is logged (run with
// -v), and only a collapse below a floor fails the test.
func TestNodeSuite(t *testing.T) {
	root := testenv.ONNXTestsDir(t)
	for _, bind := range []bool{false, true} {
		suite := "node"
		if bind {
			suite = "node (small test inputs bound as constants)"
		}
		results := runSuite(t, filepath.Join(root, "node"), bind)
		models, exact := summarize(t, suite, results)
		if os.Getenv("WHITTLE_INFER_MISSES") != "" {
			for _, r := range results {
				if len(r.misses) > 0 || r.loadErr != nil {
					t.Logf("%s: %s: load=%v %s", suite, r.name, r.loadErr, strings.Join(r.misses, "; "))
				}
			}
		}
		floor := floorPercent
		if bind {
			floor = floorBoundPercent
		}
		if models == 0 || exact*100 < models*floor {
			t.Errorf("%s: only %d of %d models inferred exactly (floor %d%%)", suite, exact, models, floor)
		}
	}
}

// floorPercent guards against regressions in the node-suite figure.
const floorPercent, floorBoundPercent = 65, 80
