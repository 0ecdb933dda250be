package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/internal/determinism"
	"github.com/whittle-ml/whittle/internal/testenv"
)

// Every command that writes a model writes the same bytes for the same input, flags and
// seed, on one thread and on two (determinism.Check runs each twice per thread count).
func TestCommandsAreDeterministic(t *testing.T) {
	cnn := filepath.Join("..", "..", "testmodels", "fashion_cnn_op17.onnx")
	mlp := filepath.Join("..", "..", "testmodels", "fashion_mlp_op17.onnx")
	needData := func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(dataset.FashionMNISTDir(), "train-images-idx3-ubyte.gz")); err != nil {
			testenv.Skipf(t, "Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist)", dataset.FashionMNISTDir())
		}
	}
	for _, tt := range []struct {
		name string
		data bool
		runs int // per thread count; 1 for the slow ones (still compared across threads)
		args func(out string) []string
	}{
		{"convert", false, 2, func(out string) []string { return []string{"convert", cnn, "-o", out} }},
		{"convert external data", false, 2, func(out string) []string {
			return []string{"convert", cnn, "-o", out, "--external-data", "--size-threshold", "1024"}
		}},
		{"optimize", false, 2, func(out string) []string { return []string{"optimize", cnn, "-o", out} }},
		{"prune global", false, 1, func(out string) []string {
			return []string{"prune", cnn, "-o", out, "--sparsity", "0.5", "--scope", "global"}
		}},
		{"prune channel", false, 2, func(out string) []string {
			return []string{"prune", cnn, "-o", out, "--sparsity", "0.25", "--pattern", "channel"}
		}},
		{"quantize static entropy", true, 1, func(out string) []string {
			return []string{"quantize", cnn, "-o", out, "--calibration", "fashion-mnist:train:64", "--method", "entropy"}
		}},
		{"quantize dynamic", false, 2, func(out string) []string { return []string{"quantize", mlp, "-o", out, "--dynamic"} }},
		{"finetune", true, 1, func(out string) []string {
			return []string{"finetune", mlp, "-o", out, "--data", "fashion-mnist:train:128", "--epochs", "1", "--batch", "32", "--seed", "3"}
		}},
		{"distill", true, 1, func(out string) []string {
			return []string{"distill", mlp, "-o", out, "--data", "fashion-mnist:train:128", "--student", "lowrank:rank=16",
				"--epochs", "1", "--batch", "32", "--seed", "3"}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.data {
				needData(t)
			}
			determinism.Check(t, tt.runs, func(t testing.TB, out string) {
				if code, stdout, stderr := run(t.(*testing.T), tt.args(out)...); code != exitOK {
					t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
				}
			})
		})
	}
}
