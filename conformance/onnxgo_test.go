package conformance

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	onnxgo "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/simple"
	"github.com/owulveryck/onnx-go/backend/testbackend"
	_ "github.com/owulveryck/onnx-go/backend/testbackend/onnx" // registers the corpus
	"gorgonia.org/tensor"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// onnxGoCases returns onnx-go's registered backend cases sorted by title. The corpus is
// compiled into the module, so this test needs no data beside the repository.
func onnxGoCases() []*testbackend.TestCase {
	var cases []*testbackend.TestCase
	for _, mk := range testbackend.GetAllRegisteredTests() {
		cases = append(cases, mk())
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Title < cases[j].Title })
	return cases
}

// fromGorgonia converts a gorgonia tensor (the corpus's input and output form).
func fromGorgonia(t tensor.Tensor) (*kernel.Tensor, error) {
	shape := make([]int64, len(t.Shape()))
	for i, d := range t.Shape() {
		shape[i] = int64(d)
	}
	if t.Shape().IsScalar() {
		shape = nil
	}
	out := &kernel.Tensor{Shape: shape}
	switch d := t.Data().(type) {
	case []float32:
		out.DType, out.Data = ir.Float, append([]float32(nil), d...)
	case float32:
		out.DType, out.Data = ir.Float, []float32{d}
	case []float64:
		out.DType, out.Data = ir.Double, append([]float64(nil), d...)
	case float64:
		out.DType, out.Data = ir.Double, []float64{d}
	case []int64:
		out.DType, out.Data = ir.Int64, append([]int64(nil), d...)
	case int64:
		out.DType, out.Data = ir.Int64, []int64{d}
	case []int32:
		out.DType, out.Data = ir.Int32, append([]int32(nil), d...)
	case []bool:
		out.DType, out.Data = ir.Bool, append([]bool(nil), d...)
	case bool:
		out.DType, out.Data = ir.Bool, []bool{d}
	case []uint8:
		out.DType, out.Data = ir.Uint8, append([]uint8(nil), d...)
	case []int8:
		out.DType, out.Data = ir.Int8, append([]int8(nil), d...)
	default:
		return nil, fmt.Errorf("unsupported gorgonia data %T", d)
	}
	return out, nil
}

// runOnnxGoCase runs one corpus case in whittle's runtime; it returns a skip reason when
// the runtime lacks an operator of the case.
func runOnnxGoCase(tc *testbackend.TestCase) (skip string, err error) {
	p, err := onnx.Decode(tc.ModelB)
	if err != nil {
		return "", err
	}
	m, err := onnx.ToIR(p)
	if err != nil {
		return "", err
	}
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		if strings.Contains(err.Error(), "not implemented") || strings.Contains(err.Error(), "no kernel") {
			return err.Error(), nil
		}
		return "", err
	}
	var declared []*ir.Value
	for _, v := range m.Graph.Inputs {
		if !v.IsConst() {
			declared = append(declared, v)
		}
	}
	ins := make([]*kernel.Tensor, len(tc.Input))
	for i, t := range tc.Input {
		if ins[i], err = fromGorgonia(t); err != nil {
			return "", fmt.Errorf("input %d: %w", i, err)
		}
		// The corpus generator stored integer tensors as float32 and 1-element tensors as
		// scalars (its tensor library's habits); give the model the type and shape it
		// declares.
		if i < len(declared) && declared[i].Type != nil {
			if dims, ok := declared[i].Type.StaticDims(); ok && len(dims) != len(ins[i].Shape) {
				if n, _ := ir.NumElements(dims); int(n) == ins[i].NumElements() {
					ins[i].Shape = dims
				}
			}
		}
		if i < len(declared) && declared[i].Type != nil && declared[i].Type.Elem != ins[i].DType {
			if ins[i], err = castTo(ins[i], declared[i].Type.Elem); err != nil {
				return "", fmt.Errorf("input %d: %w", i, err)
			}
		}
	}
	outs, err := sess.RunOrdered(context.Background(), ins)
	if err != nil {
		return "", err
	}
	if len(outs) < len(tc.ExpectedOutput) {
		return "", fmt.Errorf("%d outputs, want %d", len(outs), len(tc.ExpectedOutput))
	}
	for i, e := range tc.ExpectedOutput {
		want, err := fromGorgonia(e)
		if err != nil {
			return "", fmt.Errorf("expected output %d: %w", i, err)
		}
		got := outs[i]
		if want.DType == ir.Float && got.DType != ir.Float {
			// Integer outputs were stored as float32 too (see the inputs above).
			if got, err = castTo(got, ir.Float); err != nil {
				return "", fmt.Errorf("output %d: %w", i, err)
			}
		}
		// The corpus stores scalars and 1-element tensors loosely; compare values then.
		if len(want.Shape) == 0 && got.NumElements() == 1 {
			want.Shape = got.Shape
		}
		if err := Compare(got, want); err != nil {
			return "", fmt.Errorf("output %d: %w", i, err)
		}
	}
	return "", nil
}

