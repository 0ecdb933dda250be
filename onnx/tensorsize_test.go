package onnx

import (
	"math"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

func TestTensorDataSize(t *testing.T) {
	tests := []struct {
		dt   onnxpb.TensorProto_DataType
		dims []int64
		want int64
	}{
		{onnxpb.TensorProto_FLOAT, []int64{2, 3}, 24},
		{onnxpb.TensorProto_FLOAT, nil, 4}, // scalar
		{onnxpb.TensorProto_FLOAT, []int64{0, 5}, 0},
		{onnxpb.TensorProto_UINT8, []int64{7}, 7},
		{onnxpb.TensorProto_INT8, []int64{7}, 7},
		{onnxpb.TensorProto_UINT16, []int64{3}, 6},
		{onnxpb.TensorProto_INT16, []int64{3}, 6},
		{onnxpb.TensorProto_INT32, []int64{3}, 12},
		{onnxpb.TensorProto_INT64, []int64{3}, 24},
		{onnxpb.TensorProto_BOOL, []int64{3}, 3},
		{onnxpb.TensorProto_FLOAT16, []int64{3}, 6},
		{onnxpb.TensorProto_DOUBLE, []int64{3}, 24},
		{onnxpb.TensorProto_UINT32, []int64{3}, 12},
		{onnxpb.TensorProto_UINT64, []int64{3}, 24},
		{onnxpb.TensorProto_COMPLEX64, []int64{3}, 24},
		{onnxpb.TensorProto_COMPLEX128, []int64{3}, 48},
		{onnxpb.TensorProto_BFLOAT16, []int64{3}, 6},
		{onnxpb.TensorProto_FLOAT8E4M3FN, []int64{3}, 3},
		{onnxpb.TensorProto_FLOAT8E4M3FNUZ, []int64{3}, 3},
		{onnxpb.TensorProto_FLOAT8E5M2, []int64{3}, 3},
		{onnxpb.TensorProto_FLOAT8E5M2FNUZ, []int64{3}, 3},
		{onnxpb.TensorProto_FLOAT8E8M0, []int64{3}, 3},
		// 4-bit: two per byte, rounded up.
		{onnxpb.TensorProto_UINT4, []int64{3}, 2},
		{onnxpb.TensorProto_INT4, []int64{4}, 2},
		{onnxpb.TensorProto_FLOAT4E2M1, []int64{1}, 1},
		{onnxpb.TensorProto_INT4, []int64{3, 3}, 5},
		// 2-bit: four per byte, rounded up.
		{onnxpb.TensorProto_UINT2, []int64{5}, 2},
		{onnxpb.TensorProto_INT2, []int64{8}, 2},
		{onnxpb.TensorProto_INT2, nil, 1},
		// Huge but representable; a zero dimension wins over an overflowing product.
		{onnxpb.TensorProto_UINT8, []int64{math.MaxInt64}, math.MaxInt64},
		{onnxpb.TensorProto_INT4, []int64{math.MaxInt64}, math.MaxInt64/2 + 1},
		{onnxpb.TensorProto_FLOAT, []int64{math.MaxInt64, math.MaxInt64, 0}, 0},
	}
	for _, tt := range tests {
		got, err := TensorDataSize(int32(tt.dt), tt.dims)
		if err != nil || got != tt.want {
			t.Errorf("TensorDataSize(%s, %v) = %d, %v; want %d", tt.dt, tt.dims, got, err, tt.want)
		}
	}
}

func TestTensorDataSizeEveryKnownType(t *testing.T) {
	// Every data type of the schema except STRING and UNDEFINED must have a size, so a new
	// enum value added to onnx.proto cannot be silently unsupported.
	for v, name := range onnxpb.TensorProto_DataType_name {
		dt := onnxpb.TensorProto_DataType(v)
		if dt == onnxpb.TensorProto_STRING || dt == onnxpb.TensorProto_UNDEFINED {
			continue
		}
		if _, err := TensorDataSize(v, []int64{1}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTensorDataSizeErrors(t *testing.T) {
	tests := []struct {
		name string
		dt   int32
		dims []int64
		want string
	}{
		{"string", int32(onnxpb.TensorProto_STRING), []int64{2}, "STRING"},
		{"undefined", 0, []int64{2}, "unknown data type"},
		{"future type", 999, []int64{2}, "unknown data type"},
		{"negative dim", int32(onnxpb.TensorProto_FLOAT), []int64{2, -1}, "negative"},
		{"count overflow", int32(onnxpb.TensorProto_UINT8), []int64{1 << 32, 1 << 32}, "overflows"},
		{"byte overflow", int32(onnxpb.TensorProto_FLOAT), []int64{math.MaxInt64 / 2}, "overflows"},
	}
	for _, tt := range tests {
		if got, err := TensorDataSize(tt.dt, tt.dims); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %d, %v; want error containing %q", tt.name, got, err, tt.want)
		}
	}
}
