package grad_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/train/grad"
)

// TestWholeModelGradientsMatchPyTorch differentiates the cross-entropy loss of the test
// models on one fixed batch (the first 32 Fashion-MNIST training images) with respect to
// every float initializer and compares each gradient with PyTorch's autograd on the same
// graph and weights (train/torchref/onnx_torch.py runs the ONNX graph with torch ops):
// within 1e-4 relative L2 per tensor. BatchNormalization runs in training mode, and its
// running statistics after the step must match too.
func TestWholeModelGradientsMatchPyTorch(t *testing.T) {
	testenv.RequirePythonModules(t, "torch", "onnx")
	dir := dataset.FashionMNISTDir()
	if _, err := os.Stat(filepath.Join(dir, "train-labels-idx1-ubyte")); err != nil {
		if _, err := os.Stat(filepath.Join(dir, "train-labels-idx1-ubyte.gz")); err != nil {
			testenv.Skipf(t, "Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist)", dir)
		}
	}
	root, ok := testenv.RepoRoot()
	if !ok {
		t.Fatal("no repository root")
	}
	train, err := dataset.FashionMNIST(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	const count = 32
	batch, err := train.Batch(0, count)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"fashion_cnn_op17", "fashion_mlp_op17", "fashion_vit_op17", "fashion_vit_op13"}
	outDir := t.TempDir()
	args := []string{filepath.Join(root, "train", "torchref", "onnx_torch.py"), "grads", "--out", outDir,
		"--data", dir, "--count", fmt.Sprint(count)}
	for _, name := range names {
		args = append(args, filepath.Join(root, "testmodels", name+".onnx"))
	}
	if msg, err := exec.Command(testenv.DebianPython, args...).CombinedOutput(); err != nil {
		t.Fatalf("onnx_torch.py: %v\n%s", err, msg)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(root, "testmodels", name+".onnx")
			want := readReference(t, filepath.Join(outDir, name+".npz"))

			m, err := onnx.LoadModel(path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := grad.Build(m, grad.Config{Trainable: func(string, *ir.Tensor) bool { return true }})
			if err != nil {
				t.Fatal(err)
			}
			x := kernel.FromFloat32(batch.Inputs[0].Shape, batch.Inputs[0].Float32)
			tape, err := p.Forward(context.Background(), map[string]*kernel.Tensor{"input": x}, grad.Training, 0)
			if err != nil {
				t.Fatal(err)
			}
			loss, seed := crossEntropy(tape.Value("logits").Float32s(), batch.Labels, 10)
			if d := math.Abs(loss - want.loss); d > 1e-5*math.Max(1, want.loss) {
				t.Errorf("loss %.7f, PyTorch %.7f", loss, want.loss)
			}
			if err := tape.Backward(context.Background(), map[string][]float32{"logits": seed}); err != nil {
				t.Fatal(err)
			}
			checked := map[string]bool{}
			for _, pr := range p.Params() {
				ref, ok := want.grads[pr.Name]
				if !ok {
					t.Errorf("%s: PyTorch computed no gradient", pr.Name)
					continue
				}
				checked[pr.Name] = true
				rel := relL2(pr.Grad, ref)
				t.Logf("%-40s %8d  rel L2 %.2e", pr.Name, len(pr.Grad), rel)
				if rel > 1e-4 {
					t.Errorf("%s: gradient differs from PyTorch's by %.3g relative L2", pr.Name, rel)
				}
			}
			for name := range want.grads {
				if !checked[name] {
					t.Errorf("%s: PyTorch differentiated it, whittle did not", name)
				}
			}
			for _, s := range p.State() {
				rel := relL2(s.Value, want.state[s.Name])
				t.Logf("%-40s running statistic rel L2 %.2e", s.Name, rel)
				if rel > 1e-5 {
					t.Errorf("%s: running statistic after one step differs from PyTorch's by %.3g", s.Name, rel)
				}
			}
			if len(p.State()) != len(want.state) {
				t.Errorf("%d running statistics, PyTorch has %d", len(p.State()), len(want.state))
			}
		})
	}
}

type reference struct {
	loss         float64
	grads, state map[string][]float32
}

func readReference(t *testing.T, path string) reference {
	t.Helper()
	var names struct {
		Names []string `json:"names"`
		State []string `json:"state"`
	}
	js, err := os.ReadFile(path + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &names); err != nil {
		t.Fatal(err)
	}
	arrays, err := dataset.ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	ref := reference{grads: map[string][]float32{}, state: map[string][]float32{}}
	for _, a := range arrays {
		var idx int
		switch {
		case a.Name == "loss":
			ref.loss = a.Float64[0]
		case a.Name == "logits":
		case a.Name[0] == 'p':
			fmt.Sscan(a.Name[1:], &idx)
			ref.grads[names.Names[idx]] = a.Float32
		case a.Name[0] == 's':
			fmt.Sscan(a.Name[1:], &idx)
			ref.state[names.State[idx]] = a.Float32
		}
	}
	return ref
}

// crossEntropy returns the mean cross-entropy of logits [n, classes] and its gradient.
func crossEntropy(logits []float32, labels []int64, classes int) (float64, []float32) {
	n := len(labels)
	g := make([]float32, len(logits))
	var loss float64
	for i := 0; i < n; i++ {
		row := logits[i*classes : (i+1)*classes]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v) - mx)
		}
		loss += math.Log(s) + mx - float64(row[labels[i]])
		for j, v := range row {
			p := math.Exp(float64(v)-mx) / s
			if int64(j) == labels[i] {
				p--
			}
			g[i*classes+j] = float32(p / float64(n))
		}
	}
	return loss / float64(n), g
}

func relL2(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, n float64
	for i := range a {
		e := float64(a[i]) - float64(b[i])
		d += e * e
		n += float64(b[i]) * float64(b[i])
	}
	if n == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / n)
}
