package exportlayout_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/internal/exportlayout"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/checker"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func loadCNN(t *testing.T) *ir.Model {
	root, ok := testenv.RepoRoot()
	if !ok {
		t.Fatal("no repository root")
	}
	m, err := onnx.LoadModel(filepath.Join(root, "testmodels", "fashion_cnn_op13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func run(t *testing.T, m *ir.Model, x *kernel.Tensor) []float32 {
	t.Helper()
	s, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for _, v := range m.Graph.Inputs {
		if !v.IsConst() {
			name = v.Name
		}
	}
	out, err := s.Run(context.Background(), map[string]*kernel.Tensor{name: x})
	if err != nil {
		t.Fatal(err)
	}
	return out[s.OutputNames()[0]].Data.([]float32)
}

// TestLayoutsComputeTheSame runs the original and each layout on the same image (NHWC
// for tf2onnx) and checks the layouts' shape: where the weights live, the opset, the
// Transposes, and that the checker accepts the model after a round trip through ONNX.
func TestLayoutsComputeTheSame(t *testing.T) {
	m := loadCNN(t)
	x := kernel.New(ir.Float, 2, 1, 28, 28)
	xs := x.Data.([]float32)
	for i := range xs {
		xs[i] = float32(i%97) / 97
	}
	want := run(t, m, x)

	p, err := exportlayout.Paddle2ONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Graph.Initializers) != 0 || p.ProducerName != "PaddlePaddle" {
		t.Fatalf("paddle layout keeps %d initializers, producer %q", len(p.Graph.Initializers), p.ProducerName)
	}
	if v, _ := p.Opset(""); v != 9 {
		t.Fatalf("paddle layout at opset %d", v)
	}
	if got := p.Graph.Inputs[0].Type.String(); got != "float[p2o.DynamicDimension.0,1,p2o.DynamicDimension.1,p2o.DynamicDimension.2]" {
		t.Fatalf("paddle input %s", got)
	}

	tf, err := exportlayout.TF2ONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	transposes := 0
	for _, n := range tf.Graph.Nodes() {
		if n.OpType == "Transpose" {
			transposes++
		}
	}
	if transposes != 1+4*7 {
		t.Fatalf("tf2onnx layout has %d Transposes, want 29", transposes)
	}
	nhwc := kernel.New(ir.Float, 2, 28, 28, 1)
	copy(nhwc.Data.([]float32), xs) // one channel: NHWC and NCHW hold the same order

	for _, tc := range []struct {
		name string
		m    *ir.Model
		x    *kernel.Tensor
	}{{"paddle2onnx", p, x}, {"tf2onnx", tf, nhwc}} {
		mp, err := onnx.FromIR(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if err := checker.AsError(checker.CheckModel(mp, checker.Options{})); err != nil {
			t.Fatalf("%s: checker: %v", tc.name, err)
		}
		back, err := onnx.ToIR(mp)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, back, tc.x)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: output %d = %v, original %v", tc.name, i, got[i], want[i])
			}
		}
	}
}
