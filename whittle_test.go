package whittle_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/internal/irtest"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/provenance"
)

const (
	cnn   = "testmodels/fashion_cnn_op17.onnx"
	vit   = "testmodels/fashion_vit_op17.onnx"
	calib = "testmodels/testdata/fashion_cnn" // 8 test images as input_0.pb
)

func load(t *testing.T, path string) *ir.Model {
	t.Helper()
	m, err := whittle.LoadFile(path, whittle.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t *testing.T, m *ir.Model) []byte {
	t.Helper()
	b, err := whittle.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplayReproducesEveryWorkflow checks the provenance contract: the history a
// workflow records, replayed on the original model, gives the same bytes.
func TestReplayReproducesEveryWorkflow(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		run         func(m *ir.Model) (whittle.Applied, error)
	}{
		{"optimize", cnn, func(m *ir.Model) (whittle.Applied, error) {
			r, err := whittle.Optimize(m, whittle.OptimizeOptions{})
			return appliedOf(r, err)
		}},
		{"prune global", cnn, func(m *ir.Model) (whittle.Applied, error) {
			r, err := whittle.Prune(m, whittle.PruneOptions{Sparsity: 0.5, Scope: "global"})
			return appliedOf(r, err)
		}},
		{"prune channel", cnn, func(m *ir.Model) (whittle.Applied, error) {
			r, err := whittle.Prune(m, whittle.PruneOptions{Sparsity: 0.25, Pattern: "channel", PerLayer: []passes.LayerSparsity{{Name: "head.3*", Sparsity: 0.1}}})
			return appliedOf(r, err)
		}},
		{"quantize static", cnn, func(m *ir.Model) (whittle.Applied, error) {
			r, err := whittle.Quantize(m, whittle.QuantizeOptions{Calibration: calib, Method: passes.Entropy, BatchSize: 4})
			return appliedOf(r, err)
		}},
		{"quantize budget", cnn, func(m *ir.Model) (whittle.Applied, error) {
			r, err := whittle.Quantize(m, whittle.QuantizeOptions{Calibration: calib, Budget: &whittle.Budget{Metric: whittle.OutputSQNR, Limit: 45, MaxFloat: 3}})
			if err == nil && len(r.Budget.KeptFloat) == 0 {
				t.Errorf("the budget search left no layer float (full score %.1f dB): the test does not exercise it", r.Budget.FullScore)
			}
			return appliedOf(r, err)
		}},
		{"quantize dynamic", vit, func(m *ir.Model) (whittle.Applied, error) {
			r, err := whittle.Quantize(m, whittle.QuantizeOptions{Mode: whittle.Dynamic})
			return appliedOf(r, err)
		}},
		{"quantize weights int4", vit, func(m *ir.Model) (whittle.Applied, error) {
			r, err := whittle.Quantize(m, whittle.QuantizeOptions{Mode: whittle.WeightOnly, WeightBits: 4, AllowOpsetUpgrade: true, SkipOptimize: true})
			return appliedOf(r, err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := load(t, tc.model)
			applied, err := tc.run(m)
			if err != nil {
				t.Fatal(err)
			}
			want := encode(t, m)
			history, err := provenance.History(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := passes.RecipeOf(history).String(); got != applied.Applied.String() {
				t.Fatalf("history %q, the workflow says it applied %q", got, applied.Applied)
			}
			// The recorded steps also survive their command-line form.
			for _, p := range applied.Applied {
				if _, err := passes.ParsePipeline(p.String()); err != nil {
					t.Errorf("%s does not parse back: %v", p, err)
				}
			}
			orig := load(t, tc.model)
			if _, err := whittle.Replay(orig, history); err != nil {
				t.Fatal(err)
			}
			if got := encode(t, orig); !bytes.Equal(got, want) {
				t.Fatalf("replaying %s gives %d bytes that differ from the workflow's %d", passes.RecipeOf(history), len(got), len(want))
			}
		})
	}
}

func appliedOf[R interface {
	*whittle.OptimizeResult | *whittle.PruneResult | *whittle.QuantizeResult
}](r R, err error) (whittle.Applied, error) {
	if err != nil {
		return whittle.Applied{}, err
	}
	switch x := any(r).(type) {
	case *whittle.OptimizeResult:
		return x.Applied, nil
	case *whittle.PruneResult:
		return x.Applied, nil
	case *whittle.QuantizeResult:
		return x.Applied, nil
	}
	return whittle.Applied{}, nil
}

func TestLoadVerifiesUnlessAskedNot(t *testing.T) {
	// Neg reads Relu's output but comes first: decodable, but not a valid graph.
	b := irtest.New(t, 17).Input("x", ir.Float, 2)
	g := b.Graph()
	relu := g.NewNode("", "Relu", []*ir.Value{b.Value("x")}, []string{"r"})
	neg := g.NewNode("", "Neg", []*ir.Value{relu.Output(0)}, []string{"y"})
	g.Append(neg)
	g.Append(relu)
	g.Outputs = []*ir.Value{neg.Output(0)}
	data := encode(t, b.Unverified())
	if _, err := whittle.Load(bytes.NewReader(data), whittle.LoadOptions{}); !errors.Is(err, whittle.ErrInvalidModel) {
		t.Fatalf("Load of nodes out of order: %v, want ErrInvalidModel", err)
	}
	m, err := whittle.Load(bytes.NewReader(data), whittle.LoadOptions{SkipVerify: true})
	if err != nil || irtest.Ops(m) != "Neg,Relu" {
		t.Fatalf("Load with SkipVerify: %v", err)
	}
	if _, err := whittle.Load(bytes.NewReader([]byte("not a model")), whittle.LoadOptions{}); !errors.Is(err, whittle.ErrInvalidModel) {
		t.Fatalf("Load of junk: %v, want ErrInvalidModel", err)
	}
	if _, err := whittle.LoadFile(filepath.Join(t.TempDir(), "missing.onnx"), whittle.LoadOptions{}); err == nil {
		t.Fatal("LoadFile of a missing file succeeded")
	}
}

func TestSaveStreamsWhatSaveFileWrites(t *testing.T) {
	m := load(t, vit)
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := whittle.SaveFile(path, m, whittle.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := whittle.Save(&buf, m); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, buf.Bytes()) {
		t.Fatalf("Save wrote %d bytes, SaveFile %d", buf.Len(), len(file))
	}
	back, err := whittle.Load(&buf, whittle.LoadOptions{})
	if err != nil || !bytes.Equal(encode(t, back), file) {
		t.Fatalf("Load(Save(m)) differs: %v", err)
	}
}

func TestTypedErrors(t *testing.T) {
	m := load(t, cnn)
	if _, err := whittle.Quantize(m, whittle.QuantizeOptions{}); !errors.Is(err, whittle.ErrOptions) {
		t.Errorf("static quantization without data: %v, want ErrOptions", err)
	}
	if _, err := whittle.Prune(m, whittle.PruneOptions{Pattern: "3:3"}); !errors.Is(err, whittle.ErrOptions) {
		t.Errorf("a bad pattern: %v, want ErrOptions", err)
	}
	if _, err := whittle.Optimize(m, whittle.OptimizeOptions{Recipe: passes.Recipe{{{Pass: "no_such_pass"}}}}); !errors.Is(err, whittle.ErrOptions) {
		t.Errorf("an unknown pass: %v, want ErrOptions", err)
	}
	_, err := whittle.Quantize(load(t, cnn), whittle.QuantizeOptions{Calibration: calib, SkipOptimize: true,
		Budget: &whittle.Budget{Metric: whittle.OutputSQNR, Limit: 500, MaxFloat: 1}})
	if !errors.Is(err, whittle.ErrBudgetMissed) {
		t.Errorf("an unreachable budget: %v, want ErrBudgetMissed", err)
	}
	// An operator the runtime has no kernel for stops calibration.
	b := irtest.New(t, 17).Input("input", ir.Float, 1, 1, 28, 28)
	b.NodeIn("com.example", "Mystery", "input", "y")
	m2 := b.Output("y").Unverified()
	m2.OpsetImports = append(m2.OpsetImports, ir.OpsetID{Domain: "com.example", Version: 1})
	_, err = whittle.Quantize(m2, whittle.QuantizeOptions{Calibration: calib, SkipOptimize: true})
	if !errors.Is(err, whittle.ErrUnsupportedOp) || !strings.Contains(err.Error(), "Mystery") {
		t.Errorf("calibrating an unknown op: %v, want ErrUnsupportedOp naming it", err)
	}
}
