package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
)

// TestShardedCalibrationIsByteIdentical calibrates on four shards of the data, merges the
// statistics in quantize --stats, and checks that the quantized file is byte for byte the
// one a single quantize over all the data writes (histograms with entropy, and minmax).
func TestShardedCalibrationIsByteIdentical(t *testing.T) {
	if _, err := os.Stat(filepath.Join(fashionDir(), "train-images-idx3-ubyte.gz")); err != nil {
		testenv.Skipf(t, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	root, _ := testenv.RepoRoot()
	for _, tc := range []struct{ model, method string }{
		{"fashion_cnn_op17.onnx", "entropy"},
		{"fashion_mlp_op17.onnx", "minmax"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			model := filepath.Join(root, "testmodels", tc.model)
			dir := t.TempDir()
			data := "fashion-mnist:train:300"
			single := filepath.Join(dir, "single.onnx")
			if code, _, stderr := run(t, "quantize", model, "-o", single, "--calibration", data, "--method", tc.method); code != 0 {
				t.Fatal(stderr)
			}
			for k := 1; k <= 4; k++ {
				out := filepath.Join(dir, fmt.Sprintf("stats-%d.json", k))
				code, _, stderr := run(t, "calibrate", model, "--data", data, "--method", tc.method, "--shard", fmt.Sprintf("%d/4", k), "-o", out)
				if code != 0 {
					t.Fatalf("shard %d: %s", k, stderr)
				}
			}
			merged := filepath.Join(dir, "merged.onnx")
			if code, _, stderr := run(t, "quantize", model, "-o", merged, "--stats", filepath.Join(dir, "stats-*.json")); code != 0 {
				t.Fatal(stderr)
			}
			a, _ := os.ReadFile(single)
			b, _ := os.ReadFile(merged)
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Fatalf("merged shards give a different file (%d bytes) than one run (%d bytes)", len(b), len(a))
			}
			// A missing shard is refused.
			os.Remove(filepath.Join(dir, "stats-3.json"))
			if code, _, _ := run(t, "quantize", model, "-o", filepath.Join(dir, "x.onnx"), "--stats", filepath.Join(dir, "stats-*.json")); code == 0 {
				t.Errorf("quantize --stats accepted 3 of 4 shards")
			}
		})
	}
}

// TestShardedEvalMerges checks that the counts of eval --shard over four shards add up,
// through eval --merge, to those of one eval.
func TestShardedEvalMerges(t *testing.T) {
	if _, err := os.Stat(filepath.Join(fashionDir(), "t10k-images-idx3-ubyte.gz")); err != nil {
		testenv.Skipf(t, "Fashion-MNIST is not installed: %v", err)
	}
	root, _ := testenv.RepoRoot()
	model := filepath.Join(root, "testmodels", "fashion_mlp_op17.onnx")
	dir := t.TempDir()
	parse := func(s string) map[string]any {
		var v map[string]any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	_, whole, _ := run(t, "eval", model, "--data", "fashion-mnist:test:450", "--batch", "50", "--json")
	for k := 1; k <= 4; k++ {
		code, out, stderr := run(t, "eval", model, "--data", "fashion-mnist:test:450", "--batch", "50", "--shard", fmt.Sprintf("%d/4", k), "--json")
		if code != 0 {
			t.Fatal(stderr)
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("eval-%d.json", k)), []byte(out), 0o644)
	}
	code, merged, stderr := run(t, "eval", "--merge", filepath.Join(dir, "eval-*.json"), "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	w, m := parse(whole), parse(merged)
	for _, key := range []string{"rows", "top1_correct", "top5_correct", "top1", "top5", "confusion", "per_class_top1"} {
		if !reflect.DeepEqual(w[key], m[key]) {
			t.Errorf("%s: merged %v, one run %v", key, m[key], w[key])
		}
	}
}

func fashionDir() string {
	if d := os.Getenv("WHITTLE_FASHION_MNIST"); d != "" {
		return d
	}
	return "/usr/share/datasets/fashion-mnist"
}
