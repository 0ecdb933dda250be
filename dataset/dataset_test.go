package dataset

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestTensorConversions(t *testing.T) {
	tests := []struct {
		t       Tensor
		f32     []float32
		i64     []int64
		i64Fail bool
	}{
		{t: Tensor{DType: Float32, Float32: []float32{1.5, -2}}, f32: []float32{1.5, -2}, i64Fail: true},
		{t: Tensor{DType: Float64, Float64: []float64{0.25}}, f32: []float32{0.25}, i64Fail: true},
		{t: Tensor{DType: Int64, Int64: []int64{-3, 4}}, f32: []float32{-3, 4}, i64: []int64{-3, 4}},
		{t: Tensor{DType: Int32, Int32: []int32{7}}, f32: []float32{7}, i64: []int64{7}},
		{t: Tensor{DType: Uint8, Uint8: []uint8{255}}, f32: []float32{255}, i64: []int64{255}},
		{t: Tensor{DType: Bool, Bool: []bool{true, false}}, f32: []float32{1, 0}, i64: []int64{1, 0}},
	}
	for _, tt := range tests {
		tt.t.Shape = []int64{int64(len(tt.f32))}
		f, err := tt.t.AsFloat32()
		if err != nil || !reflect.DeepEqual(f, tt.f32) {
			t.Errorf("%s: AsFloat32 = %v, %v; want %v", &tt.t, f, err, tt.f32)
		}
		i, err := tt.t.AsInt64()
		if tt.i64Fail != (err != nil) || (!tt.i64Fail && !reflect.DeepEqual(i, tt.i64)) {
			t.Errorf("%s: AsInt64 = %v, %v; want %v (fail %v)", &tt.t, i, err, tt.i64, tt.i64Fail)
		}
	}
	bad := Tensor{Shape: []int64{3}, DType: Float32, Float32: []float32{1}}
	if err := bad.validate(); err == nil {
		t.Error("validate: 1 element for shape [3] passed")
	}
	if got := (&Tensor{Name: "x", DType: Uint8, Shape: []int64{2, 3}}).String(); got != "x uint8[2 3]" {
		t.Errorf("String = %q", got)
	}
}

func TestArraysAndHead(t *testing.T) {
	x := Tensor{Name: "x", DType: Int32, Shape: []int64{4, 2}, Int32: []int32{0, 1, 2, 3, 4, 5, 6, 7}}
	ds, err := NewArrays([]Tensor{x}, []int64{9, 8, 7, 6}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := Head(ds, 3)
	if h.Len() != 3 {
		t.Fatalf("Head Len = %d", h.Len())
	}
	if _, err := h.Batch(2, 2); err == nil {
		t.Error("Head: batch past its end passed")
	}
	var starts []int
	var values []int32
	var labels []int64
	err = Each(h, 2, func(start int, b Batch) error {
		starts = append(starts, start)
		values = append(values, b.Inputs[0].Int32...)
		labels = append(labels, b.Labels...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(starts, []int{0, 2}) || !reflect.DeepEqual(values, []int32{0, 1, 2, 3, 4, 5}) || !reflect.DeepEqual(labels, []int64{9, 8, 7}) {
		t.Errorf("Each: starts %v values %v labels %v", starts, values, labels)
	}
	if Head(ds, 10) != Dataset(ds) {
		t.Error("Head longer than the dataset should return it unchanged")
	}
	stop := errors.New("stop")
	if err := Each(ds, 1, func(int, Batch) error { return stop }); err != stop {
		t.Errorf("Each did not return fn's error: %v", err)
	}
	if err := Each(ds, 0, func(int, Batch) error { return nil }); err == nil {
		t.Error("Each with batch size 0 passed")
	}
	for _, tt := range []struct {
		name    string
		inputs  []Tensor
		labels  []int64
		wantErr string
	}{
		{"no inputs", nil, nil, "no input"},
		{"label count", []Tensor{x}, []int64{1}, "1 labels for 4 rows"},
		{"scalar", []Tensor{{DType: Float32, Shape: []int64{}, Float32: []float32{1}}}, nil, "scalar"},
		{"row mismatch", []Tensor{x, {Name: "y", DType: Bool, Shape: []int64{3}, Bool: make([]bool, 3)}}, nil, "rows"},
	} {
		if _, err := NewArrays(tt.inputs, tt.labels, nil); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error = %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestConcatRows(t *testing.T) {
	a := Tensor{Name: "x", DType: Float32, Shape: []int64{1, 2}, Float32: []float32{1, 2}}
	b := Tensor{Name: "x", DType: Float32, Shape: []int64{2, 2}, Float32: []float32{3, 4, 5, 6}}
	got, err := concatRows([]Tensor{a, b})
	if err != nil || !equalDims(got.Shape, []int64{3, 2}) || !reflect.DeepEqual(got.Float32, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("concat = %s %v, %v", &got, got.Float32, err)
	}
	c := Tensor{Name: "x", DType: Float32, Shape: []int64{1, 3}, Float32: []float32{1, 2, 3}}
	if _, err := concatRows([]Tensor{a, c}); err == nil {
		t.Error("concat of [1,2] and [1,3] passed")
	}
}
