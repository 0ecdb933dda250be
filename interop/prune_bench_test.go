package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// pruneLatencyRow is one model variant measured in ONNX Runtime.
type pruneLatencyRow struct {
	model, variant string
	params, macs   int64
	ortMS          float64
}

// fashionCNN returns the Fashion-MNIST CNN teacher when it has been trained, else "".
func fashionCNN() string {
	root, ok := testenv.RepoRoot()
	if !ok {
		return ""
	}
	p := filepath.Join(root, "testmodels", "fashion_cnn_op17.onnx")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// measurePruneLatency prunes channels at 25% and 50% and times the original and both
// pruned models in ONNX Runtime in one Node.js process: batch 1, one intra-op thread (the
// machine is shared, so one thread measures work rather than contention), the median of
// runs runs after warmup.
func measurePruneLatency(tb testing.TB, warmup, runs int) []pruneLatencyRow {
	ortpeer.Require(tb)
	dir := tb.TempDir()
	models := map[string]string{"resnet18": torchvisionModel(tb, "resnet18", 17)}
	order := []string{"resnet18"}
	if p := fashionCNN(); p != "" {
		models["fashion_cnn"] = p
		order = append(order, "fashion_cnn")
	} else {
		tb.Logf("testmodels/fashion_cnn_op17.onnx is not there yet (being trained): measuring ResNet-18 only")
	}
	var rows []pruneLatencyRow
	var jobs []ortpeer.Job
	for _, name := range order {
		path := models[name]
		m, err := onnx.LoadModel(path)
		if err != nil {
			tb.Fatal(err)
		}
		in := feedInputs(m)[0]
		inputs := map[string]*kernel.Tensor{in.Name: randomInput(in, 1, 5)}
		var base passes.ModelSummary
		for _, s := range []float64{0, 0.25, 0.5} {
			file, variant := path, "original"
			var sum passes.ModelSummary
			if s > 0 {
				var rep *passes.PruneReport
				file, rep = prunedChannels(tb, path, s, dir)
				variant, sum, base = fmt.Sprintf("channel %.0f%%", 100*s), rep.After, rep.Before
			}
			rows = append(rows, pruneLatencyRow{model: name, variant: variant, params: sum.Params, macs: sum.MACs})
			jobs = append(jobs, ortpeer.Job{Model: file, Inputs: inputs, Warmup: warmup, Runs: runs, Threads: 1})
		}
		rows[len(rows)-3].params, rows[len(rows)-3].macs = base.Params, base.MACs
	}
	results, err := ortpeer.Run(jobs)
	if err != nil {
		tb.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil {
			tb.Fatalf("%s %s: ONNX Runtime: %v", rows[i].model, rows[i].variant, r.Err)
		}
		rows[i].ortMS = r.MedianMS()
	}
	return rows
}

func formatPruneRows(rows []pruneLatencyRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s %-12s %12s %14s %10s %8s\n", "model", "variant", "params", "MACs (b=1)", "ORT ms", "speedup")
	base := 0.0
	for _, r := range rows {
		if r.variant == "original" {
			base = r.ortMS
		}
		fmt.Fprintf(&b, "%-12s %-12s %12d %14d %10.2f %7.2fx\n", r.model, r.variant, r.params, r.macs, r.ortMS, base/r.ortMS)
	}
	return b.String()
}

// TestPruneChannelsShrinksWork requires channel pruning to cut parameters and MACs and the
// pruned models to run in ONNX Runtime. Latency is only logged here: speed is measured by
// BenchmarkPruneChannelsORT, never asserted in a test.
func TestPruneChannelsShrinksWork(t *testing.T) {
	rows := measurePruneLatency(t, 1, 3)
	t.Logf("channel pruning in ONNX Runtime (median of 3 runs, batch 1; see the benchmark for figures):\n%s", formatPruneRows(rows))
	for i := 0; i+2 < len(rows); i += 3 {
		orig, half := rows[i], rows[i+2]
		if half.macs >= orig.macs || half.params >= orig.params {
			t.Errorf("%s: 50%% channel pruning left MACs %d -> %d, params %d -> %d", orig.model, orig.macs, half.macs, orig.params, half.params)
		}
	}
}

// BenchmarkPruneChannelsORT reports the same figures as metrics (go test -bench
// PruneChannelsORT -benchtime 1x ./interop).
func BenchmarkPruneChannelsORT(b *testing.B) {
	for i := 0; i < b.N; i++ {
		rows := measurePruneLatency(b, 10, 50)
		if i > 0 {
			continue
		}
		b.Logf("\n%s", formatPruneRows(rows))
		for _, r := range rows {
			tag := strings.ReplaceAll(r.model+"-"+strings.ReplaceAll(r.variant, " ", ""), "%", "pct")
			b.ReportMetric(r.ortMS, tag+"-ort-ms")
			b.ReportMetric(float64(r.macs)/1e6, tag+"-MMACs")
		}
	}
}
