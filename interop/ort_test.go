package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// oldOpsetUnsupported matches ONNX Runtime's refusal of a node whose opset version it no longer
// implements (versions 1-6).
var oldOpsetUnsupported = regexp.MustCompile(`Could not find an implementation for [A-Za-z]+\([1-6]\) node`)

// tolerance is the largest max-relative error (see maxRelErr) allowed between whittle's
// and ONNX Runtime's outputs.
const tolerance = 1e-4

type interopCase struct {
	name   string
	model  string
	inputs map[string]*kernel.Tensor
}

// compareWithORT runs every case in whittle and in ONNX Runtime and requires each output
// to agree within tolerance; it logs the worst error per case. ONNX Runtime 1.30 no longer
// runs opset 1-6 kernels: such a model is upgraded to ortUpgradeOpset with the
// convert_opset pass, ORT runs the upgraded model, and its outputs are compared with
// whittle's outputs of the original.
func compareWithORT(t *testing.T, cases []interopCase) {
	t.Helper()
	ortpeer.Require(t)
	jobs := make([]ortpeer.Job, len(cases))
	for i, c := range cases {
		jobs[i] = ortpeer.Job{Model: c.model, Inputs: c.inputs}
	}
	results, err := ortpeer.Run(jobs)
	if err != nil {
		t.Fatal(err)
	}
	// Second round: upgrade the models whose opset ORT refused.
	var retry []int
	var retryJobs []ortpeer.Job
	tmp := t.TempDir()
	for i, c := range cases {
		if r := results[i]; r.Err != nil && oldOpsetUnsupported.MatchString(r.Err.Error()) {
			up, err := upgradeForORT(c.model, filepath.Join(tmp, fmt.Sprintf("%03d_%s", i, filepath.Base(c.model))))
			if err != nil {
				t.Errorf("%s: ONNX Runtime lacks its opset-6 kernels and the opset upgrade failed: %v", c.name, err)
				results[i].Err = nil
				results[i].Outputs = nil
				continue
			}
			retry = append(retry, i)
			retryJobs = append(retryJobs, ortpeer.Job{Model: up, Inputs: c.inputs})
		}
	}
	upgraded := map[int]bool{}
	if len(retryJobs) > 0 {
		again, err := ortpeer.Run(retryJobs)
		if err != nil {
			t.Fatal(err)
		}
		for k, i := range retry {
			results[i] = again[k]
			upgraded[i] = true
		}
	}
	worst, compared, viaUpgrade := 0.0, 0, 0
	for i, c := range cases {
		r := results[i]
		if r.Err != nil {
			t.Errorf("%s: ONNX Runtime: %v", c.name, r.Err)
			continue
		}
		if r.Outputs == nil {
			continue // reported above
		}
		_, s := session(t, c.model)
		got := runWhittle(t, s, c.inputs)
		if len(got) != len(r.Outputs) {
			t.Errorf("%s: whittle gives %d outputs, ORT %d", c.name, len(got), len(r.Outputs))
			continue
		}
		caseWorst := 0.0
		for k := range got {
			e, err := maxRelErr(got[k], r.Outputs[k])
			if err != nil {
				t.Errorf("%s: output %d (%s): %v", c.name, k, r.Names[k], err)
				continue
			}
			caseWorst = max(caseWorst, e)
			if e > tolerance {
				t.Errorf("%s: output %d (%s): max relative error %.3g > %g", c.name, k, r.Names[k], e, tolerance)
			}
		}
		worst = max(worst, caseWorst)
		how := ""
		if upgraded[i] {
			viaUpgrade++
			how = fmt.Sprintf(" (ORT ran it upgraded to opset %d)", ortUpgradeOpset)
		}
		compared++
		t.Logf("%-45s max rel err %.2e%s", c.name, caseWorst, how)
	}
	t.Logf("%d models compared, worst max relative error %.2e (tolerance %g); %d of them through an upgrade to opset %d because ONNX Runtime lacks their opset-6 kernels",
		compared, worst, tolerance, viaUpgrade, ortUpgradeOpset)
	if compared == 0 {
		t.Fatal("no model was compared")
	}
}

// upgradeForORT converts the model at path to ortUpgradeOpset and writes it to out.
func upgradeForORT(path, out string) (string, error) {
	m, err := onnx.LoadModel(path)
	if err != nil {
		return "", err
	}
	p, err := passes.ParsePipeline(fmt.Sprintf("convert_opset:opset=%d", ortUpgradeOpset))
	if err != nil {
		return "", err
	}
	if _, err := passes.Run(&passes.Context{VerifyEach: true}, m, p); err != nil {
		return "", err
	}
	if err := onnx.SaveModel(out, m, onnx.WriteOptions{}); err != nil {
		return "", err
	}
	return out, nil
}

func TestPytorchConvertedMatchesORT(t *testing.T) {
	root := filepath.Join(testenv.ONNXTestsDir(t), "pytorch-converted")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var cases []interopCase
	for _, d := range dirs {
		dir := filepath.Join(root, d.Name())
		m, _ := session(t, filepath.Join(dir, "model.onnx"))
		inputs := map[string]*kernel.Tensor{}
		for k, v := range feedInputs(m) {
			inputs[v.Name] = readPB(t, filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", k)))
		}
		cases = append(cases, interopCase{name: d.Name(), model: filepath.Join(dir, "model.onnx"), inputs: inputs})
	}
	if len(cases) == 0 {
		t.Fatal("no pytorch-converted models")
	}
	compareWithORT(t, cases)
}

func TestTorchvisionMatchesORT(t *testing.T) {
	if testing.Short() {
		t.Skip("long: exports and runs torchvision models")
	}
	var cases []interopCase
	for _, arch := range []string{"resnet18", "mobilenet_v2", "efficientnet_b0"} {
		for _, opset := range []int{13, 17} {
			if arch == "efficientnet_b0" && opset == 13 {
				continue // one opset is enough to cover its squeeze-and-excitation and SiLU
			}
			path := torchvisionModel(t, arch, opset)
			m, _ := session(t, path)
			in := feedInputs(m)[0]
			cases = append(cases, interopCase{
				name:   filepath.Base(path),
				model:  path,
				inputs: map[string]*kernel.Tensor{in.Name: randomInput(in, 2, 42)},
			})
		}
	}
	compareWithORT(t, cases)
}

// TestTestModelsMatchORT runs the project's trained models on their recorded test images.
func TestTestModelsMatchORT(t *testing.T) {
	root, _ := testenv.RepoRoot()
	models, _ := filepath.Glob(filepath.Join(root, "testmodels", "*.onnx"))
	sort.Strings(models)
	if len(models) == 0 {
		t.Fatal("no trained models in testmodels/")
	}
	var cases []interopCase
	for _, path := range models {
		m, _ := session(t, path)
		in := feedInputs(m)[0]
		cases = append(cases, interopCase{name: filepath.Base(path), model: path,
			inputs: map[string]*kernel.Tensor{in.Name: randomInput(in, 4, 7)}})
	}
	compareWithORT(t, cases)
}
