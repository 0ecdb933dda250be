package interop

import (
	"context"
	"os"
	"testing"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
)

// TestInt8KernelsAccuracy quantizes the trained Fashion-MNIST CNN and MLP (static,
// per-channel, 512 calibration images) and classifies test images twice in
// whittle's runtime: prepared (the QDQ groups on the integer kernels of runtime/ops/quant)
// and as written (Options.Reference: DequantizeLinear, float kernels, QuantizeLinear). The
// integer kernels round each convolution's exact sum once where the float chain rounds
// every product, so single 8-bit values may differ by a step; the accuracy must be
// identical and the predictions agree on all but a handful of images. The first 2,000 test
// images by default, all 10,000 with WHITTLE_QUANT_FULL=1.
func TestInt8KernelsAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("long: classifies thousands of images four times")
	}
	models := fashionModels(t)
	calib := openData(t, "fashion-mnist:train:512")
	test := openData(t, "fashion-mnist:test")
	if os.Getenv("WHITTLE_QUANT_FULL") == "" {
		test = dataset.Head(test, 2000)
	}
	dir := t.TempDir()
	for _, name := range []string{"fashion_cnn_op17", "fashion_mlp_op17"} {
		path, ok := models[name]
		if !ok {
			t.Fatalf("no test model %s", name)
		}
		q, _, _ := quantizeModel(t, path, dir, quantStatic, passes.DefaultQuantizeOptions(), calib, passes.MinMax)
		m, err := onnx.LoadModel(q)
		if err != nil {
			t.Fatal(err)
		}
		var preds [2][]int
		var correct [2]int
		for i, opts := range []runtime.Options{{}, {Reference: true}} {
			s, err := runtime.NewSession(m, opts)
			if err != nil {
				t.Fatal(err)
			}
			err = dataset.Each(test, 500, func(_ int, b dataset.Batch) error {
				feeds, err := datafeed.BatchFeeds(m, b)
				if err != nil {
					return err
				}
				outs, err := s.Run(context.Background(), feeds)
				if err != nil {
					return err
				}
				logits := outs[s.OutputNames()[0]].Float32s()
				for r, label := range b.Labels {
					p := argmax(logits[r*10 : (r+1)*10])
					preds[i] = append(preds[i], p)
					if int64(p) == label {
						correct[i]++
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		differ := 0
		for r := range preds[0] {
			if preds[0][r] != preds[1][r] {
				differ++
			}
		}
		n := len(preds[0])
		t.Logf("%s int8: %.2f%% on the integer kernels, %.2f%% as written (QDQ in float); predictions differ on %d of %d images",
			name, 100*float64(correct[0])/float64(n), 100*float64(correct[1])/float64(n), differ, n)
		if correct[0] != correct[1] {
			t.Errorf("%s: %d correct on the integer kernels, %d as written", name, correct[0], correct[1])
		}
		if differ > n/1000 {
			t.Errorf("%s: predictions differ on %d of %d images", name, differ, n)
		}
	}
}

func argmax(xs []float32) int {
	best := 0
	for i, v := range xs {
		if v > xs[best] {
			best = i
		}
	}
	return best
}
