package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// maxQuantDrop is the accuracy budget of the issue: int8 may cost at most 0.5 pp top-1.
const maxQuantDrop = 0.5

// quantVariant is one quantized file of a model.
type quantVariant struct {
	model, variant, path string
	// primary variants (float, static minmax, dynamic for the MLP and the transformer) are
	// measured by whittle on all test images; the others on the first whittleRows unless
	// WHITTLE_QUANT_FULL is set.
	primary bool
}

// whittleAccuracy runs path over the first rows of ds in whittle's runtime and returns the
// top-1 accuracy in percent.
func whittleAccuracy(t *testing.T, path string, ds dataset.Dataset, rows int) float64 {
	t.Helper()
	m, s := session(t, path)
	ds = dataset.Head(ds, rows)
	correct, n := 0, 0
	err := dataset.Each(ds, 500, func(_ int, b dataset.Batch) error {
		feeds, err := datafeed.BatchFeeds(m, b)
		if err != nil {
			return err
		}
		outs, err := s.Run(context.Background(), feeds)
		if err != nil {
			return err
		}
		correct += top1(outs[s.OutputNames()[0]].Float32s(), 10, b.Labels)
		n += len(b.Labels)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return 100 * float64(correct) / float64(n)
}

// TestQuantizedAccuracy quantizes each trained Fashion-MNIST model with 512 calibration
// images — static per-channel int8 with every calibration method (one calibration pass
// serves all four), and dynamic — and measures top-1 on the 10,000 test images with ONNX
// Runtime (fused integer kernels) and with whittle's runtime, requiring every variant to
// lose at most 0.5 pp against the float model on the same runtime and images. whittle
// measures the primary variants (static minmax; dynamic for the MLP and the transformer)
// on all 10,000 images and the others on the first 2,000 (all with WHITTLE_QUANT_FULL=1);
// the table is logged.
func TestQuantizedAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("long: evaluates a dozen models on 10,000 images")
	}
	ortpeer.Require(t)
	models := fashionModels(t)
	calib := openData(t, "fashion-mnist:train:512")
	test := openData(t, "fashion-mnist:test")
	whittleRows := 2000
	if os.Getenv("WHITTLE_QUANT_FULL") != "" {
		whittleRows = test.Len()
	}
	dir := t.TempDir()
	// One file per base model: the opset-17 export when there is one.
	bases := map[string]string{}
	for _, key := range sortedKeys(models) {
		base := key[:strings.LastIndex(key, "_")]
		if _, ok := bases[base]; !ok || strings.HasSuffix(key, "op17") {
			bases[base] = models[key]
		}
	}
	methods := []passes.CalibrationMethod{passes.MinMax, passes.MovingAverageMinMax, passes.Percentile, passes.Entropy}
	var variants []quantVariant
	opts := passes.DefaultQuantizeOptions()
	for _, base := range sortedKeys(bases) {
		m, err := onnx.LoadModel(bases[base])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := passes.Run(&passes.Context{Eval: runtime.ConstEvaluator{}}, m, passes.Default()); err != nil {
			t.Fatal(err)
		}
		if _, err := passes.PrepareForQuantization(nil, m); err != nil {
			t.Fatal(err)
		}
		save := func(variant string, q *ir.Model, primary bool) {
			path := filepath.Join(dir, base+"."+variant+".onnx")
			if err := onnx.SaveModel(path, q, onnx.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			variants = append(variants, quantVariant{model: base, variant: variant, path: path, primary: primary})
		}
		save("float", m.Clone(), true)
		plan, err := passes.PlanQuantization(m.Clone(), opts)
		if err != nil {
			t.Fatal(err)
		}
		collector := passes.NewRangeCollector(passes.CalibrationOptions{Method: passes.Entropy})
		cal := &datafeed.Calibrator{Data: calib, BatchSize: 64}
		if err := cal.Calibrate(m, plan.CalibrationTensors(), collector.Observe); err != nil {
			t.Fatal(err)
		}
		for _, method := range methods {
			ranges, err := collector.RangesWith(method)
			if err != nil {
				t.Fatal(err)
			}
			q := m.Clone()
			if _, err := passes.QuantizeStatic(nil, q, opts, ranges); err != nil {
				t.Fatalf("%s %s: %v", base, method, err)
			}
			save("static-"+string(method), q, method == passes.MinMax)
		}
		q := m.Clone()
		if _, err := passes.QuantizeDynamic(nil, q, opts); err != nil {
			t.Fatal(err)
		}
		save("dynamic", q, !strings.Contains(base, "cnn")) // the CNN's dynamic variant only touches its head
	}
	// ORT: all variants on all test images, one job each.
	all, err := test.Batch(0, test.Len())
	if err != nil {
		t.Fatal(err)
	}
	in, err := datafeed.FromDataset(all.Inputs[0])
	if err != nil {
		t.Fatal(err)
	}
	jobs := make([]ortpeer.Job, len(variants))
	for i, v := range variants {
		jobs[i] = ortpeer.Job{Model: v.path, Inputs: map[string]*kernel.Tensor{"input": in}}
	}
	results, err := ortpeer.Run(jobs)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		v                      quantVariant
		ort, whittle           float64
		whittleRows            int
		ortDrop, whittleDrop   float64
		floatORT, floatWhittle float64
	}
	var rows []row
	floatORT := map[string]float64{}
	// floatWhittle caches the float model's whittle accuracy per (model, rows).
	floatWhittle := map[string]float64{}
	whittleFloat := func(model string, n int) float64 {
		key := fmt.Sprintf("%s/%d", model, n)
		if _, ok := floatWhittle[key]; !ok {
			floatWhittle[key] = whittleAccuracy(t, filepath.Join(dir, model+".float.onnx"), test, n)
		}
		return floatWhittle[key]
	}
	for i, v := range variants {
		r := results[i]
		if r.Err != nil {
			t.Errorf("%s %s: ONNX Runtime: %v", v.model, v.variant, r.Err)
			continue
		}
		ort := 100 * float64(top1(r.Outputs[0].Float32s(), 10, all.Labels)) / float64(len(all.Labels))
		if v.variant == "float" {
			floatORT[v.model] = ort
		}
		n := whittleRows
		if v.primary {
			n = test.Len()
		}
		w := whittleAccuracy(t, v.path, test, n)
		if v.variant == "float" {
			floatWhittle[fmt.Sprintf("%s/%d", v.model, n)] = w
		}
		rw := row{v: v, ort: ort, whittle: w, whittleRows: n,
			floatORT: floatORT[v.model], floatWhittle: whittleFloat(v.model, n)}
		rw.ortDrop, rw.whittleDrop = rw.floatORT-ort, rw.floatWhittle-rw.whittle
		rows = append(rows, rw)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].v.model < rows[j].v.model })
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-12s %-18s %10s %10s %16s %10s\n", "model", "variant", "ORT top-1", "ORT drop", "whittle top-1", "drop")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-12s %-18s %9.2f%% %+9.2f %9.2f%% (%5d) %+9.2f\n", r.v.model, r.v.variant, r.ort, -r.ortDrop, r.whittle, r.whittleRows, -r.whittleDrop)
		if r.v.variant == "float" {
			continue
		}
		if r.ortDrop > maxQuantDrop || r.whittleDrop > maxQuantDrop {
			t.Errorf("%s %s loses %.2f pp in ORT and %.2f pp in whittle (budget %.1f)", r.v.model, r.v.variant, r.ortDrop, r.whittleDrop, maxQuantDrop)
		}
	}
	t.Log(b.String())
}
