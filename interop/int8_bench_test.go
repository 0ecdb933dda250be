package interop

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// BenchmarkInt8Latency measures, batch 1, the torchvision exports (ResNet-18, ResNet-50,
// MobileNetV2 at opset 17, random weights) float and `whittle quantize`d (static,
// per-channel QDQ, calibrated on 4 random images) in whittle's runtime and in ONNX Runtime
// with the same thread count. The machine is shared, so the four are measured in
// alternating rounds (whittle float, whittle int8, then ORT float and int8 in one Node.js
// process) and each reports its median over all rounds (the ratios compare medians taken
// under the same load), its fastest run (the least disturbed) and its median CPU time per
// run (each process's, all threads: with one thread, what a run costs however long it
// waited for a core):
//
//	go test ./interop -run '^$' -bench Int8Latency -benchtime 1x [-args -rounds 6 -runs 15]
//
// WHITTLE_BENCH_MODELS (comma-separated architectures) and WHITTLE_BENCH_THREADS
// ("1,2") narrow or widen the set.
var (
	benchRounds = flag.Int("rounds", 6, "BenchmarkInt8Latency: alternating rounds")
	benchRuns   = flag.Int("runs", 15, "BenchmarkInt8Latency: timed runs of each variant per round")
)

func BenchmarkInt8Latency(b *testing.B) {
	ortpeer.Require(b)
	archs := []string{"resnet18", "resnet50", "mobilenet_v2"}
	if s := os.Getenv("WHITTLE_BENCH_MODELS"); s != "" {
		archs = strings.Split(s, ",")
	}
	threadCounts := []int{1}
	if s := os.Getenv("WHITTLE_BENCH_THREADS"); s != "" {
		threadCounts = nil
		for _, f := range strings.Split(s, ",") {
			var t int
			fmt.Sscan(f, &t)
			threadCounts = append(threadCounts, max(t, 1))
		}
	}
	dir := b.TempDir()
	for _, arch := range archs {
		path := torchvisionModel(b, arch, 17)
		fm, _ := session(b, path)
		ds := randomCalibration(b, fm, 4)
		q, _, _ := quantizeModel(b, path, dir, quantStatic, passes.DefaultQuantizeOptions(), ds, passes.MinMax)
		in := firstRows(b, fm, ds, 1)
		for _, threads := range threadCounts {
			b.Run(fmt.Sprintf("%s/threads%d", arch, threads), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					r := measureInt8(b, path, q, in, threads, *benchRounds, *benchRuns)
					if i == 0 {
						r.report(b, arch, threads)
					}
				}
			})
		}
	}
}

// int8Timings are the latencies (ms) of one model's four variants, and their CPU times.
type int8Timings struct {
	whittleFloat, whittleInt8, ortFloat, ortInt8 []float64
	cpu                                          [4][]float64 // the same order
}

func measureInt8(b *testing.B, floatPath, int8Path string, in map[string]*kernel.Tensor, threads, rounds, runs int) *int8Timings {
	var sessions [2]*runtime.Session
	for i, p := range []string{floatPath, int8Path} {
		m, err := onnx.LoadModel(p)
		if err != nil {
			b.Fatal(err)
		}
		if sessions[i], err = runtime.NewSession(m, runtime.Options{Threads: threads}); err != nil {
			b.Fatal(err)
		}
	}
	timeWhittle := func(s *runtime.Session, out, cpu *[]float64) {
		ctx := context.Background()
		for i := 0; i < runs+2; i++ {
			t0, c0 := time.Now(), cpuTime()
			if _, err := s.Run(ctx, in); err != nil {
				b.Fatal(err)
			}
			if i >= 2 { // the first runs fill the buffer pool
				*out = append(*out, float64(time.Since(t0).Microseconds())/1000)
				*cpu = append(*cpu, float64((cpuTime()-c0).Microseconds())/1000)
			}
		}
	}
	t := &int8Timings{}
	for round := 0; round < rounds; round++ {
		timeWhittle(sessions[0], &t.whittleFloat, &t.cpu[0])
		timeWhittle(sessions[1], &t.whittleInt8, &t.cpu[1])
		res, err := ortpeer.Run([]ortpeer.Job{
			{Model: floatPath, Inputs: in, Threads: threads, Warmup: 2, Runs: runs},
			{Model: int8Path, Inputs: in, Threads: threads, Warmup: 2, Runs: runs},
		})
		if err != nil || res[0].Err != nil || res[1].Err != nil {
			b.Fatalf("ONNX Runtime: %v %v %v", err, res[0].Err, res[1].Err)
		}
		t.ortFloat = append(t.ortFloat, res[0].LatencyMS...)
		t.ortInt8 = append(t.ortInt8, res[1].LatencyMS...)
		t.cpu[2] = append(t.cpu[2], res[0].CPUMS...)
		t.cpu[3] = append(t.cpu[3], res[1].CPUMS...)
	}
	return t
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// fastest is the minimum: on a shared machine, the run least disturbed.
func fastest(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func (t *int8Timings) report(b *testing.B, arch string, threads int) {
	wf, w8, of, o8 := median(t.whittleFloat), median(t.whittleInt8), median(t.ortFloat), median(t.ortInt8)
	b.Logf("%s, %d thread(s), medians of %d runs: whittle fp32 %.2f ms, int8 %.2f ms (%.2fx faster); ORT fp32 %.2f ms, int8 %.2f ms (%.2fx); whittle/ORT fp32 %.2f, int8 %.2f",
		arch, threads, len(t.whittleInt8), wf, w8, wf/w8, of, o8, of/o8, wf/of, w8/o8)
	mf, m8, nf, n8 := fastest(t.whittleFloat), fastest(t.whittleInt8), fastest(t.ortFloat), fastest(t.ortInt8)
	b.Logf("%s, %d thread(s), fastest runs: whittle fp32 %.2f ms, int8 %.2f ms (%.2fx faster); ORT fp32 %.2f ms, int8 %.2f ms (%.2fx); whittle/ORT fp32 %.2f, int8 %.2f",
		arch, threads, mf, m8, mf/m8, nf, n8, nf/n8, mf/nf, m8/n8)
	if len(t.cpu[2]) > 0 && len(t.cpu[0]) > 0 {
		cf, c8, df, d8 := median(t.cpu[0]), median(t.cpu[1]), median(t.cpu[2]), median(t.cpu[3])
		b.Logf("%s, %d thread(s), CPU time per run (medians): whittle fp32 %.2f ms, int8 %.2f ms (%.2fx less); ORT fp32 %.2f ms, int8 %.2f ms (%.2fx); whittle/ORT fp32 %.2f, int8 %.2f",
			arch, threads, cf, c8, cf/c8, df, d8, df/d8, cf/df, c8/d8)
	}
	b.ReportMetric(w8, "whittle-int8-ms")
	b.ReportMetric(wf, "whittle-fp32-ms")
	b.ReportMetric(o8, "ort-int8-ms")
	b.ReportMetric(of, "ort-fp32-ms")
	b.ReportMetric(w8/o8, "int8-x-ort")
	b.ReportMetric(wf/w8, "int8-speedup")
	b.ReportMetric(m8/n8, "int8-x-ort-fastest")
}
