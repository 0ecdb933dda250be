package dataset

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
)

func TestReadIDX(t *testing.T) {
	good := idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	tests := []struct {
		name    string
		data    []byte
		dims    []int
		wantErr string
	}{
		{name: "plain", data: good, dims: []int{2, 3}},
		{name: "gzip", data: gzipBytes(t, good), dims: []int{2, 3}},
		{name: "labels", data: idxBytes([]int{4}, []byte{9, 8, 7, 6}), dims: []int{4}},
		{name: "empty", data: idxBytes([]int{0, 28, 28}, nil), dims: []int{0, 28, 28}},
		{name: "bad magic", data: append([]byte{1, 0}, good[2:]...), wantErr: "bad magic"},
		{name: "float type", data: append([]byte{0, 0, 0x0d}, good[3:]...), wantErr: "element type 0x0d"},
		{name: "no dims", data: []byte{0, 0, 8, 0}, wantErr: "zero dimensions"},
		{name: "short header", data: good[:6], wantErr: "unexpected EOF"},
		{name: "truncated data", data: good[:len(good)-1], wantErr: "truncated"},
		{name: "trailing data", data: append(append([]byte{}, good...), 0), wantErr: "trailing"},
		{name: "huge header", data: idxBytes([]int{1 << 20, 1 << 20}, nil), wantErr: "exceed"},
		{name: "bad gzip", data: []byte{0x1f, 0x8b, 0, 0}, wantErr: "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, err := ReadIDX(bytes.NewReader(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalInts(idx.Dims, tt.dims) {
				t.Errorf("dims = %v, want %v", idx.Dims, tt.dims)
			}
			want := len(tt.data) - 4 - 4*len(tt.dims)
			if bytes.HasPrefix(tt.data, []byte{0x1f, 0x8b}) {
				want = len(good) - 4 - 4*len(tt.dims)
			}
			if len(idx.Data) != want {
				t.Errorf("read %d data bytes, want %d", len(idx.Data), want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadIDXFileFallsBackToGzip(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x-idx1-ubyte.gz"), gzipBytes(t, idxBytes([]int{3}, []byte{7, 8, 9})))
	idx, err := ReadIDXFile(filepath.Join(dir, "x-idx1-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(idx.Data, []byte{7, 8, 9}) {
		t.Errorf("data = %v", idx.Data)
	}
	_, err = ReadIDXFile(filepath.Join(dir, "missing"))
	if err == nil || !strings.Contains(err.Error(), "missing.gz") {
		t.Errorf("missing file: error = %v, want it to name missing.gz", err)
	}
	writeFile(t, filepath.Join(dir, "bad"), []byte{0, 0, 8, 1, 0, 0, 0, 5, 1})
	if _, err := ReadIDXFile(filepath.Join(dir, "bad")); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "bad")) {
		t.Errorf("corrupt file: error = %v, want it to name the file", err)
	}
}

func TestImagesBatch(t *testing.T) {
	pixels := &IDX{Dims: []int{3, 2, 2}, Data: []byte{0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8}}
	labels := &IDX{Dims: []int{3}, Data: []byte{4, 0, 9}}
	ds, err := NewImages("input", pixels, labels)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 {
		t.Fatalf("Len = %d", ds.Len())
	}
	b, err := ds.Batch(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	in := b.Inputs[0]
	if in.Name != "input" || in.DType != Float32 || !equalDims(in.Shape, []int64{2, 1, 2, 2}) {
		t.Fatalf("batch tensor = %s", &in)
	}
	want := []float32{0, 1, 0.2, 0.4, 1.0 / 255, 2.0 / 255, 3.0 / 255, 4.0 / 255}
	for i := range want {
		if in.Float32[i] != want[i] {
			t.Errorf("pixel %d = %v, want %v", i, in.Float32[i], want[i])
		}
	}
	if len(b.Labels) != 2 || b.Labels[0] != 4 || b.Labels[1] != 0 {
		t.Errorf("labels = %v", b.Labels)
	}
	if b.Size() != 2 {
		t.Errorf("Size = %d", b.Size())
	}
	if _, err := ds.Batch(2, 2); err == nil {
		t.Error("Batch past the end: no error")
	}
	if _, err := NewImages("input", pixels, &IDX{Dims: []int{2}, Data: []byte{1, 2}}); err == nil {
		t.Error("label count mismatch: no error")
	}
	if _, err := NewImages("input", &IDX{Dims: []int{12}, Data: pixels.Data}, nil); err == nil {
		t.Error("1-D images: no error")
	}
}

func TestFashionMNISTGenerated(t *testing.T) {
	dir := t.TempDir()
	writeFashionMNIST(t, dir, 30, 20)
	for _, tt := range []struct {
		split string
		n     int
	}{{"train", 30}, {"test", 20}} {
		ds, err := FashionMNIST(dir, tt.split)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != tt.n {
			t.Errorf("%s: Len = %d, want %d", tt.split, ds.Len(), tt.n)
		}
		b, err := ds.Batch(13, 1)
		if err != nil {
			t.Fatal(err)
		}
		// Image 13's first pixel is 13, its label 3.
		if got := b.Inputs[0].Float32[0]; got != float32(13)/255 || b.Labels[0] != 3 {
			t.Errorf("%s: image 13 pixel 0 = %v label %d", tt.split, got, b.Labels[0])
		}
	}
	if _, err := FashionMNIST(dir, "validation"); err == nil {
		t.Error("unknown split: no error")
	}
	if _, err := FashionMNIST(t.TempDir(), "test"); err == nil {
		t.Error("empty folder: no error")
	}
}

// TestFashionMNISTDebian reads the real files of Debian's dataset-fashion-mnist.
func TestFashionMNISTDebian(t *testing.T) {
	dir := FashionMNISTDir()
	for _, tt := range []struct {
		split    string
		n, class int
	}{{"test", 10000, 1000}, {"train", 60000, 6000}} {
		ds, err := FashionMNIST(dir, tt.split)
		if err != nil {
			testenv.Skipf(t, "Fashion-MNIST not readable in %s (apt-get install dataset-fashion-mnist or set %s): %v", dir, FashionMNISTEnv, err)
		}
		if ds.Len() != tt.n {
			t.Fatalf("%s: %d images, want %d", tt.split, ds.Len(), tt.n)
		}
		hist := make([]int, 10)
		var sum float64
		err = Each(ds, 4096, func(start int, b Batch) error {
			for _, l := range b.Labels {
				hist[l]++
			}
			for _, v := range b.Inputs[0].Float32 {
				if v < 0 || v > 1 {
					t.Fatalf("%s: pixel %v outside [0,1] in rows from %d", tt.split, v, start)
				}
				sum += float64(v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for c, n := range hist {
			if n != tt.class {
				t.Errorf("%s: class %d has %d images, want %d", tt.split, c, n, tt.class)
			}
		}
		// The training-set mean the models in testmodels/ fold in is 0.2860.
		if mean := sum / float64(tt.n*28*28); tt.split == "train" && (mean < 0.2855 || mean > 0.2865) {
			t.Errorf("train mean pixel = %.4f, want 0.2860", mean)
		}
	}
}
