package onnx

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
)

// The newest IR version and default-domain opset that Debian's onnx 1.12 knows; models
// beyond them are outside its range and cannot be judged by it.
const (
	pyOnnxMaxIR    = 8
	pyOnnxMaxOpset = 17
	pyOnnxMaxML    = 3
)

func inPyOnnxRange(m *pb.ModelProto) bool {
	if m.GetIrVersion() > pyOnnxMaxIR {
		return false
	}
	for _, o := range m.GetOpsetImport() {
		switch o.GetDomain() {
		case "", "ai.onnx":
			if o.GetVersion() > pyOnnxMaxOpset {
				return false
			}
		case "ai.onnx.ml":
			if o.GetVersion() > pyOnnxMaxML {
				return false
			}
		case "ai.onnx.preview.training":
		default:
			return false
		}
	}
	return true
}

// TestPythonCheckerAcceptsWrittenModels writes every backend-test model (the shared suite
// and onnx 1.12's own, from libonnx-testdata) inside onnx 1.12's
// range twice — re-serialized as 'whittle convert' does, and through the IR as every pass
// does — and requires onnx.checker.check_model(full_check=True) to accept each file.
// A model the original file already fails with (onnx 1.12 predates some test data) is
// reported and excluded, so only whittle's changes are judged.
func TestPythonCheckerAcceptsWrittenModels(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs Python's onnx checker over ~1900 files")
	}
	testenv.RequirePythonModules(t, "onnx")
	var originals []string
	for _, root := range []string{testenv.ONNXTestsDir(t), testenv.DebianONNXTestsDir(t)} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Name() == "model.onnx" {
				originals = append(originals, p)
			}
			return nil
		})
	}
	out := t.TempDir()
	type job struct{ original, converted, viaIR string }
	var jobs []job
	for i, p := range originals {
		m, err := ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !inPyOnnxRange(m) {
			continue
		}
		j := job{original: p, converted: filepath.Join(out, fmt.Sprintf("%d_convert.onnx", i)), viaIR: filepath.Join(out, fmt.Sprintf("%d_ir.onnx", i))}
		if err := WriteFile(j.converted, m, WriteOptions{}); err != nil {
			t.Fatalf("%s: write: %v", p, err)
		}
		irm, err := ToIR(m)
		if err != nil {
			t.Fatalf("%s: to IR: %v", p, err)
		}
		if err := SaveModel(j.viaIR, irm, WriteOptions{}); err != nil {
			t.Fatalf("%s: save from IR: %v", p, err)
		}
		jobs = append(jobs, j)
	}
	var paths []string
	for _, j := range jobs {
		paths = append(paths, j.original, j.converted, j.viaIR)
	}
	results := runPyChecker(t, paths)
	originalFails, judged := 0, 0
	for _, j := range jobs {
		if r := results[j.original]; r != "" {
			originalFails++
			t.Logf("excluded, onnx 1.12 rejects the original too: %s: %s", j.original, r)
			continue
		}
		judged++
		for _, w := range []string{j.converted, j.viaIR} {
			if r := results[w]; r != "" {
				t.Errorf("onnx.checker rejects whittle's output for %s (%s): %s", j.original, filepath.Base(w), r)
			}
		}
	}
	t.Logf("onnx 1.12 checker: %d models in its range, %d judged (x2 files each: convert and IR), %d excluded because the original fails too",
		len(jobs), judged, originalFails)
	if judged == 0 {
		t.Fatal("no model was judged")
	}
}

// runPyChecker checks every path in one Python process; the result is "" for accepted files.
func runPyChecker(t *testing.T, paths []string) map[string]string {
	t.Helper()
	cmd := exec.Command(testenv.DebianPython, filepath.Join("testdata", "check_models.py"))
	cmd.Stdin = strings.NewReader(strings.Join(paths, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("python checker: %v\n%s", err, stderr.String())
	}
	res := map[string]string{}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(outb))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "OK "):
			res[strings.TrimPrefix(line, "OK ")] = ""
			seen++
		case strings.HasPrefix(line, "FAIL "):
			rest := strings.TrimPrefix(line, "FAIL ")
			i := strings.Index(rest, ": ")
			res[rest[:i]] = rest[i+2:]
			seen++
		}
	}
	if seen != len(paths) {
		t.Fatalf("python checker answered for %d of %d files", seen, len(paths))
	}
	return res
}
