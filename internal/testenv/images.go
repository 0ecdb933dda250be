package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// goOutput runs a go command in the repository and returns its trimmed output.
func goOutput(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	if root, ok := RepoRoot(); ok {
		cmd.Dir = root
	}
	out, err := cmd.Output()
	if err != nil {
		Skipf(t, "go %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// GoImageTestdata returns the Go distribution's src/image/testdata: real JPEGs in every
// chroma subsampling, progressive and grey, and PNG/GIF files.
func GoImageTestdata(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(goOutput(t, "env", "GOROOT"), "src", "image", "testdata")
	if _, err := os.Stat(dir); err != nil {
		Skipf(t, "Go's image testdata: %v", err)
	}
	return dir
}

// XImageTestdata returns golang.org/x/image's testdata folder in the module cache (real
// WebP, BMP, TIFF, PNG and JPEG files), which building whittle always downloads.
func XImageTestdata(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(goOutput(t, "list", "-m", "-f", "{{.Dir}}", "golang.org/x/image"), "testdata")
	if _, err := os.Stat(dir); err != nil {
		Skipf(t, "x/image testdata: %v", err)
	}
	return dir
}

// SampleImages returns real image files of distinct content, in several formats, from the
// Go distribution and x/image: photographs, drawings and test patterns to build image
// folders from.
func SampleImages(t testing.TB) []string {
	t.Helper()
	gosrc, ximg := GoImageTestdata(t), XImageTestdata(t)
	return []string{
		filepath.Join(gosrc, "video-001.jpeg"),
		filepath.Join(gosrc, "video-005.gray.jpeg"),
		filepath.Join(ximg, "go-turns-two-280x360.jpeg"),
		filepath.Join(ximg, "blue-purple-pink-large.png"),
		filepath.Join(ximg, "tux.png"),
		filepath.Join(ximg, "testpattern.png"),
		filepath.Join(ximg, "gopher-doc.8bpp.png"),
		filepath.Join(ximg, "bw-gopher.png"),
		filepath.Join(ximg, "yellow_rose.lossless.webp"),
		filepath.Join(ximg, "video-001.lossy.webp"),
	}
}

var (
	torchvisionOnce sync.Once
	torchvisionErr  error
)

// TorchvisionModel returns the path of a torchvision export with random weights
// (testmodels/torchvision/ARCH_opN.onnx), generating the exports with Debian's PyTorch
// when they are not there yet.
func TorchvisionModel(t testing.TB, arch string, opset int) string {
	t.Helper()
	root, ok := RepoRoot()
	if !ok {
		t.Fatal("no repository root")
	}
	path := filepath.Join(root, "testmodels", "torchvision", fmt.Sprintf("%s_op%d.onnx", arch, opset))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	RequirePythonModules(t, "torch", "torchvision", "onnx")
	torchvisionOnce.Do(func() {
		cmd := exec.Command(DebianPython, filepath.Join(root, "testmodels", "generate.py"), "--torchvision", "--no-train")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			torchvisionErr = fmt.Errorf("generate.py --torchvision: %v\n%s", err, out)
		}
	})
	if torchvisionErr != nil {
		t.Fatal(torchvisionErr)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s was not generated: %v", path, err)
	}
	return path
}
