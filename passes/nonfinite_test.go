package passes

import (
	"math"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// nonFiniteNet is x[2,4] MatMul w[4,3] with a NaN and an infinity among the weights.
func nonFiniteNet(t *testing.T, bad float32) *ir.Model {
	w := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	w[4] = bad
	return newBuilder(t, 13).Input("x", ir.Float, 2, 4).
		Floats("w", []int64{4, 3}, w...).
		Node("MatMul", "x,w", "y").
		Output("y").Model()
}

// Weights that are NaN or infinite are refused by quantization (weight-only, int4 blocks,
// dynamic, static) and by every pruning pattern, naming the weight: quantizing them
// wrote a model whose whole channel was garbage, and magnitude pruning ranked them
// arbitrarily (found by the hostile-input table, internal/hostile "nan-weights").
func TestNonFiniteWeightsAreRefused(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	int4 := DefaultQuantizeOptions()
	int4.WeightBits, int4.AllowOpsetUpgrade = 4, true
	steps := []struct {
		name string
		want string
		run  func(m *ir.Model) error
	}{
		{"weight-only int8", "cannot be quantized", func(m *ir.Model) error {
			_, err := QuantizeWeights(nil, m, DefaultQuantizeOptions())
			return err
		}},
		{"weight-only int4", "cannot be quantized", func(m *ir.Model) error { _, err := QuantizeWeights(nil, m, int4); return err }},
		{"dynamic", "cannot be quantized", func(m *ir.Model) error {
			_, err := QuantizeDynamic(&Context{}, m, DefaultQuantizeOptions())
			return err
		}},
		{"unstructured", "cannot rank", func(m *ir.Model) error {
			o := DefaultPruneOptions()
			o.Sparsity = 0.5
			_, err := Prune(&Context{}, m, o)
			return err
		}},
		{"global", "cannot rank", func(m *ir.Model) error {
			o := DefaultPruneOptions()
			o.Sparsity, o.Scope = 0.5, ScopeGlobal
			_, err := Prune(&Context{}, m, o)
			return err
		}},
		{"2:4", "cannot rank", func(m *ir.Model) error {
			o := DefaultPruneOptions()
			if err := o.ParsePattern("2:4"); err != nil {
				return err
			}
			_, err := Prune(&Context{}, m, o)
			return err
		}},
	}
	for _, bad := range []float32{nan, inf} {
		for _, st := range steps {
			m := nonFiniteNet(t, bad)
			if st.name == "2:4" {
				// N:M runs along the reduction axis, which must be a multiple of 4.
				m = newBuilder(t, 13).Input("x", ir.Float, 2, 4).
					Floats("w", []int64{4, 4}, 1, 2, 3, 4, bad, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16).
					Node("MatMul", "x,w", "y").Output("y").Model()
			}
			err := st.run(m)
			if err == nil || !strings.Contains(err.Error(), st.want) || !strings.Contains(err.Error(), `"w"`) {
				t.Errorf("%s with %v: got %v, want an error naming weight \"w\" that says %q", st.name, bad, err, st.want)
			}
		}
	}
	// Finite weights still go through.
	if _, err := QuantizeWeights(nil, nonFiniteNet(t, 0), DefaultQuantizeOptions()); err != nil {
		t.Errorf("finite weights: %v", err)
	}
}
