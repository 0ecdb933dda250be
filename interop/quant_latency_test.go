package interop

import (
	"os"
	"testing"

	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/passes"
)

// BenchmarkQuantizedLatencyORT times ONNX Runtime on the float and the static int8
// (per-channel QDQ) versions of ResNet-18 and MobileNetV2 in one Node.js process, batch 1,
// one thread, and reports the medians and the speed-up as metrics:
//
//	go test ./interop -run '^$' -bench QuantizedLatencyORT -benchtime 1x
func BenchmarkQuantizedLatencyORT(b *testing.B) {
	for i := 0; i < b.N; i++ {
		measureQuantizedLatency(b, i == 0)
	}
}

func measureQuantizedLatency(t testing.TB, report bool) {
	ortpeer.Require(t)
	dir, err := os.MkdirTemp("", "whittle-quant-latency-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	type pair struct{ name, float, quant string }
	var pairs []pair
	var jobs []ortpeer.Job
	for _, arch := range []string{"resnet18", "mobilenet_v2"} {
		path := torchvisionModel(t, arch, 13)
		m, _ := session(t, path)
		ds := randomCalibration(t, m, 4)
		q, _, _ := quantizeModel(t, path, dir, quantStatic, passes.DefaultQuantizeOptions(), ds, passes.MinMax)
		in := firstRows(t, m, ds, 1)
		pairs = append(pairs, pair{arch, path, q})
		for _, p := range []string{path, q} {
			jobs = append(jobs, ortpeer.Job{Model: p, Inputs: in, Threads: 1, Warmup: 3, Runs: 20})
		}
	}
	res, err := ortpeer.Run(jobs)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pairs {
		f, q := res[2*i], res[2*i+1]
		if f.Err != nil || q.Err != nil {
			t.Errorf("%s: %v %v", p.name, f.Err, q.Err)
			continue
		}
		t.Logf("%-13s ORT 1 thread, batch 1: float %.2f ms, int8 QDQ %.2f ms (median of %d): %.2fx",
			p.name, f.MedianMS(), q.MedianMS(), len(q.LatencyMS), f.MedianMS()/q.MedianMS())
		if b, ok := t.(*testing.B); ok && report {
			b.ReportMetric(f.MedianMS(), p.name+"-float-ms")
			b.ReportMetric(q.MedianMS(), p.name+"-int8-ms")
			b.ReportMetric(f.MedianMS()/q.MedianMS(), p.name+"-speedup")
		}
	}
}
