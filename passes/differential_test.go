package passes_test

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/conformance"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Differential tests: each cleanup pass alone, and the default pipeline, must keep a
// model's outputs. Original and optimized models run with whittle's runtime on the same
// inputs; outputs must agree within 1e-5 relative plus 1e-6 absolute.

const (
	relTol = 1e-5
	absTol = 1e-6
)

// cleanups are the passes tested one by one; "default" is passes.Default().
var cleanups = []string{
	"eliminate_dead", "eliminate_identity", "fold_constants", "fuse_bn_into_conv",
	"fuse_matmul_add_into_gemm", "fuse_consecutive_transposes", "simplify_shape_ops",
	"eliminate_common_subexpressions", "dedup_initializers", "constants_to_initializers", "default",
}

func pipelineOf(t *testing.T, name string) passes.Pipeline {
	if name == "default" {
		return passes.Default()
	}
	p, err := passes.ParsePipeline(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// optimize runs a pipeline on a copy of m with verification after every pass, then round-
// trips the result through the ONNX encoder so that what would be written is what runs.
func optimize(t *testing.T, m *ir.Model, pipeline passes.Pipeline) (*ir.Model, *passes.Report) {
	t.Helper()
	c := m.Clone()
	ctx := &passes.Context{VerifyEach: true, Eval: runtime.ConstEvaluator{}}
	rep, err := passes.Run(ctx, c, pipeline)
	if err != nil {
		t.Fatalf("%s: %v", pipeline, err)
	}
	p, err := onnx.FromIR(c)
	if err != nil {
		t.Fatalf("%s: encode: %v", pipeline, err)
	}
	back, err := onnx.ToIR(p)
	if err != nil {
		t.Fatalf("%s: the optimized model does not load back: %v", pipeline, err)
	}
	if err := back.Verify(); err != nil {
		t.Fatalf("%s: reloaded model is invalid: %v", pipeline, err)
	}
	return back, rep
}

// feeds names the graph inputs a caller supplies (those without an initializer).
func feeds(m *ir.Model) []*ir.Value {
	var out []*ir.Value
	for _, v := range m.Graph.Inputs {
		if !v.IsConst() {
			out = append(out, v)
		}
	}
	return out
}

func runModel(m *ir.Model, names []string, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return nil, err
	}
	in := map[string]*kernel.Tensor{}
	for i, name := range names {
		in[name] = inputs[i]
	}
	out, err := sess.Run(context.Background(), in)
	if err != nil {
		return nil, err
	}
	res := make([]*kernel.Tensor, len(m.Graph.Outputs))
	for i, v := range m.Graph.Outputs {
		res[i] = out[v.Name]
	}
	return res, nil
}

// compareOutputs checks every output within the tolerance, naming the first that differs.
func compareOutputs(m *ir.Model, got, want []*kernel.Tensor) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	for i := range want {
		if err := compareTensor(got[i], want[i]); err != nil {
			return fmt.Errorf("output %d (%s): %w", i, m.Graph.Outputs[i].Name, err)
		}
	}
	return nil
}

