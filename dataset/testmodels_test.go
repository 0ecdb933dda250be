package dataset

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
)

// TestTestModelsData checks the reference data that testmodels/generate.py writes with
// Python (onnx.numpy_helper) against this package's own readers: input_0.pb must hold
// exactly the first 8 Fashion-MNIST test images as float32 [8,1,28,28] in [0,1], and
// output_0.pb the logits [8,10].
func TestTestModelsData(t *testing.T) {
	root, ok := testenv.RepoRoot()
	if !ok {
		t.Fatal("cannot find the repository root")
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "testmodels", "testdata", "*"))
	if len(dirs) == 0 {
		testenv.Skipf(t, "no testmodels/testdata/*: run /usr/bin/python3 testmodels/generate.py")
	}
	fm, err := FashionMNIST(FashionMNISTDir(), "test")
	if err != nil {
		testenv.Skipf(t, "Fashion-MNIST not readable: %v", err)
	}
	want, err := fm.Batch(0, 8)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		ds, err := Open(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		b, err := ds.Batch(0, ds.Len())
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		in := b.Inputs[0]
		if in.Name != "input" || !equalDims(in.Shape, []int64{8, 1, 28, 28}) || !reflect.DeepEqual(in.Float32, want.Inputs[0].Float32) {
			t.Errorf("%s: input_0.pb is %s and differs from the first 8 test images", filepath.Base(dir), &in)
		}
		if len(b.Expected) != 1 || b.Expected[0].Name != "logits" || !equalDims(b.Expected[0].Shape, []int64{8, 10}) {
			t.Errorf("%s: output_0.pb = %v, want logits float32[8 10]", filepath.Base(dir), b.Expected)
		}
	}
}
