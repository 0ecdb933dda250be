package passes

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// TestCalibrationStatsMergeExactly collects the same batches in one collector and in
// four shards, in different orders, and checks that the merged statistics and every
// method's ranges are exactly those of the single run.
func TestCalibrationStatsMergeExactly(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var batches [][]float32
	for b := 0; b < 13; b++ {
		scale := float32(1 + 40*r.Float64()) // ranges that force doubling at various times
		d := make([]float32, 257)
		for i := range d {
			d[i] = float32(r.NormFloat64()) * scale
		}
		if b == 5 {
			for i := range d {
				d[i] = 0 // an all-zero batch
			}
		}
		batches = append(batches, d)
	}
	for _, method := range []CalibrationMethod{MinMax, Percentile, Entropy} {
		t.Run(string(method), func(t *testing.T) {
			opts := CalibrationOptions{Method: method}
			one := NewRangeCollector(opts)
			for _, d := range batches {
				one.Observe("x", d)
			}
			want, err := one.Stats()
			if err != nil {
				t.Fatal(err)
			}
			var parts []*CalibrationStats
			for k := 1; k <= 4; k++ {
				c := NewRangeCollector(opts)
				// Shard k holds batches j with j%4 == k-1, seen last first.
				for j := len(batches) - 1; j >= 0; j-- {
					if j%4 == k-1 {
						c.Observe("x", batches[j])
					}
				}
				s, err := c.Stats()
				if err != nil {
					t.Fatal(err)
				}
				s.Shard, s.Shards = k, 4
				parts = append(parts, s)
			}
			// Given out of order.
			parts[0], parts[3] = parts[3], parts[0]
			got, err := MergeCalibrationStats(parts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Tensors, want.Tensors) {
				t.Fatalf("merged statistics differ from one run's:\n got %+v\nwant %+v", got.Tensors["x"], want.Tensors["x"])
			}
			gr, err := got.Ranges([]string{"x"}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if wr := one.Ranges(); gr["x"] != wr["x"] {
				t.Fatalf("range %v, one run %v", gr["x"], wr["x"])
			}
		})
	}
}

func TestMergeCalibrationStatsRefuses(t *testing.T) {
	s := func(k, n int, method CalibrationMethod) *CalibrationStats {
		return &CalibrationStats{Method: method, Bins: 2048, Shard: k, Shards: n, Tensors: map[string]*TensorStats{}}
	}
	tests := []struct {
		name  string
		parts []*CalibrationStats
		err   string
	}{
		{"a shard missing", []*CalibrationStats{s(1, 3, MinMax), s(3, 3, MinMax)}, "shard(s) 2/3 missing"},
		{"a shard twice", []*CalibrationStats{s(1, 2, MinMax), s(1, 2, MinMax)}, "given twice"},
		{"different methods", []*CalibrationStats{s(1, 2, MinMax), s(2, 2, Entropy)}, "collected with"},
		{"different shard counts", []*CalibrationStats{s(1, 2, MinMax), s(2, 3, MinMax)}, "does not belong"},
	}
	for _, tc := range tests {
		if _, err := MergeCalibrationStats(tc.parts); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
	if _, err := NewRangeCollector(CalibrationOptions{Method: MovingAverageMinMax}).Stats(); err == nil {
		t.Errorf("moving-average statistics were offered for merging")
	}
}
