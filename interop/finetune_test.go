package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/datafeed"
	"github.com/whittle-ml/whittle/train"
)

// FinetunedEnv names a folder of fine-tuned models (train/torchref/recovery.sh writes
// them as *_ft.onnx) that TestFinetunedModelsAgreeWithORT checks besides the ones it
// makes itself.
const FinetunedEnv = "WHITTLE_FINETUNED_DIR"

// TestFinetunedModelsAgreeWithORT prunes the CNN teacher (channel 50%, global unstructured
// 90%), fine-tunes each briefly with whittle, and counts the top-1 accuracy of
// every output on all 10,000 test images in whittle's runtime and in ONNX Runtime: the
// files whittle trains are ordinary inference models that ONNX Runtime scores the same.
func TestFinetunedModelsAgreeWithORT(t *testing.T) {
	test := fashionTestForORT(t, "fine-tunes three models and scores each on 10,000 images twice")
	root, _ := testenv.RepoRoot()
	teacher := filepath.Join(root, "testmodels", "fashion_cnn_op17.onnx")
	dir := t.TempDir()
	var files []string
	for _, v := range []struct {
		name string
		opts passes.PruneOptions
	}{
		{"c50", passes.PruneOptions{Pattern: passes.PatternChannel, Sparsity: 0.5, Scope: passes.ScopeLayer, Norm: "l1"}},
		{"u90", passes.PruneOptions{Pattern: passes.PatternUnstructured, Sparsity: 0.9, Scope: passes.ScopeGlobal, Norm: "l1"}},
	} {
		m, err := onnx.LoadModel(teacher)
		if err != nil {
			t.Fatal(err)
		}
		r := train.DefaultRecipe()
		r.Data, r.Epochs, r.LR, r.Augment = "fashion-mnist:train:1280", 1, 0.02, "flip"
		if _, err := train.PruneAndFinetune(m, v.opts, 1, r, train.Env{ToolVersion: whittle.Version()}); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		path := filepath.Join(dir, v.name+"_ft.onnx")
		if err := onnx.SaveModel(path, m, onnx.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	if extra := os.Getenv(FinetunedEnv); extra != "" {
		more, _ := filepath.Glob(filepath.Join(extra, "*_ft.onnx"))
		files = append(files, more...)
	}
	all, err := test.Batch(0, test.Len())
	if err != nil {
		t.Fatal(err)
	}
	images, err := datafeed.FromDataset(all.Inputs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".onnx"), func(t *testing.T) {
			ours, ort := fashionTop1(t, path, images, all.Labels)
			t.Logf("%s: whittle %d, ONNX Runtime %d of %d", filepath.Base(path), ours, ort, len(all.Labels))
			if d := ours - ort; d < -1 || d > 1 {
				t.Errorf("whittle counts %d correct, ONNX Runtime %d", ours, ort)
			}
		})
	}
}
