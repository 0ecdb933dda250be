package kernel

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/whittle-ml/whittle/ir"
)

// TestViewIRMatchesFromIR checks that ViewIR gives FromIR's tensor for every element type,
// sharing the bytes exactly where it promises to: aligned numeric types whose Go form is
// the raw bytes.
func TestViewIRMatchesFromIR(t *testing.T) {
	// 16 bytes at an address aligned for every element type, and the same bytes one
	// past it (misaligned for all but the byte types).
	backing := make([]uint64, 3)
	all := unsafe.Slice((*byte)(unsafe.Pointer(&backing[0])), 24)
	for i := range all {
		all[i] = byte(7*i + 1)
	}
	aligned, odd := all[:16:16], all[1:17:17]
	for _, tt := range []struct {
		name  string
		dt    ir.DataType
		dims  []int64
		raw   []byte
		share bool
	}{
		{"float", ir.Float, []int64{2, 2}, aligned, hostLittleEndian},
		{"float misaligned", ir.Float, []int64{4}, odd, false},
		{"double", ir.Double, []int64{2}, aligned, hostLittleEndian},
		{"double misaligned", ir.Double, []int64{2}, odd, false},
		{"float16", ir.Float16, []int64{8}, aligned, hostLittleEndian},
		{"bfloat16", ir.BFloat16, []int64{8}, aligned, hostLittleEndian},
		{"uint16", ir.Uint16, []int64{8}, aligned, hostLittleEndian},
		{"int8", ir.Int8, []int64{16}, aligned, hostLittleEndian},
		{"int8 at an odd address", ir.Int8, []int64{16}, odd, hostLittleEndian},
		{"int16", ir.Int16, []int64{8}, aligned, hostLittleEndian},
		{"int32", ir.Int32, []int64{4}, aligned, hostLittleEndian},
		{"int64", ir.Int64, []int64{2}, aligned, hostLittleEndian},
		{"int64 misaligned", ir.Int64, []int64{2}, odd, false},
		{"uint32", ir.Uint32, []int64{4}, aligned, hostLittleEndian},
		{"uint64", ir.Uint64, []int64{2}, aligned, hostLittleEndian},
		{"uint8", ir.Uint8, []int64{16}, aligned, hostLittleEndian},
		{"float8", ir.Float8E4M3FN, []int64{16}, aligned, hostLittleEndian},
		// Go's bool must be 0 or 1, and sub-byte types unpack: always copied.
		{"bool", ir.Bool, []int64{16}, []byte{0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1}, false},
		{"int4", ir.Int4, []int64{32}, aligned, false},
		{"complex64", ir.Complex64, []int64{2}, aligned, false},
		{"empty", ir.Float, []int64{0}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			it := &ir.Tensor{Name: "c", DataType: tt.dt, Dims: tt.dims, Raw: tt.raw}
			want, err := FromIR(it)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ViewIR(it)
			if err != nil {
				t.Fatal(err)
			}
			if got.DType != want.DType || !reflect.DeepEqual(got.Shape, want.Shape) || !reflect.DeepEqual(got.Data, want.Data) {
				t.Fatalf("ViewIR = %v %v, FromIR = %v %v", got, got.Data, want, want.Data)
			}
			if shared := got.Len() > 0 && reflect.ValueOf(got.Data).Pointer() == uintptr(unsafe.Pointer(unsafe.SliceData(tt.raw))); shared != tt.share {
				t.Errorf("shares the IR bytes: %v, want %v", shared, tt.share)
			}
			if c := reflect.ValueOf(got.Data).Cap(); c != got.Len() {
				t.Errorf("cap %d, len %d: an append could write past the tensor into the IR's bytes", c, got.Len())
			}
		})
	}
}

// TestViewIRErrors checks that what FromIR refuses, ViewIR refuses too.
func TestViewIRErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		t    *ir.Tensor
	}{
		{"short data", &ir.Tensor{Name: "c", DataType: ir.Float, Dims: []int64{4}, Raw: make([]byte, 12)}},
		{"long data", &ir.Tensor{Name: "c", DataType: ir.Float, Dims: []int64{2}, Raw: make([]byte, 12)}},
		{"external", &ir.Tensor{Name: "c", DataType: ir.Float, Dims: []int64{1}, External: &ir.ExternalData{Location: "w.bin"}}},
		{"negative dim", &ir.Tensor{Name: "c", DataType: ir.Float, Dims: []int64{-1}, Raw: make([]byte, 4)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ferr := FromIR(tt.t)
			_, verr := ViewIR(tt.t)
			if ferr == nil || verr == nil || ferr.Error() != verr.Error() {
				t.Errorf("FromIR: %v, ViewIR: %v; want the same error", ferr, verr)
			}
		})
	}
}
