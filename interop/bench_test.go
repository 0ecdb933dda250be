package interop

import (
	"context"
	"testing"

	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// benchModel measures whittle's latency for one batch-1 run of a torchvision export and, in
// the same run, ONNX Runtime's median latency on the same model and input, reported as
// ort-ms and the ratio whittle/ORT (x-ort; below 1 means whittle is faster).
func benchModel(b *testing.B, arch string) {
	path := torchvisionModel(b, arch, 17)
	m, s := session(b, path)
	in := feedInputs(m)[0]
	inputs := map[string]*kernel.Tensor{in.Name: randomInput(in, 1, 3)}

	ortMS := 0.0
	if _, err := ortpeer.Dir(); err == nil {
		res, err := ortpeer.Run([]ortpeer.Job{{Model: path, Inputs: inputs, Warmup: 5, Runs: 30}})
		if err != nil || res[0].Err != nil {
			b.Fatalf("ONNX Runtime: %v %v", err, res[0].Err)
		}
		ortMS = res[0].MedianMS()
	}
	ctx := context.Background()
	if _, err := s.Run(ctx, inputs); err != nil { // warm the buffer pool
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Run(ctx, inputs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
	b.ReportMetric(ms, "ms/run")
	if ortMS > 0 {
		b.ReportMetric(ortMS, "ort-ms/run")
		b.ReportMetric(ms/ortMS, "x-ort")
	}
}

func BenchmarkResNet18(b *testing.B)       { benchModel(b, "resnet18") }
func BenchmarkResNet50(b *testing.B)       { benchModel(b, "resnet50") }
func BenchmarkMobileNetV2(b *testing.B)    { benchModel(b, "mobilenet_v2") }
func BenchmarkEfficientNetB0(b *testing.B) { benchModel(b, "efficientnet_b0") }
