package data

import (
	"testing"

	"github.com/whittle-ml/whittle/dataset"
)

func images(t *testing.T, n int) *dataset.Arrays {
	t.Helper()
	px := make([]float32, n*2*3)
	for i := range px {
		px[i] = float32(i + 1)
	}
	labels := make([]int64, n)
	for i := range labels {
		labels[i] = int64(i % 10)
	}
	ds, err := dataset.NewArrays([]dataset.Tensor{{Name: "input", DType: dataset.Float32, Shape: []int64{int64(n), 1, 2, 3}, Float32: px}}, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestShuffleIsSeededAndCoversEveryRow(t *testing.T) {
	l := &Loader{Data: images(t, 10), BatchSize: 4, Shuffle: true, Seed: 3}
	a, b, other := l.Order(1), l.Order(1), l.Order(2)
	seen := map[int]bool{}
	for i := range a {
		seen[a[i]] = true
		if a[i] != b[i] {
			t.Fatal("the same epoch and seed gave two orders")
		}
	}
	if len(seen) != 10 {
		t.Errorf("order %v misses rows", a)
	}
	if fmtInts(a) == fmtInts(other) {
		t.Error("two epochs gave the same order")
	}
	if l.Steps() != 3 {
		t.Errorf("%d steps, want 3", l.Steps())
	}
	last, err := l.Batch(1, 2, a)
	if err != nil || last.Size() != 2 || len(last.Labels) != 2 || last.Labels[0] != int64(a[8]%10) {
		t.Errorf("last batch %+v, %v", last, err)
	}
	l.DropLast = true
	if l.Steps() != 2 {
		t.Errorf("%d steps with DropLast, want 2", l.Steps())
	}
}

func TestAugmentCropsAndFlipsWithoutTouchingTheDataset(t *testing.T) {
	ds := images(t, 64)
	orig := append([]float32(nil), ds.Inputs[0].Float32...)
	l := &Loader{Data: ds, BatchSize: 64, Augment: Augment{CropPadding: 1, FlipHorizontal: true}, Seed: 9}
	b, err := l.Batch(0, 0, l.Order(0))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range ds.Inputs[0].Float32 {
		if v != orig[i] {
			t.Fatal("augmentation changed the dataset's own pixels")
		}
	}
	x := b.Inputs["input"].Float32s()
	changed, flipped := 0, 0
	for k := 0; k < 64; k++ {
		img, src := x[k*6:(k+1)*6], orig[k*6:(k+1)*6]
		same, mirror := true, true
		for y := 0; y < 2; y++ {
			for xx := 0; xx < 3; xx++ {
				same = same && img[y*3+xx] == src[y*3+xx]
				mirror = mirror && img[y*3+xx] == src[y*3+2-xx]
			}
		}
		if !same {
			changed++
		}
		if mirror {
			flipped++
		}
	}
	if changed < 40 || flipped < 3 {
		t.Errorf("%d of 64 images changed, %d exactly mirrored", changed, flipped)
	}
	again, _ := l.Batch(0, 0, l.Order(0))
	for i, v := range again.Inputs["input"].Float32s() {
		if v != x[i] {
			t.Fatal("the same seed augmented differently")
		}
	}
}

func fmtInts(v []int) string {
	s := ""
	for _, x := range v {
		s += string(rune('a' + x))
	}
	return s
}
