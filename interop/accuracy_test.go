package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// manifest is the part of testmodels/models.json this test reads.
type manifest struct {
	Models map[string]struct {
		Files map[string]struct {
			File string `json:"file"`
		} `json:"files"`
		Top1Correct int `json:"top1_correct"`
		TestImages  int `json:"test_images"`
	} `json:"models"`
}

func readManifest(t *testing.T) (string, manifest) {
	t.Helper()
	root, _ := testenv.RepoRoot()
	dir := filepath.Join(root, "testmodels")
	b, err := os.ReadFile(filepath.Join(dir, "models.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Models) == 0 {
		t.Fatal("testmodels/models.json lists no trained model")
	}
	return dir, m
}

// top1 counts rows whose highest logit is the label (the lower index wins ties, as
// torch.argmax and numpy.argmax do).
// fashionTop1 counts the Fashion-MNIST images (all of images, float [N,1,28,28]) a model
// classifies right, in whittle's runtime (batches of 500) and in ONNX Runtime.
func fashionTop1(t *testing.T, path string, images *kernel.Tensor, labels []int64) (whittle, ort int) {
	t.Helper()
	_, s := session(t, path)
	const batch = 500
	for start := 0; start < len(labels); start += batch {
		n := min(batch, len(labels)-start)
		rows := &kernel.Tensor{DType: images.DType, Shape: []int64{int64(n), 1, 28, 28},
			Data: images.Float32s()[start*784 : (start+n)*784]}
		outs, err := s.RunOrdered(context.Background(), []*kernel.Tensor{rows})
		if err != nil {
			t.Fatal(err)
		}
		whittle += top1(outs[0].Float32s(), 10, labels[start:start+n])
	}
	res, err := ortpeer.Run([]ortpeer.Job{{Model: path, Inputs: map[string]*kernel.Tensor{"input": images}}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	return whittle, top1(res[0].Outputs[0].Float32s(), 10, labels)
}

func top1(logits []float32, classes int, labels []int64) int {
	correct := 0
	for r, label := range labels {
		row := logits[r*classes : (r+1)*classes]
		best := 0
		for c := range row {
			if row[c] > row[best] {
				best = c
			}
		}
		if int64(best) == label {
			correct++
		}
	}
	return correct
}

// TestTrainedModelsAccuracy measures every committed Fashion-MNIST model on the 10,000 test
// images with whittle's runtime and with ONNX Runtime, and requires both to count the same
// correct images as PyTorch did at export time, to within one image (0.01 pp).
func TestTrainedModelsAccuracy(t *testing.T) {
	ds := fashionTestForORT(t, "runs every trained model on 10,000 images twice")
	dir, man := readManifest(t)
	all, err := ds.Batch(0, ds.Len())
	if err != nil {
		t.Fatal(err)
	}
	images, err := datafeed.FromDataset(all.Inputs[0])
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(man.Models))
	for n := range man.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		info := man.Models[name]
		for _, opset := range []string{"op13", "op17"} {
			f, ok := info.Files[opset]
			if !ok {
				continue
			}
			path := filepath.Join(dir, f.File)
			t.Run(f.File, func(t *testing.T) {
				whittle, ort := fashionTop1(t, path, images, all.Labels)
				pct := func(n int) string { return fmt.Sprintf("%.2f%% (%d)", 100*float64(n)/float64(len(all.Labels)), n) }
				t.Logf("%s: PyTorch %s, whittle %s, ONNX Runtime %s", f.File, pct(info.Top1Correct), pct(whittle), pct(ort))
				for _, got := range []struct {
					who string
					n   int
				}{{"whittle", whittle}, {"ONNX Runtime", ort}} {
					if d := got.n - info.Top1Correct; d < -1 || d > 1 {
						t.Errorf("%s counts %d correct, PyTorch %d: more than 0.01 pp apart", got.who, got.n, info.Top1Correct)
					}
				}
			})
		}
	}
}

// fashionTestForORT opens the Fashion-MNIST test set for a long test that scores models in
// whittle and ONNX Runtime: skipped under -short (saying why it is long), without the ORT
// peer or without the data set.
func fashionTestForORT(t *testing.T, long string) dataset.Dataset {
	t.Helper()
	if testing.Short() {
		t.Skip("long: " + long)
	}
	ortpeer.Require(t)
	ds, err := dataset.Open("fashion-mnist:test")
	if err != nil {
		testenv.Skipf(t, "Fashion-MNIST: %v (apt-get install dataset-fashion-mnist)", err)
	}
	return ds
}
