package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/whittle-ml/whittle/compare"
	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
)

// quantMode names how a test model is quantized.
type quantMode string

const (
	quantStatic  quantMode = "static"
	quantDynamic quantMode = "dynamic"
)

// fashionModels returns the trained Fashion-MNIST models listed in testmodels/models.json
// (name_opN -> path), failing when there are none.
func fashionModels(t *testing.T) map[string]string {
	t.Helper()
	root, _ := testenv.RepoRoot()
	dir := filepath.Join(root, "testmodels")
	b, err := os.ReadFile(filepath.Join(dir, "models.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Models map[string]struct {
			Files map[string]struct {
				File string `json:"file"`
			} `json:"files"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, model := range m.Models {
		for tag, f := range model.Files {
			path := filepath.Join(dir, f.File)
			if _, err := os.Stat(path); err == nil {
				out[name+"_"+tag] = path
			}
		}
	}
	if len(out) == 0 {
		testenv.Skipf(t, "testmodels/models.json lists no trained model file yet")
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// quantizeModel loads path, cleans it with the default (lossless) pipeline as the CLI
// does, quantizes it and writes it into dir. Static quantization calibrates on calib.
func quantizeModel(t testing.TB, path, dir string, mode quantMode, opts passes.QuantizeOptions, calib dataset.Dataset, method passes.CalibrationMethod) (string, *ir.Model, *passes.QuantizeReport) {
	t.Helper()
	m, err := onnx.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(&passes.Context{Eval: runtime.ConstEvaluator{}}, m, passes.Default()); err != nil {
		t.Fatalf("%s: optimize: %v", path, err)
	}
	if _, err := passes.PrepareForQuantization(nil, m); err != nil {
		t.Fatal(err)
	}
	float := m.Clone()
	var rep *passes.QuantizeReport
	switch mode {
	case quantDynamic:
		rep, err = passes.QuantizeDynamic(nil, m, opts)
	default:
		plan, perr := passes.PlanQuantization(m, opts)
		if perr != nil {
			t.Fatal(perr)
		}
		ranges, cerr := passes.CollectRanges(m, plan.CalibrationTensors(), &datafeed.Calibrator{Data: calib}, passes.CalibrationOptions{Method: method})
		if cerr != nil {
			t.Fatalf("%s: %v", path, cerr)
		}
		rep, err = passes.QuantizeStatic(nil, m, opts, ranges)
	}
	if err != nil {
		t.Fatalf("%s: quantize: %v", path, err)
	}
	if err := m.Verify(); err != nil {
		t.Fatalf("%s: quantized model is invalid: %v", path, err)
	}
	out := filepath.Join(dir, filepath.Base(path[:len(path)-len(filepath.Ext(path))])+"."+string(mode)+".onnx")
	if err := onnx.SaveModel(out, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return out, float, rep
}

// randomCalibration makes rows of random inputs for m.
func randomCalibration(t testing.TB, m *ir.Model, rows int) dataset.Dataset {
	t.Helper()
	ds, err := compare.RandomData(m, rows, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// openData opens a dataset spec or skips (fails under WHITTLE_STRICT) without the data.
func openData(t testing.TB, spec string) dataset.Dataset {
	t.Helper()
	ds, err := dataset.Open(spec)
	if err != nil {
		testenv.Skipf(t, "dataset %s: %v", spec, err)
	}
	return ds
}
