package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// torchManifest is what testdata/torch_global_prune.py writes.
type torchManifest struct {
	Torch   string  `json:"torch"`
	Weights [][]any `json:"weights"`
	Runs    []struct {
		Sparsity  float64 `json:"sparsity"`
		Pruned    int     `json:"pruned"`
		Threshold float64 `json:"threshold"`
		Ties      int     `json:"ties_at_threshold"`
	} `json:"runs"`
}

// convGemmWeights returns the Conv and Gemm weight initializers of m in graph order, the
// order the Python script reads them in.
func convGemmWeights(t *testing.T, m *ir.Model) []*ir.Value {
	t.Helper()
	var out []*ir.Value
	seen := map[*ir.Value]bool{}
	for _, n := range m.Graph.Nodes() {
		if n.OpType != "Conv" && n.OpType != "Gemm" {
			continue
		}
		v := n.Input(1)
		if v == nil || v.Const == nil || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// TestPruneGlobalMatchesTorch prunes ResNet-18 globally with whittle and with PyTorch's
// torch.nn.utils.prune.global_unstructured(L1Unstructured) on the same Conv/Gemm
// tensors, and requires identical masks.
func TestPruneGlobalMatchesTorch(t *testing.T) {
	path := torchvisionModel(t, "resnet18", 17)
	testenv.RequirePythonModules(t, "torch", "onnx", "numpy")
	root, _ := testenv.RepoRoot()
	sparsities := []float64{0.2, 0.5, 0.8}
	dir := t.TempDir()
	args := []string{filepath.Join(root, "interop", "testdata", "torch_global_prune.py"), path, dir}
	for _, s := range sparsities {
		args = append(args, fmt.Sprint(s))
	}
	if out, err := exec.Command(testenv.DebianPython, args...).CombinedOutput(); err != nil {
		t.Fatalf("torch_global_prune.py: %v\n%s", err, out)
	}
	var man torchManifest
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &man); err != nil {
		t.Fatal(err)
	}
	for k, s := range sparsities {
		m, err := onnx.LoadModel(path)
		if err != nil {
			t.Fatal(err)
		}
		weights := convGemmWeights(t, m)
		if len(weights) != len(man.Weights) {
			t.Fatalf("whittle finds %d Conv/Gemm weights, the script %d", len(weights), len(man.Weights))
		}
		for i, w := range weights {
			if fmt.Sprint(man.Weights[i][0]) != w.Name {
				t.Fatalf("weight %d: whittle %q, torch script %q", i, w.Name, man.Weights[i][0])
			}
		}
		opts := passes.DefaultPruneOptions()
		opts.Scope, opts.Sparsity = passes.ScopeGlobal, s
		if _, err := passes.Prune(&passes.Context{}, m, opts); err != nil {
			t.Fatal(err)
		}
		mask, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("mask_%d.bin", k)))
		if err != nil {
			t.Fatal(err)
		}
		off, same, differ, pruned := 0, 0, 0, 0
		for _, w := range weights {
			xs, err := w.Const.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range xs {
				whittleZero, torchZero := x == 0, mask[off+i] == 0
				if whittleZero == torchZero {
					same++
				} else {
					differ++
				}
				if whittleZero {
					pruned++
				}
			}
			off += len(xs)
		}
		if off != len(mask) {
			t.Fatalf("masks cover %d weights, whittle's %d", len(mask), off)
		}
		run := man.Runs[k]
		t.Logf("sparsity %.2f: torch %s pruned %d, whittle %d; masks agree on %d of %d weights (%d differ); %d weight(s) share torch's threshold |w|=%.6g",
			s, man.Torch, run.Pruned, pruned, same, off, differ, run.Ties, run.Threshold)
		if differ != 0 || pruned != run.Pruned {
			t.Errorf("sparsity %.2f: %d weights differ from torch's mask (whittle pruned %d, torch %d)", s, differ, pruned, run.Pruned)
		}
	}
}

