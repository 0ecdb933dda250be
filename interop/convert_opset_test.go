package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// ortUpgradeOpset is the opset compareWithORT upgrades a model to when ONNX Runtime no
// longer runs its original opset.
const ortUpgradeOpset = 13

// upgradeModelFile converts the model at path to opset target with the convert_opset pass
// (verifying the IR after it) and writes it into dir, returning the new file's path.
func upgradeModelFile(t testing.TB, path, dir string, target int64) string {
	t.Helper()
	m, err := onnx.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := passes.ParsePipeline(fmt.Sprintf("convert_opset:opset=%d", target))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(&passes.Context{VerifyEach: true}, m, p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := filepath.Join(dir, fmt.Sprintf("%s_op%d.onnx", filepath.Base(filepath.Dir(path)), target))
	if err := onnx.SaveModel(out, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUpgradedPytorchConvertedMatchesORT upgrades every pytorch-converted model (opsets
// 6-12) to opsets 13 and 17, runs the upgraded models in ONNX Runtime, and requires their
// outputs to match whittle's outputs of the ORIGINAL models within tolerance.
func TestUpgradedPytorchConvertedMatchesORT(t *testing.T) {
	ortpeer.Require(t)
	root := filepath.Join(testenv.ONNXTestsDir(t), "pytorch-converted")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	type job struct {
		name   string
		target int64
		want   []*kernel.Tensor
	}
	var jobs []ortpeer.Job
	var meta []job
	for _, d := range dirs {
		path := filepath.Join(root, d.Name(), "model.onnx")
		m, s := session(t, path)
		inputs := map[string]*kernel.Tensor{}
		for k, v := range feedInputs(m) {
			inputs[v.Name] = readPB(t, filepath.Join(root, d.Name(), "test_data_set_0", fmt.Sprintf("input_%d.pb", k)))
		}
		want := runWhittle(t, s, inputs)
		for _, target := range []int64{13, 17} {
			up := upgradeModelFile(t, path, tmp, target)
			jobs = append(jobs, ortpeer.Job{Model: up, Inputs: inputs})
			meta = append(meta, job{name: d.Name(), target: target, want: want})
		}
	}
	if len(jobs) == 0 {
		t.Fatal("no pytorch-converted models")
	}
	results, err := ortpeer.Run(jobs)
	if err != nil {
		t.Fatal(err)
	}
	compared := map[int64]int{}
	worst := 0.0
	for i, r := range results {
		c := meta[i]
		if r.Err != nil {
			t.Errorf("%s upgraded to opset %d: ONNX Runtime: %v", c.name, c.target, r.Err)
			continue
		}
		if len(r.Outputs) != len(c.want) {
			t.Errorf("%s@%d: ORT gives %d outputs, whittle %d", c.name, c.target, len(r.Outputs), len(c.want))
			continue
		}
		ok := true
		for k := range c.want {
			e, err := maxRelErr(c.want[k], r.Outputs[k])
			if err != nil || e > tolerance {
				ok = false
				t.Errorf("%s@%d: output %d (%s): max relative error %.3g (%v)", c.name, c.target, k, r.Names[k], e, err)
			}
			worst = max(worst, e)
		}
		if ok {
			compared[c.target]++
		}
	}
	t.Logf("%d pytorch-converted models: ORT on the upgraded model matches whittle on the original for %d at opset 13 and %d at opset 17; worst max relative error %.2e (tolerance %g)",
		len(dirs), compared[13], compared[17], worst, tolerance)
}

// TestUpgradedTorchvisionMatchesORT upgrades torchvision's opset-13 exports to opsets 17
// and 21 and requires ONNX Runtime on the upgraded models to match whittle on the
// originals.
func TestUpgradedTorchvisionMatchesORT(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs torchvision models")
	}
	ortpeer.Require(t)
	tmp := t.TempDir()
	var jobs []ortpeer.Job
	var names []string
	var wants [][]*kernel.Tensor
	for _, arch := range []string{"resnet18", "mobilenet_v2"} {
		path := torchvisionModel(t, arch, 13)
		m, s := session(t, path)
		in := feedInputs(m)[0]
		inputs := map[string]*kernel.Tensor{in.Name: randomInput(in, 2, 42)}
		want := runWhittle(t, s, inputs)
		for _, target := range []int64{17, 21} {
			dir := filepath.Join(tmp, fmt.Sprintf("%s_%d", arch, target))
			if err := os.MkdirAll(filepath.Join(dir, arch), 0o755); err != nil {
				t.Fatal(err)
			}
			// upgradeModelFile names the output after the model's folder.
			link := filepath.Join(dir, arch, "model.onnx")
			if err := os.Symlink(path, link); err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, ortpeer.Job{Model: upgradeModelFile(t, link, dir, target), Inputs: inputs})
			names = append(names, fmt.Sprintf("%s_op13 -> opset %d", arch, target))
			wants = append(wants, want)
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
		for k := range wants[i] {
			e, err := maxRelErr(wants[i][k], r.Outputs[k])
			if err != nil || e > tolerance {
				t.Errorf("%s: output %d: max relative error %.3g (%v)", names[i], k, e, err)
				continue
			}
			t.Logf("%-32s max rel err %.2e", names[i], e)
		}
	}
}