func compareTensor(got, want *kernel.Tensor) error {
	if got == nil || want == nil {
		if got != want {
			return fmt.Errorf("one side is missing")
		}
		return nil
	}
	if got.Kind != want.Kind {
		return fmt.Errorf("kind %v, want %v", got.Kind, want.Kind)
	}
	if want.Kind == kernel.SequenceValue {
		if len(got.Seq) != len(want.Seq) {
			return fmt.Errorf("sequence of %d, want %d", len(got.Seq), len(want.Seq))
		}
		for i := range want.Seq {
			if err := compareTensor(got.Seq[i], want.Seq[i]); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		return nil
	}
	if want.Kind == kernel.NoneValue {
		return nil
	}
	if got.DType != want.DType || !reflect.DeepEqual(normShape(got.Shape), normShape(want.Shape)) {
		return fmt.Errorf("%s%v, want %s%v", got.DType, got.Shape, want.DType, want.Shape)
	}
	g, okg := widen(got)
	w, okw := widen(want)
	if !okg || !okw {
		if !reflect.DeepEqual(got.Data, want.Data) {
			return fmt.Errorf("data differs")
		}
		return nil
	}
	for i := range w {
		if math.IsNaN(w[i]) && math.IsNaN(g[i]) {
			continue
		}
		if math.IsInf(w[i], 0) && g[i] == w[i] {
			continue
		}
		if d := math.Abs(g[i] - w[i]); !(d <= absTol+relTol*math.Abs(w[i])) {
			return fmt.Errorf("element %d = %g, want %g (diff %g)", i, g[i], w[i], d)
		}
	}
	return nil
}

func normShape(s []int64) []int64 {
	if len(s) == 0 {
		return nil
	}
	return s
}

func widen(t *kernel.Tensor) ([]float64, bool) {
	var out []float64
	switch d := t.Data.(type) {
	case []float32:
		for _, v := range d {
			out = append(out, float64(v))
		}
	case []float64:
		out = append(out, d...)
	case []int64:
		for _, v := range d {
			out = append(out, float64(v))
		}
	case []int32:
		for _, v := range d {
			out = append(out, float64(v))
		}
	case []uint16:
		if t.DType != ir.Float16 {
			return nil, false
		}
		for _, v := range d {
			out = append(out, float64(kernel.Float16ToFloat32(v)))
		}
	default:
		return nil, false
	}
	return out, true
}

// caseResult is one model's outcome, for the summary.
type caseResult struct {
	name          string
	before, after int
}

// runDifferential checks every cleanup on one model with its inputs.
func runDifferential(t *testing.T, m *ir.Model, names []string, inputs []*kernel.Tensor, pipelines []string) (caseResult, bool) {
	t.Helper()
	want, err := runModel(m, names, inputs)
	if err != nil {
		// The runtime cannot run the original (a missing kernel): nothing to compare.
		t.Logf("original does not run: %v", firstLine(err))
		return caseResult{}, false
	}
	res := caseResult{before: m.Graph.NumNodes()}
	for _, name := range pipelines {
		opt, _ := optimize(t, m, pipelineOf(t, name))
		got, err := runModel(opt, names, inputs)
		if err != nil {
			t.Errorf("%s: optimized model does not run: %v", name, err)
			continue
		}
		if err := compareOutputs(m, got, want); err != nil {
			t.Errorf("%s changed the outputs: %v", name, err)
		}
		if name == "default" {
			res.after = opt.Graph.NumNodes()
		}
	}
	return res, true
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

func caseDirs(t *testing.T, suite string) []string {
	dir := filepath.Join(testenv.ONNXTestsDir(t), suite)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

func differentialSuite(t *testing.T, suite string) []caseResult {
	var results []caseResult
	ran, notRun := 0, 0
	for _, dir := range caseDirs(t, suite) {
		var res caseResult
		var ok bool
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c, err := conformance.LoadCase(dir)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			var names []string
			for _, v := range feeds(c.Model) {
				names = append(names, v.Name)
			}
			res, ok = runDifferential(t, c.Model, names, c.DataSets[0].Inputs, cleanups)
			res.name = filepath.Base(dir)
		})
		if ok {
			ran++
			results = append(results, res)
		} else {
			notRun++
		}
	}
	t.Logf("%s: %d models compared, %d not runnable by the runtime", suite, ran, notRun)
	if ran == 0 {
		t.Errorf("%s: no model could be compared", suite)
	}
	return results
}

func TestDifferentialPytorchConverted(t *testing.T) {
	results := differentialSuite(t, "pytorch-converted")
	before, after := 0, 0
	var changed []string
	for _, r := range results {
		before += r.before
		after += r.after
		if r.after != r.before {
			changed = append(changed, fmt.Sprintf("%s %d->%d", r.name, r.before, r.after))
		}
	}
	sort.Strings(changed)
	t.Logf("pytorch-converted node counts under the default pipeline: %d -> %d over %d models", before, after, len(results))
	for _, c := range changed {
		t.Logf("  %s", c)
	}
}

func TestDifferentialSimple(t *testing.T) { differentialSuite(t, "simple") }

// TestDifferentialTestModels runs the default pipeline on whittle's own test models (the
// trained ones in testmodels/*.onnx and the torchvision exports) with seeded random inputs.
func TestDifferentialTestModels(t *testing.T) {
	root, ok := testenv.RepoRoot()
	if !ok {
		t.Skip("no repository root")
	}
	files, _ := filepath.Glob(filepath.Join(root, "testmodels", "*.onnx"))
	tv, _ := filepath.Glob(filepath.Join(root, "testmodels", "torchvision", "*.onnx"))
	if testing.Short() {
		tv = nil // large: a few seconds each on two cores
	}
	files = append(files, tv...)
	if len(files) == 0 {
		t.Skip("no models in testmodels/ yet")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m, err := onnx.LoadModel(f)
			if err != nil {
				t.Fatal(err)
			}
			names, inputs := randomInputs(t, m, 1)
			res, ok := runDifferential(t, m, names, inputs, []string{"default"})
			if !ok {
				testenv.Skipf(t, "runtime cannot run %s", f)
			}
			t.Logf("%s: %d -> %d nodes", filepath.Base(f), res.before, res.after)
		})
	}
}

// randomInputs makes seeded inputs of the declared shapes (symbolic dimensions = 1).
func randomInputs(t *testing.T, m *ir.Model, seed int64) ([]string, []*kernel.Tensor) {
	rng := rand.New(rand.NewSource(seed))
	var names []string
	var out []*kernel.Tensor
	for _, v := range feeds(m) {
		if v.Type == nil || v.Type.Kind != ir.TensorKind || !v.Type.HasShape {
			t.Fatalf("input %q has no tensor shape", v.Name)
		}
		shape := make([]int64, len(v.Type.Dims))
		for i, d := range v.Type.Dims {
			shape[i] = 1
			if d.IsKnown() {
				shape[i] = d.Value
			}
		}
		k := kernel.New(v.Type.Elem, shape...)
		switch d := k.Data.(type) {
		case []float32:
			for i := range d {
				d[i] = float32(rng.NormFloat64())
			}
		case []float64:
			for i := range d {
				d[i] = rng.NormFloat64()
			}
		case []int64:
			for i := range d {
				d[i] = rng.Int63n(10)
			}
		default:
			t.Fatalf("input %q: no random generator for %s", v.Name, v.Type.Elem)
		}
		names = append(names, v.Name)
		out = append(out, k)
	}
	return names, out
}
