package opschema

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
)

func TestConvVersionsAndAttributes(t *testing.T) {
	if got, want := Versions("", "Conv"), []int64{1, 11, 22}; !slices.Equal(got, want) {
		t.Fatalf("Versions(Conv) = %v, want %v", got, want)
	}
	s, ok := Lookup("", "Conv", 22)
	if !ok {
		t.Fatal("Lookup(Conv, 22) failed")
	}
	group, ok := s.Attribute("group")
	if !ok {
		t.Fatal("Conv has no attribute group")
	}
	if group.Type != ir.AttrInt || !group.HasDefault || group.Required || group.Default != "1" {
		t.Errorf("Conv.group = %+v, want INT with default 1", group)
	}
	if ks, _ := s.Attribute("kernel_shape"); ks.Type != ir.AttrInts || ks.HasDefault {
		t.Errorf("Conv.kernel_shape = %+v, want INTS without default", ks)
	}
	if !s.SignatureKnown() {
		t.Error("Conv at 22 should have a known signature")
	}
}

func TestGemmInputCounts(t *testing.T) {
	s, ok := Lookup("", "Gemm", 13)
	if !ok {
		t.Fatal("Lookup(Gemm, 13) failed")
	}
	if s.MinInputs != 2 || s.MaxInputs != 3 || s.MinOutputs != 1 || s.MaxOutputs != 1 {
		t.Errorf("Gemm counts in %d-%d out %d-%d, want in 2-3 out 1-1", s.MinInputs, s.MaxInputs, s.MinOutputs, s.MaxOutputs)
	}
	if len(s.Inputs) != 3 || !s.Inputs[2].Optional || s.Inputs[0].Optional {
		t.Errorf("Gemm inputs = %+v, want A, B, optional C", s.Inputs)
	}
	if c, ok := s.Constraint("T"); !ok || !slices.Contains(c.Allowed, "tensor(float)") {
		t.Errorf("Gemm constraint T = %+v, want it to allow tensor(float)", c)
	}
}

func TestLookupVersionInForce(t *testing.T) {
	// Operators.md: Relu versions 1, 6, 13, 14.
	tests := []struct {
		op      string
		opset   int64
		want    int64
		ok      bool
		current bool // the documented (newest) version is the one in force
	}{
		{"Relu", 13, 13, true, false},
		{"Relu", 12, 6, true, false},
		{"Relu", 14, 14, true, true},
		{"Relu", 99, 14, true, true},
		{"Relu", 1, 1, true, false},
		{"Relu", 0, 0, false, false},
		{"Acos", 6, 0, false, false}, // introduced at 7
		{"NoSuchOp", 13, 0, false, false},
	}
	for _, tt := range tests {
		s, ok := Lookup("", tt.op, tt.opset)
		if ok != tt.ok {
			t.Errorf("Lookup(%s, %d) ok = %v, want %v", tt.op, tt.opset, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if s.SinceVersion != tt.want || s.SignatureKnown() != tt.current {
			t.Errorf("Lookup(%s, %d) = since %d known %v, want %d %v", tt.op, tt.opset, s.SinceVersion, s.SignatureKnown(), tt.want, tt.current)
		}
	}
}

func TestUnknownAndDomains(t *testing.T) {
	if Known("", "NoSuchOp") || Known("com.example", "Conv") {
		t.Error("Known accepted an unknown op")
	}
	if !Known("ai.onnx", "Conv") {
		t.Error(`"ai.onnx" should alias the default domain`)
	}
	if Versions("", "NoSuchOp") != nil {
		t.Error("Versions of an unknown op should be nil")
	}
	if !HasDomain("ai.onnx.preview.training") || !Known("ai.onnx.preview.training", "Adam") {
		t.Error("ai.onnx.preview.training.Adam missing")
	}
	if HasDomain("ai.onnx.ml") {
		t.Error("ai.onnx.ml is not documented in Operators.md")
	}
	if LatestOpset("com.example") != 0 {
		t.Error("LatestOpset of an unknown domain should be 0")
	}
}

func TestDeprecated(t *testing.T) {
	// Scatter: version 9, deprecated at 11.
	s, ok := Lookup("", "Scatter", 10)
	if !ok || s.SinceVersion != 9 || s.Deprecated || s.SignatureKnown() {
		t.Errorf("Scatter at 10 = %+v, want since 9, not deprecated, signature unknown", s)
	}
	s, ok = Lookup("", "Scatter", 11)
	if !ok || s.SinceVersion != 11 || !s.Deprecated {
		t.Errorf("Scatter at 11 = %+v, want deprecated since 11", s)
	}
}

func TestVariadic(t *testing.T) {
	s, _ := Lookup("", "Concat", 13)
	if s.MinInputs != 1 || s.MaxInputs != Unbounded || !s.Inputs[0].Variadic {
		t.Errorf("Concat inputs = %d-%d %+v, want 1-Unbounded variadic", s.MinInputs, s.MaxInputs, s.Inputs)
	}
	if b, _ := Lookup("", "Loop", 25); b == nil || !b.Outputs[len(b.Outputs)-1].Heterogeneous {
		t.Errorf("Loop outputs should end with a heterogeneous variadic")
	}
}

// TestLatestOpset compares LatestOpset("") with the highest version linked from the
// default-domain index of Operators.md, found here with a plain regexp independent of
// the generator.
func TestLatestOpset(t *testing.T) {
	data, err := os.ReadFile("../../../shared/reference/Operators.md")
	if err != nil {
		testenv.Skipf(t, "Operators.md not available: %v", err)
	}
	var want int64
	for _, m := range regexp.MustCompile(`Changelog\.md#([A-Za-z0-9]+)-(\d+)"`).FindAllSubmatch(data, -1) {
		v, _ := strconv.ParseInt(string(m[2]), 10, 64)
		want = max(want, v)
	}
	if got := LatestOpset(""); got != want || got == 0 {
		t.Errorf("LatestOpset(\"\") = %d, want %d", got, want)
	}
	if got := LatestOpset("ai.onnx.preview.training"); got != 1 {
		t.Errorf("LatestOpset(training) = %d, want 1", got)
	}
}

func TestAttrTypeName(t *testing.T) {
	tests := []struct {
		typ  ir.AttrType
		want string
	}{
		{ir.AttrUndefined, "UNDEFINED"}, {ir.AttrFloat, "FLOAT"}, {ir.AttrInt, "INT"},
		{ir.AttrString, "STRING"}, {ir.AttrTensor, "TENSOR"}, {ir.AttrGraph, "GRAPH"},
		{ir.AttrFloats, "FLOATS"}, {ir.AttrInts, "INTS"}, {ir.AttrStrings, "STRINGS"},
		{ir.AttrTensors, "TENSORS"}, {ir.AttrGraphs, "GRAPHS"},
		{ir.AttrSparseTensor, "SPARSE_TENSOR"}, {ir.AttrSparseTensors, "SPARSE_TENSORS"},
		{ir.AttrTypeProto, "TYPE_PROTO"}, {ir.AttrTypeProtos, "TYPE_PROTOS"},
		{ir.AttrType(99), "AttrType(99)"}, {ir.AttrType(-1), "AttrType(-1)"},
	}
	for _, tt := range tests {
		if got := AttrTypeName(tt.typ); got != tt.want {
			t.Errorf("AttrTypeName(%d) = %q, want %q", int32(tt.typ), got, tt.want)
		}
	}
}
