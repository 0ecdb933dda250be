package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/provenance"
)

// The trained test models and 8 of their test images, relative to this package.
const (
	cnnModel = "../../testmodels/fashion_cnn_op17.onnx"
	vitModel = "../../testmodels/fashion_vit_op17.onnx"
	cnnData  = "../../testmodels/testdata/fashion_cnn"
)

// TestQuantizeCLIMatchesLibrary: the command is the library call, so a model quantized
// from Go and one quantized by 'whittle quantize' are the same bytes.
func TestQuantizeCLIMatchesLibrary(t *testing.T) {
	out := filepath.Join(t.TempDir(), "q.onnx")
	if code, stdout, stderr := run(t, "quantize", cnnModel, "-o", out, "--calibration", cnnData, "--method", "percentile"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	m, err := whittle.LoadFile(cnnModel, whittle.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := whittle.Quantize(m, whittle.QuantizeOptions{Calibration: cnnData, Method: passes.Percentile}); err != nil {
		t.Fatal(err)
	}
	fromGo, err := whittle.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	fromCLI, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromGo, fromCLI) {
		t.Fatalf("whittle.Quantize wrote %d bytes, whittle quantize %d, and they differ", len(fromGo), len(fromCLI))
	}
}

// TestEveryCommandReplays: the history each command records in its output parses back
// into a recipe that, applied to the input by 'whittle optimize --recipe', reproduces
// the output byte for byte.
func TestEveryCommandReplays(t *testing.T) {
	dir := t.TempDir()
	// Paddle2ONNX's layout of the CNN imports opset 9, which quantization raises first;
	// its calibration data is an image folder read through a preprocessing spec.
	_, paddle, _ := exporterLayouts(t, dir)
	images := filepath.Join(dir, "calib")
	writeImageCrops(t, images, 2, 3)
	for _, tc := range []struct {
		name string
		args []string // IN -o OUT are added
		in   string
	}{
		{"optimize", []string{"optimize"}, cnnModel},
		{"optimize passes", []string{"optimize", "--passes", "fuse_bn_into_conv,eliminate_dead"}, cnnModel},
		{"prune global", []string{"prune", "--sparsity", "0.5", "--scope", "global"}, vitModel},
		{"prune 2:4", []string{"prune", "--pattern", "2:4", "--exclude", "head*"}, vitModel},
		{"prune channel", []string{"prune", "--pattern", "channel", "--sparsity", "0.25", "--per-layer", "/head/head.2/MatMul=0.1"}, cnnModel},
		{"quantize static", []string{"quantize", "--calibration", cnnData, "--method", "ema", "--batch-size", "3", "--exclude", "Gemm"}, cnnModel},
		{"quantize symmetric", []string{"quantize", "--calibration", cnnData, "--symmetric", "--per-channel=false"}, cnnModel},
		{"quantize budget", []string{"quantize", "--calibration", cnnData, "--min-sqnr", "45", "--max-float", "3"}, cnnModel},
		{"quantize dynamic", []string{"quantize", "--dynamic"}, vitModel},
		{"quantize int4", []string{"quantize", "--weight-only", "--weight-bits", "4", "--upgrade-opset", "--optimize=false"}, vitModel},
		{"convert opset", []string{"convert", "--opset", "18"}, vitModel},
		{"quantize old opset images", []string{"quantize", "--calibration", "images:" + images, "--preprocess", "resize=28x28,channels=gray,layout=nchw"}, paddle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".onnx")
			args := append(append([]string{}, tc.args[0], tc.in, "-o", out), tc.args[1:]...)
			if code, stdout, stderr := run(t, args...); code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			m, err := whittle.LoadFile(out, whittle.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			raw, ok := m.MetadataValue(provenance.MetaPasses)
			if !ok {
				t.Fatalf("%s records no history", tc.name)
			}
			recipe := filepath.Join(dir, tc.name+".recipe.json")
			if err := os.WriteFile(recipe, []byte(raw), 0o644); err != nil {
				t.Fatal(err)
			}
			replayed := filepath.Join(dir, tc.name+".replayed.onnx")
			if code, stdout, stderr := run(t, "optimize", tc.in, "-o", replayed, "--recipe", recipe); code != 0 {
				t.Fatalf("replay: exit %d\n%s%s", code, stdout, stderr)
			}
			got, err := os.ReadFile(replayed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("the recipe %s replays to %d bytes that differ from the command's %d", raw, len(got), len(want))
			}
		})
	}
}

// TestStdinStdout: '-' names standard input and output, so commands compose in pipes;
// the text report moves to stderr when the model goes to stdout.
func TestStdinStdout(t *testing.T) {
	in, err := os.ReadFile(vitModel)
	if err != nil {
		t.Fatal(err)
	}
	pipe := func(args ...string) ([]byte, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := mainIO(args, bytes.NewReader(in), &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr.String())
		}
		return stdout.Bytes(), stderr.String()
	}
	file := filepath.Join(t.TempDir(), "opt.onnx")
	if code, _, stderr := run(t, "optimize", vitModel, "-o", file); code != 0 {
		t.Fatal(stderr)
	}
	want, _ := os.ReadFile(file)
	got, stderr := pipe("optimize", "-", "-o", "-")
	if !bytes.Equal(got, want) || !strings.Contains(stderr, "nodes") {
		t.Errorf("optimize - -o -: %d bytes (file: %d), stderr %q", len(got), len(want), stderr)
	}
	for _, args := range [][]string{
		{"quantize", "-", "-o", "-", "--dynamic"},
		{"prune", "-", "-o", "-", "--sparsity", "0.3"},
		{"convert", "-", "-o", "-"},
		{"convert", "-", "-o", "-", "--opset", "18"},
	} {
		out, _ := pipe(args...)
		if _, err := whittle.Load(bytes.NewReader(out), whittle.LoadOptions{}); err != nil {
			t.Errorf("%v wrote no model: %v", args, err)
		}
	}
	for _, args := range [][]string{{"inspect", "-"}, {"check", "-"}, {"diff", "-", vitModel}, {"compare", "-", vitModel, "--samples", "2"}} {
		out, _ := pipe(args...)
		if len(out) == 0 {
			t.Errorf("%v printed nothing", args)
		}
	}
}