// prunedChannels prunes a copy of the model at path and saves it beside the test's temp
// files, checking the IR and that shape inference agrees with the shrunk types.
func prunedChannels(t testing.TB, path string, sparsity float64, dir string) (string, *passes.PruneReport) {
	t.Helper()
	m, err := onnx.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := passes.DefaultPruneOptions()
	opts.Pattern, opts.Sparsity = passes.PatternChannel, sparsity
	rep, err := passes.PruneModel(&passes.Context{VerifyEach: true}, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(); err != nil {
		t.Fatalf("pruned model is invalid: %v", err)
	}
	ir, err := infer.Model(m, infer.Options{DataPropagation: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ir.Problems {
		t.Errorf("shape inference disagrees with the pruned model: %s", p)
	}
	out := filepath.Join(dir, fmt.Sprintf("%s_channel%02.0f.onnx", filepath.Base(path[:len(path)-5]), 100*sparsity))
	if err := onnx.SaveModel(out, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return out, rep
}

// TestPruneChannelsTorchvision prunes ResNet-18 and MobileNetV2 channels at 25% and 50%:
// the models verify, run in whittle's runtime and in ONNX Runtime with outputs of the
// original shape, the two runtimes agree on the pruned model, and MACs and parameters
// shrink.
func TestPruneChannelsTorchvision(t *testing.T) {
	ortpeer.Require(t)
	dir := t.TempDir()
	var jobs []ortpeer.Job
	var names []string
	var whittleOuts [][]*kernel.Tensor
	for _, arch := range []string{"resnet18", "mobilenet_v2"} {
		path := torchvisionModel(t, arch, 17)
		orig, _ := session(t, path)
		in := feedInputs(orig)[0]
		inputs := map[string]*kernel.Tensor{in.Name: randomInput(in, 1, 11)}
		for _, s := range []float64{0.25, 0.5} {
			pruned, rep := prunedChannels(t, path, s, dir)
			if rep.After.MACs >= rep.Before.MACs || rep.After.Params >= rep.Before.Params {
				t.Errorf("%s %.0f%%: MACs %d -> %d, params %d -> %d", arch, 100*s, rep.Before.MACs, rep.After.MACs, rep.Before.Params, rep.After.Params)
			}
			m, err := onnx.LoadModel(pruned)
			if err != nil {
				t.Fatal(err)
			}
			sess, err := runtime.NewSession(m, runtime.Options{})
			if err != nil {
				t.Fatalf("%s: %v", pruned, err)
			}
			whittleOuts = append(whittleOuts, runWhittle(t, sess, inputs))
			jobs = append(jobs, ortpeer.Job{Model: pruned, Inputs: inputs})
			names = append(names, fmt.Sprintf("%s@%.0f%%", arch, 100*s))
			t.Logf("%s channel %.0f%%: params %d -> %d, MACs %d -> %d", arch, 100*s, rep.Before.Params, rep.After.Params, rep.Before.MACs, rep.After.MACs)
		}
	}
	results, err := ortpeer.Run(jobs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil {
			t.Errorf("%s: ONNX Runtime: %v", names[i], r.Err)
			continue
		}
		got := whittleOuts[i]
		if len(got) != len(r.Outputs) || len(got) != 1 {
			t.Fatalf("%s: whittle %d outputs, ORT %d", names[i], len(got), len(r.Outputs))
		}
		if fmt.Sprint(got[0].Shape) != "[1 1000]" || fmt.Sprint(r.Outputs[0].Shape) != "[1 1000]" {
			t.Errorf("%s: output shapes whittle %v, ORT %v, want [1 1000]", names[i], got[0].Shape, r.Outputs[0].Shape)
		}
		e, err := maxRelErr(got[0], r.Outputs[0])
		if err != nil {
			t.Errorf("%s: %v", names[i], err)
			continue
		}
		if e > tolerance {
			t.Errorf("%s: whittle and ORT differ on the pruned model: max relative error %.3g", names[i], e)
		}
		t.Logf("%s: whittle vs ORT max rel err %.2e", names[i], e)
	}
}
