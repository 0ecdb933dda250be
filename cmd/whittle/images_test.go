package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	_ "golang.org/x/image/webp"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/runtime/datafeed"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// writeImageCrops writes perSource random crops (some mirrored) of each real sample image
// into dir, as JPEG and PNG files: a folder of varied pictures made from files the Go
// toolchain ships.
func writeImageCrops(t *testing.T, dir string, perSource int, seed int64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(seed))
	for s, path := range testenv.SampleImages(t) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		src, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b := src.Bounds()
		for k := 0; k < perSource; k++ {
			w := b.Dx() * (60 + r.Intn(41)) / 100
			h := b.Dy() * (60 + r.Intn(41)) / 100
			x0, y0 := b.Min.X+r.Intn(b.Dx()-w+1), b.Min.Y+r.Intn(b.Dy()-h+1)
			flip := r.Intn(2) == 1
			crop := image.NewNRGBA(image.Rect(0, 0, w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					sx := x0 + x
					if flip {
						sx = x0 + w - 1 - x
					}
					crop.Set(x, y, src.At(sx, y0+y))
				}
			}
			var buf bytes.Buffer
			name := filepath.Join(dir, fmt.Sprintf("s%02d_%02d", s, k))
			if k%3 == 2 {
				err, name = png.Encode(&buf, crop), name+".png"
			} else {
				err, name = jpeg.Encode(&buf, crop, &jpeg.Options{Quality: 90}), name+".jpg"
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestQuantizeResNet18OnImageFolder quantizes a torchvision ResNet-18 export calibrated
// on an image folder with the imagenet preset, as a user would from the command line, and
// measures in ONNX Runtime how often the int8 model's top-1 class agrees with the float
// model's on other images.
func TestQuantizeResNet18OnImageFolder(t *testing.T) {
	ortpeer.Require(t)
	model := testenv.TorchvisionModel(t, "resnet18", 17)
	dir := t.TempDir()
	calib, eval := filepath.Join(dir, "calib"), filepath.Join(dir, "eval")
	writeImageCrops(t, calib, 2, 1)
	writeImageCrops(t, eval, 5, 2)
	out := filepath.Join(dir, "resnet18.int8.onnx")
	args := []string{"quantize", model, "-o", out, "--calibration", "images:" + calib, "--preprocess", "imagenet"}
	code, stdout, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("whittle %v: exit %d\n%s\n%s", args, code, stdout, stderr)
	}
	t.Logf("whittle quantize %s -o %s --calibration images:DIR --preprocess imagenet\n%s%s", filepath.Base(model), filepath.Base(out), stdout, stderr)

	pre, err := dataset.ParsePreprocess("imagenet")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.OpenImages(eval, dataset.ImageOptions{Preprocess: &pre})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ds.Batch(0, ds.Len())
	if err != nil {
		t.Fatal(err)
	}
	x, err := datafeed.FromDataset(b.Inputs[0])
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]*kernel.Tensor{"input": x}
	res, err := ortpeer.Run([]ortpeer.Job{{Model: model, Inputs: inputs}, {Model: out, Inputs: inputs}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("ONNX Runtime on %s: %v", r.Model, r.Err)
		}
	}
	floatTop, quantTop := argmaxRows(t, res[0].Outputs[0]), argmaxRows(t, res[1].Outputs[0])
	agree := 0
	for i := range floatTop {
		if floatTop[i] == quantTop[i] {
			agree++
		}
	}
	pct := 100 * float64(agree) / float64(len(floatTop))
	t.Logf("ONNX Runtime top-1 agreement, int8 vs float, on %d images: %d (%.1f%%)", len(floatTop), agree, pct)
	if pct < 80 {
		t.Errorf("top-1 agreement %.1f%% is below 80%%", pct)
	}
}

func argmaxRows(t *testing.T, out *kernel.Tensor) []int {
	t.Helper()
	v, ok := out.Data.([]float32)
	if !ok || len(out.Shape) != 2 {
		t.Fatalf("output %s: want float [N, classes]", out)
	}
	n, c := int(out.Shape[0]), int(out.Shape[1])
	top := make([]int, n)
	for i := 0; i < n; i++ {
		row := v[i*c : (i+1)*c]
		for j := range row {
			if row[j] > row[top[i]] {
				top[i] = j
			}
		}
	}
	return top
}
