package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ONNXTestsEnv names the environment variable that points at the ONNX backend test data
// (the folders node/, pytorch-converted/ and simple/). The onnx Python package ships the
// same data under onnx/backend/test/data.
const ONNXTestsEnv = "WHITTLE_ONNX_TESTS"

// RepoRoot returns the folder holding whittle's go.mod, found by walking up from the
// working directory (go test runs each package in its own folder).
func RepoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// ONNXTestsDir returns the ONNX backend test data folder: $WHITTLE_ONNX_TESTS, or
// ../shared/onnx-tests beside the repository. It skips t when the folder is absent.
func ONNXTestsDir(t testing.TB) string {
	t.Helper()
	dir, ok := ONNXTestsDirIfPresent()
	if !ok {
		Skipf(t, "ONNX backend test data not found at %s (set %s; the onnx Python package ships it under onnx/backend/test/data)", dir, ONNXTestsEnv)
	}
	return dir
}

// ONNXTestsDirIfPresent is ONNXTestsDir for callers that can do without the data (fuzz
// targets seeding from it): it reports whether the folder is there instead of skipping.
func ONNXTestsDirIfPresent() (string, bool) {
	dir := os.Getenv(ONNXTestsEnv)
	if dir == "" {
		root, ok := RepoRoot()
		if !ok {
			return "", false
		}
		dir = filepath.Join(root, "..", "shared", "onnx-tests")
	}
	_, err := os.Stat(filepath.Join(dir, "node"))
	return dir, err == nil
}

// StrictEnv names the environment variable that turns every "absent peer or data" skip into
// a failure. .ci/run sets it, because CI installs everything the tests need: there a skip
// would hide a check that did not run.
const StrictEnv = "WHITTLE_STRICT"

// Skipf skips t, or fails it when $WHITTLE_STRICT is set.
func Skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(StrictEnv) != "" {
		t.Fatalf("required by "+StrictEnv+": "+format, args...)
	}
	t.Skipf(format, args...)
}

// DebianPython is the Python that has Debian's python3-onnx and python3-torch packages.
const DebianPython = "/usr/bin/python3"

// RequirePythonModules skips t unless Debian's Python can import every named module.
// CI installs them (.ci/run), so there these tests always run.
func RequirePythonModules(t testing.TB, modules ...string) {
	t.Helper()
	for _, m := range modules {
		if err := exec.Command(DebianPython, "-c", "import "+m).Run(); err != nil {
			Skipf(t, "%s cannot import %s (apt-get install python3-onnx python3-torch python3-torchvision): %v", DebianPython, m, err)
		}
	}
}

// DebianONNXTestsEnv names the environment variable pointing at onnx 1.12's backend test
// data, which Debian's libonnx-testdata package installs.
const DebianONNXTestsEnv = "WHITTLE_ONNX112_TESTS"

// DebianONNXTestsDir returns onnx 1.12's backend test data folder (node, pytorch-converted,
// pytorch-operator, real, simple): $WHITTLE_ONNX112_TESTS or /usr/share/libonnx-testdata/data.
func DebianONNXTestsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(DebianONNXTestsEnv)
	if dir == "" {
		dir = "/usr/share/libonnx-testdata/data"
	}
	if _, err := os.Stat(filepath.Join(dir, "node")); err != nil {
		Skipf(t, "onnx 1.12 backend test data not found at %s (apt-get install libonnx-testdata, or set %s)", dir, DebianONNXTestsEnv)
	}
	return dir
}
