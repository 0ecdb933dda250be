package dataset

import (
	"fmt"
	"strings"
	"testing"
)

func TestShard(t *testing.T) {
	rows := make([]float32, 11)
	labels := make([]int64, 11)
	for i := range rows {
		rows[i], labels[i] = float32(i), int64(i)
	}
	ds, err := NewArrays([]Tensor{{Shape: []int64{11}, DType: Float32, Float32: rows}}, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Batches of 3: [0 1 2] [3 4 5] [6 7 8] [9 10]; two shards take batches 0,2 and 1,3.
	want := map[int]string{1: "[0 1 2 6 7 8]", 2: "[3 4 5 9 10]"}
	total := 0
	for k := 1; k <= 2; k++ {
		s, err := Shard(ds, k, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		total += s.Len()
		b, err := s.Batch(0, s.Len())
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(b.Labels); got != want[k] {
			t.Errorf("shard %d/2 holds %s, want %s", k, got, want[k])
		}
		// Walking the shard in batches of 3 meets the same batches as the whole walk.
		var walked []string
		Each(s, 3, func(_ int, b Batch) error {
			walked = append(walked, fmt.Sprint(b.Inputs[0].Float32))
			return nil
		})
		if k == 2 && strings.Join(walked, " ") != "[3 4 5] [9 10]" {
			t.Errorf("shard 2 walks %v", walked)
		}
	}
	if total != 11 {
		t.Errorf("shards hold %d rows, want 11", total)
	}
	for _, bad := range []string{"0/2", "3/2", "1", "a/b", "1/0"} {
		if _, _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
}
