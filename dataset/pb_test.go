package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

func tensorProto(name string, dtype onnxpb.TensorProto_DataType, dims []int64, fill func(*onnxpb.TensorProto)) *onnxpb.TensorProto {
	tp := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(dtype)), Dims: dims}
	if fill != nil {
		fill(tp)
	}
	return tp
}

func marshal(t *testing.T, tp *onnxpb.TensorProto) []byte {
	t.Helper()
	data, err := proto.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeTensorProto(t *testing.T) {
	tests := []struct {
		name    string
		tp      *onnxpb.TensorProto
		want    Tensor
		wantErr string
	}{
		{name: "float raw", tp: tensorProto("x", onnxpb.TensorProto_FLOAT, []int64{2}, func(tp *onnxpb.TensorProto) {
			tp.RawData = leBytes([]float32{1.5, -2})
		}), want: Tensor{Name: "x", DType: Float32, Shape: []int64{2}, Float32: []float32{1.5, -2}}},
		{name: "float typed", tp: tensorProto("x", onnxpb.TensorProto_FLOAT, []int64{1, 2}, func(tp *onnxpb.TensorProto) {
			tp.FloatData = []float32{3, 4}
		}), want: Tensor{Name: "x", DType: Float32, Shape: []int64{1, 2}, Float32: []float32{3, 4}}},
		{name: "double typed", tp: tensorProto("d", onnxpb.TensorProto_DOUBLE, []int64{1}, func(tp *onnxpb.TensorProto) {
			tp.DoubleData = []float64{0.25}
		}), want: Tensor{Name: "d", DType: Float64, Shape: []int64{1}, Float64: []float64{0.25}}},
		{name: "int64 raw", tp: tensorProto("i", onnxpb.TensorProto_INT64, []int64{2}, func(tp *onnxpb.TensorProto) {
			tp.RawData = leBytes([]int64{-5, 1 << 33})
		}), want: Tensor{Name: "i", DType: Int64, Shape: []int64{2}, Int64: []int64{-5, 1 << 33}}},
		{name: "int64 typed", tp: tensorProto("i", onnxpb.TensorProto_INT64, []int64{1}, func(tp *onnxpb.TensorProto) {
			tp.Int64Data = []int64{9}
		}), want: Tensor{Name: "i", DType: Int64, Shape: []int64{1}, Int64: []int64{9}}},
		{name: "int32 typed", tp: tensorProto("i", onnxpb.TensorProto_INT32, []int64{2}, func(tp *onnxpb.TensorProto) {
			tp.Int32Data = []int32{-1, 1}
		}), want: Tensor{Name: "i", DType: Int32, Shape: []int64{2}, Int32: []int32{-1, 1}}},
		{name: "uint8 typed", tp: tensorProto("u", onnxpb.TensorProto_UINT8, []int64{2}, func(tp *onnxpb.TensorProto) {
			tp.Int32Data = []int32{0, 255}
		}), want: Tensor{Name: "u", DType: Uint8, Shape: []int64{2}, Uint8: []uint8{0, 255}}},
		{name: "bool raw", tp: tensorProto("b", onnxpb.TensorProto_BOOL, []int64{3}, func(tp *onnxpb.TensorProto) {
			tp.RawData = []byte{1, 0, 1}
		}), want: Tensor{Name: "b", DType: Bool, Shape: []int64{3}, Bool: []bool{true, false, true}}},
		{name: "bool typed", tp: tensorProto("b", onnxpb.TensorProto_BOOL, []int64{2}, func(tp *onnxpb.TensorProto) {
			tp.Int32Data = []int32{0, 1}
		}), want: Tensor{Name: "b", DType: Bool, Shape: []int64{2}, Bool: []bool{false, true}}},
		{name: "scalar", tp: tensorProto("", onnxpb.TensorProto_FLOAT, nil, func(tp *onnxpb.TensorProto) {
			tp.FloatData = []float32{7}
		}), want: Tensor{DType: Float32, Shape: []int64{}, Float32: []float32{7}}},
		{name: "float16", tp: tensorProto("h", onnxpb.TensorProto_FLOAT16, []int64{1}, nil), wantErr: "FLOAT16"},
		{name: "raw length", tp: tensorProto("x", onnxpb.TensorProto_FLOAT, []int64{2}, func(tp *onnxpb.TensorProto) {
			tp.RawData = make([]byte, 7)
		}), wantErr: "raw_data has 7 bytes"},
		{name: "typed count", tp: tensorProto("x", onnxpb.TensorProto_FLOAT, []int64{3}, func(tp *onnxpb.TensorProto) {
			tp.FloatData = []float32{1}
		}), wantErr: "typed data has 1"},
		{name: "uint8 range", tp: tensorProto("u", onnxpb.TensorProto_UINT8, []int64{1}, func(tp *onnxpb.TensorProto) {
			tp.Int32Data = []int32{256}
		}), wantErr: "not a uint8"},
		{name: "external", tp: tensorProto("x", onnxpb.TensorProto_FLOAT, []int64{1}, func(tp *onnxpb.TensorProto) {
			tp.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		}), wantErr: "external data"},
		{name: "negative dim", tp: tensorProto("x", onnxpb.TensorProto_FLOAT, []int64{-1}, nil), wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeTensorProto(marshal(t, tt.tp))
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
	if _, err := DecodeTensorProto([]byte{0xff, 0xff}); err == nil {
		t.Error("garbage bytes: no error")
	}
}

// writeSet writes rows images of 2 floats (value = first+row) as input_0.pb and their sums
// as output_0.pb.
func writeSet(t *testing.T, dir string, first, rows int) {
	t.Helper()
	in := make([]float32, 2*rows)
	out := make([]float32, rows)
	for r := 0; r < rows; r++ {
		in[2*r], in[2*r+1] = float32(first+r), float32(first+r)
		out[r] = 2 * float32(first+r)
	}
	writeFile(t, filepath.Join(dir, "input_0.pb"), marshal(t, tensorProto("x", onnxpb.TensorProto_FLOAT, []int64{int64(rows), 2}, func(tp *onnxpb.TensorProto) { tp.FloatData = in })))
	writeFile(t, filepath.Join(dir, "output_0.pb"), marshal(t, tensorProto("y", onnxpb.TensorProto_FLOAT, []int64{int64(rows)}, func(tp *onnxpb.TensorProto) { tp.RawData = leBytes(out) })))
}

func TestOpenPBDir(t *testing.T) {
	t.Run("flat", func(t *testing.T) {
		dir := t.TempDir()
		writeSet(t, dir, 0, 3)
		// input_10 sorts after input_2 by number, not by name.
		for _, k := range []string{"10", "2", "1"} {
			writeFile(t, filepath.Join(dir, "input_"+k+".pb"), marshal(t, tensorProto("in"+k, onnxpb.TensorProto_INT64, []int64{3}, func(tp *onnxpb.TensorProto) { tp.Int64Data = []int64{1, 2, 3} })))
		}
		ds, err := OpenPBDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, in := range ds.Sets[0].Inputs {
			names = append(names, in.Name)
		}
		if want := []string{"x", "in1", "in2", "in10"}; !reflect.DeepEqual(names, want) {
			t.Errorf("input order %v, want %v", names, want)
		}
		if ds.Len() != 3 {
			t.Errorf("Len = %d, want 3", ds.Len())
		}
	})
	t.Run("sets", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "model.onnx"), []byte("not read"))
		writeSet(t, filepath.Join(dir, "test_data_set_0"), 0, 2)
		writeSet(t, filepath.Join(dir, "test_data_set_1"), 2, 3)
		ds, err := OpenPBDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != 5 {
			t.Fatalf("Len = %d, want 5", ds.Len())
		}
		var got []float32
		var sums []float32
		err = Each(ds, 2, func(start int, b Batch) error {
			got = append(got, b.Inputs[0].Float32...)
			sums = append(sums, b.Expected[0].Float32...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []float32{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}; !reflect.DeepEqual(got, want) {
			t.Errorf("inputs %v, want %v", got, want)
		}
		if want := []float32{0, 2, 4, 6, 8}; !reflect.DeepEqual(sums, want) {
			t.Errorf("expected outputs %v, want %v", sums, want)
		}
	})
	t.Run("unbatchable set", func(t *testing.T) {
		dir := t.TempDir()
		set := filepath.Join(dir, "test_data_set_0")
		writeFile(t, filepath.Join(set, "input_0.pb"), marshal(t, tensorProto("a", onnxpb.TensorProto_FLOAT, []int64{3, 4}, func(tp *onnxpb.TensorProto) { tp.RawData = make([]byte, 48) })))
		writeFile(t, filepath.Join(set, "input_1.pb"), marshal(t, tensorProto("b", onnxpb.TensorProto_FLOAT, []int64{4, 5}, func(tp *onnxpb.TensorProto) { tp.RawData = make([]byte, 80) })))
		writeSet(t, filepath.Join(dir, "test_data_set_1"), 0, 2)
		ds, err := OpenPBDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != 3 || ds.Sets[0].Rows != 0 {
			t.Fatalf("Len = %d, set 0 rows = %d; want 3 and 0", ds.Len(), ds.Sets[0].Rows)
		}
		b, err := ds.Batch(0, 1)
		if err != nil || len(b.Inputs) != 2 || !equalDims(b.Inputs[1].Shape, []int64{4, 5}) {
			t.Errorf("whole set: %+v, %v", b, err)
		}
		if _, err := ds.Batch(0, 2); err == nil || !strings.Contains(err.Error(), "read alone") {
			t.Errorf("batching it with another set: error = %v", err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, err := OpenPBDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no input_K.pb") {
			t.Errorf("empty folder: error = %v", err)
		}
		if _, err := OpenPBDir(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("missing folder: error = %v", err)
		}
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "input_0.pb"), []byte{0xff})
		if _, err := OpenPBDir(dir); err == nil || !strings.Contains(err.Error(), "input_0.pb") {
			t.Errorf("corrupt file: error = %v, want it to name input_0.pb", err)
		}
	})
}

// nonTensorCase matches the node tests whose .pb files hold sequences or optionals.
var nonTensorCase = regexp.MustCompile(`sequence|optional|_seq`)

// TestONNXBackendData opens every node test case's data: each must either load or be refused
// for an element type this package does not read.
func TestONNXBackendData(t *testing.T) {
	root := testenv.ONNXTestsDir(t)
	cases, err := filepath.Glob(filepath.Join(root, "node", "*"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no node cases under %s: %v", root, err)
	}
	opened, refused := 0, 0
	for _, dir := range cases {
		ds, err := OpenPBDir(dir)
		if err != nil {
			if strings.Contains(err.Error(), "element type not supported") ||
				(nonTensorCase.MatchString(filepath.Base(dir)) && strings.Contains(err.Error(), notTensorHint)) {
				refused++
				continue
			}
			t.Errorf("%s: %v", filepath.Base(dir), err)
			continue
		}
		opened++
		if _, err := ds.Batch(0, 1); err != nil {
			t.Errorf("%s: first row: %v", filepath.Base(dir), err)
		}
	}
	t.Logf("%d node cases opened, %d refused (element types, sequences, optionals)", opened, refused)
	if opened < len(cases)/2 {
		t.Errorf("only %d of %d node cases opened", opened, len(cases))
	}
}
