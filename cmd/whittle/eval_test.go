package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
)

// writeIDX writes an IDX file with unsigned-byte data.
func writeIDX(t *testing.T, path string, dims []uint32, data []byte) {
	t.Helper()
	hdr := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		hdr = binary.BigEndian.AppendUint32(hdr, d)
	}
	if err := os.WriteFile(path, append(hdr, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pixelClassifier builds input[N,1,28,28] -> Flatten -> Gemm whose class k scores pixel k:
// an image whose brightest of the first 10 pixels is k is classified as k.
func pixelClassifier(t *testing.T, path string) {
	t.Helper()
	g := ir.NewGraph("pixels")
	x := g.AddInput("input", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(1), ir.Known(28), ir.Known(28)))
	w := make([]float32, 784*10)
	for k := 0; k < 10; k++ {
		w[k*10+k] = 1 // W is [784, 10]: row k (pixel k) feeds class k
	}
	wv := g.AddInitializer(ir.FromFloat32("W", []int64{784, 10}, w))
	flat := g.NewNode("", "Flatten", []*ir.Value{x}, []string{"flat"})
	g.Append(flat)
	gemm := g.NewNode("", "Gemm", []*ir.Value{flat.Output(0), wv}, []string{"logits"})
	g.Append(gemm)
	g.Outputs = []*ir.Value{gemm.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 13}}, Graph: g}
	if err := onnx.SaveModel(path, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestEvalCountsAccuracy(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.onnx")
	pixelClassifier(t, model)
	// 20 images: image i lights pixel i%10; its label is i%10 except for 3 images labelled
	// wrong on purpose, so top-1 is 17/20 = 85%.
	const n = 20
	pixels := make([]byte, n*784)
	labels := make([]byte, n)
	for i := 0; i < n; i++ {
		pixels[i*784+i%10] = 255
		labels[i] = byte(i % 10)
	}
	labels[0], labels[5], labels[13] = 9, 1, 4
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), []uint32{n, 28, 28}, pixels)
	labelFile := filepath.Join(dir, "t10k-labels-idx1-ubyte")
	writeIDX(t, labelFile, []uint32{n}, labels)
	// The IDX label header has one dim; writeIDX wrote the magic for rank 1 correctly.
	code, out, errOut := run(t, "eval", model, "--data", "fashion-mnist:test@"+dir, "--batch", "7", "--json")
	if code != exitOK {
		t.Fatalf("eval: %d\n%s%s", code, out, errOut)
	}
	var res whittle.EvalResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Rows != n || res.Top1Correct != 17 || res.Confusion[9][0] != 1 {
		t.Fatalf("rows %d top-1 %d confusion[9][0] %d; want 20, 17, 1", res.Rows, res.Top1Correct, res.Confusion[9][0])
	}
	// The top 5 is the lit class, then the lowest other classes (ties break toward the lower
	// class): of the wrong labels 9, 1 and 4 (images lighting 0, 5 and 3), only 9 misses.
	if res.Top5Correct != 19 {
		t.Fatalf("top-5 correct %d, want 19", res.Top5Correct)
	}
	code, out, _ = run(t, "eval", model, "--data", "fashion-mnist:test@"+dir, "--limit", "10")
	if code != exitOK || !strings.Contains(out, "top-1 80.00% (8/10)") {
		t.Fatalf("eval --limit 10: %d\n%s", code, out)
	}
}
