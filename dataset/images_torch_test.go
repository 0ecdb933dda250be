package dataset

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
)

// torchvisionScript runs torchvision's ImageFolder with the given transforms over a folder
// and saves the stacked tensors, labels, class names and file order.
const torchvisionScript = `
import json, sys
import numpy as np
import torch
from torchvision import datasets, transforms as T
from torchvision.transforms import InterpolationMode

root, out = sys.argv[1], sys.argv[2]
for k, spec in enumerate(json.loads(sys.argv[3])):
    interp = {"bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC,
              "nearest": InterpolationMode.NEAREST}[spec["interpolation"]]
    steps = []
    if spec.get("resize"):
        steps.append(T.Resize(spec["resize"], interpolation=interp))
    if spec.get("crop"):
        steps.append(T.CenterCrop(spec["crop"]))
    steps.append(T.ToTensor())
    if spec.get("mean"):
        steps.append(T.Normalize(spec["mean"], spec["std"]))
    ds = datasets.ImageFolder(root, transform=T.Compose(steps))
    xs = torch.stack([ds[i][0] for i in range(len(ds))]).numpy()
    np.save("%s/x%d.npy" % (out, k), xs)
np.save(out + "/y.npy", np.array(ds.targets, dtype=np.int64))
json.dump({"classes": ds.classes, "files": [p for p, _ in ds.samples]}, open(out + "/meta.json", "w"))
`

func TestImageFolderMatchesTorchvision(t *testing.T) {
	testenv.RequirePythonModules(t, "torchvision", "PIL", "numpy")
	root := t.TempDir()
	classes := writeImageFolder(t, root)
	tests := []struct {
		name, pre, torch string
	}{
		{"imagenet", "imagenet", `{"resize": 256, "crop": 224, "interpolation": "bilinear", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}`},
		{"bicubic exact size", "resize=90x120,interpolation=bicubic", `{"resize": [90, 120], "interpolation": "bicubic"}`},
		{"crop larger than the image pads", "resize=100,crop=120x110", `{"resize": 100, "crop": [120, 110], "interpolation": "bilinear"}`},
		{"nearest, odd crop offsets", "resize=75,crop=61,interpolation=nearest,mean=0.5,std=0.25", `{"resize": 75, "crop": 61, "interpolation": "nearest", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}`},
	}
	// One Python run for every case: importing torch takes seconds.
	var specs []string
	for _, tc := range tests {
		specs = append(specs, tc.torch)
	}
	out := t.TempDir()
	cmd := exec.Command(testenv.DebianPython, "-c", torchvisionScript, root, out, "["+strings.Join(specs, ",")+"]")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("torchvision: %v\n%s", err, b)
	}
	for k, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := OpenNPY(filepath.Join(out, fmt.Sprintf("x%d.npy", k)))
			if err != nil {
				t.Fatal(err)
			}
			wantLabels, err := OpenNPY(filepath.Join(out, "y.npy"))
			if err != nil {
				t.Fatal(err)
			}
			pre, err := ParsePreprocess(tc.pre)
			if err != nil {
				t.Fatal(err)
			}
			got, err := OpenImages(root, ImageOptions{Preprocess: &pre})
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != want.Len() {
				t.Fatalf("%d images, torchvision has %d", got.Len(), want.Len())
			}
			gb, err := got.Batch(0, got.Len())
			if err != nil {
				t.Fatal(err)
			}
			wb, err := want.Batch(0, want.Len())
			if err != nil {
				t.Fatal(err)
			}
			yb, _ := wantLabels.Batch(0, wantLabels.Len())
			if fmt.Sprint(gb.Labels) != fmt.Sprint(yb.Inputs[0].Int64) {
				t.Fatalf("labels %v, torchvision %v", gb.Labels, yb.Inputs[0].Int64)
			}
			if fmt.Sprint(gb.Inputs[0].Shape) != fmt.Sprint(wb.Inputs[0].Shape) {
				t.Fatalf("shape %v, torchvision %v", gb.Inputs[0].Shape, wb.Inputs[0].Shape)
			}
			per := len(wb.Inputs[0].Float32) / got.Len()
			std := float32(1)
			if len(pre.Std) > 0 {
				std = pre.Std[0]
			}
			for i, file := range got.Files {
				g := gb.Inputs[0].Float32[i*per : (i+1)*per]
				w := wb.Inputs[0].Float32[i*per : (i+1)*per]
				var maxDiff, sum float64
				for j := range g {
					d := math.Abs(float64(g[j] - w[j]))
					maxDiff = max(maxDiff, d)
					sum += d
				}
				// In 8-bit pixel levels, undoing the normalization.
				levels := maxDiff * float64(std) * 255
				mean := sum / float64(len(g)) * float64(std) * 255
				class := classes[gb.Labels[i]]
				t.Logf("%-50s max %.2f levels, mean %.4f", file, levels, mean)
				switch {
				case class.lossless && maxDiff != 0:
					t.Errorf("%s: differs from torchvision by up to %.2f levels (mean %.4f); lossless formats must match exactly", file, levels, mean)
				case !class.lossless && (levels > 4.01 || mean > 0.5):
					// JPEG: Go's and libjpeg-turbo's inverse DCTs round apart by a level now
					// and then; the resize averages most of it away.
					t.Errorf("%s: differs from torchvision by up to %.2f levels (mean %.4f)", file, levels, mean)
				}
			}
		})
	}
}

// TestImageFolderOrderMatchesTorchvision checks classes and file order, including nested
// folders and upper-case extensions, against ImageFolder's listing.
func TestImageFolderOrderMatchesTorchvision(t *testing.T) {
	testenv.RequirePythonModules(t, "torchvision", "PIL", "numpy")
	root := t.TempDir()
	for _, f := range []string{"b/z.png", "b/a/y.png", "b/a.png", "a/B.PNG", "a/a.png", "a/x/c.png", "c d/1.png"} {
		writeFile(t, filepath.Join(root, f), encodePNG(t, noiseImage(4, 4, 1)))
	}
	out := t.TempDir()
	cmd := exec.Command(testenv.DebianPython, "-c", torchvisionScript, root, out, `[{"interpolation": "bilinear"}]`)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("torchvision: %v\n%s", err, b)
	}
	meta, err := os.ReadFile(filepath.Join(out, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := OpenImages(root, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range d.Files {
		files = append(files, fmt.Sprintf("%q", filepath.Join(root, f)))
	}
	var classes []string
	for _, c := range d.Classes {
		classes = append(classes, fmt.Sprintf("%q", c))
	}
	got := fmt.Sprintf(`{"classes": [%s], "files": [%s]}`, strings.Join(classes, ", "), strings.Join(files, ", "))
	if got != string(meta) {
		t.Fatalf("listing\n got %s\nwant %s", got, meta)
	}
}
