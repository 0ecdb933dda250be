package ir

import (
	"math"
	"testing"
)

func TestFloat64sRoundTrip(t *testing.T) {
	xs := []float64{0, 1, -2.5, 0.099975586, 65504, math.Inf(-1)}
	for _, dt := range []DataType{Float, Double, Float16, BFloat16} {
		tn := FromFloat64s("w", dt, []int64{int64(len(xs))}, xs)
		if tn.DataType != dt || len(tn.Raw) != len(xs)*dt.BitSize()/8 {
			t.Fatalf("%s: encoded as %s with %d bytes", dt, tn.DataType, len(tn.Raw))
		}
		got, err := tn.Float64s()
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range xs {
			// Every value is exact in float16 except 0.0999...; bfloat16 keeps 8 bits.
			tol := 0.0
			switch dt {
			case Float16:
				tol = math.Abs(x) * 1e-3
			case BFloat16:
				tol = math.Abs(x) * 4e-3
			case Float:
				tol = math.Abs(x) * 1e-7
			}
			if d := math.Abs(got[i] - x); !(d <= tol) && !(math.IsInf(x, 0) && got[i] == x) {
				t.Errorf("%s: element %d = %g, want %g", dt, i, got[i], x)
			}
		}
	}
	if _, err := FromInt64("i", []int64{1}, []int64{3}).Float64s(); err == nil {
		t.Error("Float64s of an int64 tensor: want an error")
	}
}

func TestFloat16Conversions(t *testing.T) {
	for _, c := range []struct {
		bits uint16
		f    float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, float32(math.Ldexp(1, -24))},
		{0x7c00, float32(math.Inf(1))}, {0x8000, float32(math.Copysign(0, -1))},
	} {
		if got := Float16ToFloat32(c.bits); got != c.f {
			t.Errorf("Float16ToFloat32(%#04x) = %g, want %g", c.bits, got, c.f)
		}
		if got := Float32ToFloat16(c.f); got != c.bits {
			t.Errorf("Float32ToFloat16(%g) = %#04x, want %#04x", c.f, got, c.bits)
		}
	}
	if got := Float32ToFloat16(1 + 1.0/2048); got != 0x3c00 { // a tie rounds to even
		t.Errorf("tie: %#04x", got)
	}
	if got := BFloat16ToFloat32(Float32ToBFloat16(3)); got != 3 {
		t.Errorf("bfloat16 3 -> %g", got)
	}
}

func TestDomainHelpers(t *testing.T) {
	for _, c := range []struct {
		domain, canonical, name, op string
		isDefault                   bool
	}{
		{"", "", "ai.onnx", "Conv", true},
		{"ai.onnx", "", "ai.onnx", "Conv", true},
		{"com.microsoft", "com.microsoft", "com.microsoft", "com.microsoft::Conv", false},
	} {
		if got := IsDefaultDomain(c.domain); got != c.isDefault {
			t.Errorf("IsDefaultDomain(%q) = %v", c.domain, got)
		}
		if got := CanonicalDomain(c.domain); got != c.canonical {
			t.Errorf("CanonicalDomain(%q) = %q", c.domain, got)
		}
		if got := DomainName(c.domain); got != c.name {
			t.Errorf("DomainName(%q) = %q", c.domain, got)
		}
		if got := QualifiedOp(c.domain, "Conv"); got != c.op {
			t.Errorf("QualifiedOp(%q, Conv) = %q", c.domain, got)
		}
	}
}

func TestNamesFresh(t *testing.T) {
	n := NewNames("x", "x_1")
	for _, c := range []struct{ hint, want string }{{"x", "x_2"}, {"x", "x_3"}, {"y", "y"}, {"y", "y_1"}} {
		if got := n.Fresh(c.hint); got != c.want {
			t.Errorf("Fresh(%q) = %q, want %q", c.hint, got, c.want)
		}
	}
	if !n.Taken("y_1") || n.Taken("z") {
		t.Error("Taken disagrees with what Fresh handed out")
	}
}