// TestOnnxGoCorpus runs the backend cases that onnx-go compiles into its
// backend/testbackend/onnx package. Cases of operators whittle implements must pass;
// the others are listed by name.
func TestOnnxGoCorpus(t *testing.T) {
	cases := onnxGoCases()
	if len(cases) == 0 {
		t.Fatal("onnx-go registered no cases")
	}
	pass, fail := 0, 0
	var skipped []string
	for _, tc := range cases {
		tc := tc
		t.Run(tc.Title, func(t *testing.T) {
			skip, err := runOnnxGoCase(tc)
			switch {
			case err != nil:
				fail++
				t.Errorf("%s (%s): %v", tc.Title, tc.OpType, err)
			case skip != "":
				skipped = append(skipped, tc.Title+" ("+tc.OpType+")")
				t.Skip(skip)
			default:
				pass++
			}
		})
	}
	t.Logf("onnx-go corpus: %d cases, %d passed, %d failed, %d skipped (operator not implemented): %s",
		len(cases), pass, fail, len(skipped), strings.Join(skipped, ", "))
}

// TestOnnxGoReadsWhittleOutput checks that onnx-go's decoder, an existing Go ONNX
// toolchain, reads every model whittle writes (through the IR, as passes do) exactly as
// well as it reads the original: a model it decodes must still decode after whittle.
func TestOnnxGoReadsWhittleOutput(t *testing.T) {
	decodes := func(b []byte) error {
		m := onnxgo.NewModel(simple.NewSimpleGraph())
		defer func() { recover() }() // onnx-go panics on some inputs; that counts as "does not decode"
		return m.UnmarshalBinary(b)
	}
	readable, checked := 0, 0
	for _, tc := range onnxGoCases() {
		before := decodes(tc.ModelB)
		if before != nil {
			continue
		}
		checked++
		p, err := onnx.Decode(tc.ModelB)
		if err != nil {
			t.Fatalf("%s: %v", tc.Title, err)
		}
		m, err := onnx.ToIR(p)
		if err != nil {
			t.Fatalf("%s: %v", tc.Title, err)
		}
		back, err := onnx.FromIR(m)
		if err != nil {
			t.Fatalf("%s: %v", tc.Title, err)
		}
		b, err := onnx.Encode(back)
		if err != nil {
			t.Fatalf("%s: %v", tc.Title, err)
		}
		if err := decodes(b); err != nil {
			t.Errorf("%s: onnx-go reads the original but not whittle's output: %v", tc.Title, err)
			continue
		}
		readable++
	}
	t.Logf("onnx-go decodes %d of %d whittle-written models whose originals it decodes", readable, checked)
	if checked == 0 {
		t.Fatal("onnx-go decoded none of the originals")
	}
}

// castTo converts between float32 and the integer types the corpus mixes up; integral
// values convert exactly.
func castTo(t *kernel.Tensor, dt ir.DataType) (*kernel.Tensor, error) {
	vals, err := kernel.Float64sOf(t)
	if err != nil {
		return nil, fmt.Errorf("cannot convert %s: %w", t, err)
	}
	out, err := kernel.FromFloat64s(nil, dt, t.Shape, vals)
	if err != nil {
		return nil, fmt.Errorf("cannot convert %s to %s: %w", t, dt, err)
	}
	return out, nil
}
