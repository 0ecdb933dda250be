package dataset

import (
	"archive/zip"
	"bytes"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
)

func TestReadNPY(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    Tensor
		wantErr string
	}{
		{name: "float32", data: npyBytes(1, npyHeader("<f4", false, "(2, 2)"), leBytes([]float32{1, -2, 0.5, 3e9})),
			want: Tensor{DType: Float32, Shape: []int64{2, 2}, Float32: []float32{1, -2, 0.5, 3e9}}},
		{name: "float64", data: npyBytes(1, npyHeader("<f8", false, "(3,)"), leBytes([]float64{1e-300, 2, -3})),
			want: Tensor{DType: Float64, Shape: []int64{3}, Float64: []float64{1e-300, 2, -3}}},
		{name: "int64", data: npyBytes(1, npyHeader("<i8", false, "(2,)"), leBytes([]int64{-1, 1 << 40})),
			want: Tensor{DType: Int64, Shape: []int64{2}, Int64: []int64{-1, 1 << 40}}},
		{name: "int32", data: npyBytes(1, npyHeader("<i4", false, "(1, 2)"), leBytes([]int32{-7, 7})),
			want: Tensor{DType: Int32, Shape: []int64{1, 2}, Int32: []int32{-7, 7}}},
		{name: "uint8", data: npyBytes(1, npyHeader("|u1", false, "(3,)"), []byte{0, 128, 255}),
			want: Tensor{DType: Uint8, Shape: []int64{3}, Uint8: []uint8{0, 128, 255}}},
		{name: "bool", data: npyBytes(1, npyHeader("|b1", false, "(3,)"), []byte{1, 0, 1}),
			want: Tensor{DType: Bool, Shape: []int64{3}, Bool: []bool{true, false, true}}},
		{name: "scalar", data: npyBytes(1, npyHeader("<f4", false, "()"), leBytes([]float32{42})),
			want: Tensor{DType: Float32, Shape: []int64{}, Float32: []float32{42}}},
		{name: "empty", data: npyBytes(1, npyHeader("<f4", false, "(0, 5)"), nil),
			want: Tensor{DType: Float32, Shape: []int64{0, 5}, Float32: []float32{}}},
		{name: "version 2", data: npyBytes(2, npyHeader("<i8", false, "(1,)"), leBytes([]int64{5})),
			want: Tensor{DType: Int64, Shape: []int64{1}, Int64: []int64{5}}},
		{name: "key order", data: npyBytes(1, "{'shape': (2,), 'fortran_order': False, 'descr': '<i4'}", leBytes([]int32{1, 2})),
			want: Tensor{DType: Int32, Shape: []int64{2}, Int32: []int32{1, 2}}},
		{name: "fortran order", data: npyBytes(1, npyHeader("<f4", true, "(2, 2)"), make([]byte, 16)), wantErr: "fortran_order"},
		{name: "big endian", data: npyBytes(1, npyHeader(">f4", false, "(1,)"), make([]byte, 4)), wantErr: "big-endian"},
		{name: "float16", data: npyBytes(1, npyHeader("<f2", false, "(1,)"), make([]byte, 2)), wantErr: "not supported"},
		{name: "structured", data: npyBytes(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", make([]byte, 4)), wantErr: "structured"},
		{name: "no shape", data: npyBytes(1, "{'descr': '<f4', 'fortran_order': False, }", nil), wantErr: "no 'shape'"},
		{name: "negative dim", data: npyBytes(1, npyHeader("<f4", false, "(-1,)"), nil), wantErr: "bad dimension"},
		{name: "truncated", data: npyBytes(1, npyHeader("<f4", false, "(3,)"), make([]byte, 8)), wantErr: "truncated"},
		{name: "trailing", data: npyBytes(1, npyHeader("<f4", false, "(1,)"), make([]byte, 5)), wantErr: "trailing"},
		{name: "bad magic", data: []byte("\x93NUMPZ\x01\x00"), wantErr: "bad magic"},
		{name: "version 9", data: []byte("\x93NUMPY\x09\x00\x00\x00"), wantErr: "version 9"},
		{name: "short header", data: npyBytes(1, npyHeader("<f4", false, "(1,)"), nil)[:20], wantErr: "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadNPY(bytes.NewReader(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadNPZ(t *testing.T) {
	x := npyBytes(1, npyHeader("<f4", false, "(3, 2)"), leBytes([]float32{1, 2, 3, 4, 5, 6}))
	y := npyBytes(1, npyHeader("<i8", false, "(3,)"), leBytes([]int64{2, 0, 1}))
	mask := npyBytes(1, npyHeader("|b1", false, "(3, 1)"), []byte{1, 0, 1})
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		dir := t.TempDir()
		path := writeZip(t, filepath.Join(dir, "d.npz"), []zipEntry{
			{"input.npy", x, method}, {"labels.npy", y, method}, {"mask.npy", mask, method},
		})
		ds, err := OpenNPZ(path)
		if err != nil {
			t.Fatalf("method %d: %v", method, err)
		}
		if ds.Len() != 3 || len(ds.Inputs) != 2 || ds.Inputs[0].Name != "input" || ds.Inputs[1].Name != "mask" {
			t.Fatalf("method %d: dataset %+v", method, ds)
		}
		b, err := ds.Batch(1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(b.Inputs[0].Float32, []float32{3, 4, 5, 6}) || !equalDims(b.Inputs[0].Shape, []int64{2, 2}) {
			t.Errorf("method %d: input rows 1..2 = %s %v", method, &b.Inputs[0], b.Inputs[0].Float32)
		}
		if !reflect.DeepEqual(b.Inputs[1].Bool, []bool{false, true}) {
			t.Errorf("method %d: mask rows = %v", method, b.Inputs[1].Bool)
		}
		if !reflect.DeepEqual(b.Labels, []int64{0, 1}) {
			t.Errorf("method %d: labels = %v", method, b.Labels)
		}
	}

	dir := t.TempDir()
	positional := writeZip(t, filepath.Join(dir, "p.npz"), []zipEntry{{"arr_0.npy", x, zip.Deflate}})
	arrays, err := ReadNPZ(positional)
	if err != nil || len(arrays) != 1 || arrays[0].Name != "" {
		t.Errorf("positional arr_0: %v, %v; want one unnamed array", arrays, err)
	}
	for _, tt := range []struct {
		name    string
		entries []zipEntry
		wantErr string
	}{
		{"not npy", []zipEntry{{"readme.txt", []byte("hi"), zip.Store}}, "not a .npy"},
		{"bad member", []zipEntry{{"a.npy", []byte("junk"), zip.Store}}, `entry "a.npy"`},
		{"row mismatch", []zipEntry{{"a.npy", x, zip.Store}, {"b.npy", npyBytes(1, npyHeader("<f4", false, "(2,)"), make([]byte, 8)), zip.Store}}, "rows"},
		{"float labels", []zipEntry{{"a.npy", x, zip.Store}, {"y.npy", npyBytes(1, npyHeader("<f4", false, "(3,)"), make([]byte, 12)), zip.Store}}, "not integers"},
		{"only labels", []zipEntry{{"labels.npy", y, zip.Store}}, "no input"},
		{"empty", nil, "no arrays"},
	} {
		path := writeZip(t, filepath.Join(dir, tt.name+".npz"), tt.entries)
		if _, err := OpenNPZ(path); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error = %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
	if _, err := OpenNPZ(filepath.Join(dir, "missing.npz")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestOpenNPY(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "x.npy"), npyBytes(1, npyHeader("|u1", false, "(4, 1)"), []byte{1, 2, 3, 4}))
	ds, err := OpenNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ds.Batch(2, 2)
	if err != nil {
		t.Fatal(err)
	}
	f, err := b.Inputs[0].AsFloat32()
	if err != nil || !reflect.DeepEqual(f, []float32{3, 4}) || b.Labels != nil {
		t.Errorf("rows 2..3 = %v, %v (labels %v)", f, err, b.Labels)
	}
	scalar := writeFile(t, filepath.Join(t.TempDir(), "s.npy"), npyBytes(1, npyHeader("<f4", false, "()"), make([]byte, 4)))
	if _, err := OpenNPY(scalar); err == nil || !strings.Contains(err.Error(), "batch dimension") {
		t.Errorf("scalar .npy: error = %v", err)
	}
}

// TestNumPyWritten reads files written by NumPy itself, so the hand-built headers above are
// checked against the real writer.
func TestNumPyWritten(t *testing.T) {
	testenv.RequirePythonModules(t, "numpy")
	dir := t.TempDir()
	script := `
import numpy as np, sys
d = sys.argv[1]
x = np.arange(24, dtype=np.float32).reshape(4, 1, 2, 3) / 7
np.save(d + "/x.npy", x)
np.save(d + "/f.npy", np.asfortranarray(np.ones((2, 3), dtype=np.float64)))
np.savez(d + "/s.npz", input=x, labels=np.array([3, 1, 4, 1]))
np.savez_compressed(d + "/c.npz", x, np.arange(4, dtype=np.int32) > 1, np.arange(4, dtype=np.uint8))
`
	if out, err := exec.Command(testenv.DebianPython, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	want := make([]float32, 24)
	for i := range want {
		want[i] = float32(i) / 7
	}
	x, err := ReadNPYFile(filepath.Join(dir, "x.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if !equalDims(x.Shape, []int64{4, 1, 2, 3}) || !reflect.DeepEqual(x.Float32, want) {
		t.Errorf("x.npy = %s %v", &x, x.Float32)
	}
	if _, err := ReadNPYFile(filepath.Join(dir, "f.npy")); err == nil || !strings.Contains(err.Error(), "fortran_order") {
		t.Errorf("fortran-order file: error = %v", err)
	}
	s, err := OpenNPZ(filepath.Join(dir, "s.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Labels, []int64{3, 1, 4, 1}) || s.Inputs[0].Name != "input" {
		t.Errorf("s.npz: labels %v, input %s", s.Labels, &s.Inputs[0])
	}
	c, err := ReadNPZ(filepath.Join(dir, "c.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 3 || !reflect.DeepEqual(c[1].Bool, []bool{false, false, true, true}) || !reflect.DeepEqual(c[2].Uint8, []uint8{0, 1, 2, 3}) {
		t.Errorf("c.npz = %+v", c)
	}
}
