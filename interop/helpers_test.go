package interop

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// maxRelErr is the L∞ error of got against want relative to want's largest magnitude:
// max|got-want| / max|want|. Dividing by the output's scale, not elementwise, keeps
// outputs near zero from reporting meaningless huge ratios.
func maxRelErr(got, want *kernel.Tensor) (float64, error) {
	g, ok1 := floats(got)
	w, ok2 := floats(want)
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("cannot compare %s with %s", got, want)
	}
	if len(g) != len(w) {
		return 0, fmt.Errorf("%d elements, want %d", len(g), len(w))
	}
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		return 0, fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	scale, diff := 0.0, 0.0
	for i := range w {
		scale = math.Max(scale, math.Abs(w[i]))
		d := math.Abs(g[i] - w[i])
		if math.IsNaN(g[i]) != math.IsNaN(w[i]) {
			return math.Inf(1), nil
		}
		if !math.IsNaN(d) {
			diff = math.Max(diff, d)
		}
	}
	if scale == 0 {
		return diff, nil
	}
	return diff / scale, nil
}

// floats widens a tensor of any numeric or bool type to float64 for comparisons.
func floats(t *kernel.Tensor) ([]float64, bool) {
	v, err := kernel.Float64sOf(t)
	return v, err == nil
}

// readPB reads a TensorProto file as a runtime tensor.
func readPB(t testing.TB, path string) *kernel.Tensor {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tp pb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	it, err := onnx.TensorFromProto(&tp)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	kt, err := kernel.FromIR(it)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return kt
}

// session loads a model and builds a whittle session for it.
func session(t testing.TB, path string) (*ir.Model, *runtime.Session) {
	t.Helper()
	m, err := onnx.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m, s
}

// feedInputs returns the model's non-initializer graph inputs.
func feedInputs(m *ir.Model) []*ir.Value {
	var out []*ir.Value
	for _, v := range m.Graph.Inputs {
		if !v.IsConst() {
			out = append(out, v)
		}
	}
	return out
}

// randomInput makes a float input of the declared shape (symbolic dims = batch) with
// values uniform in [0, 1).
func randomInput(v *ir.Value, batch int64, seed uint64) *kernel.Tensor {
	shape := make([]int64, len(v.Type.Dims))
	for i, d := range v.Type.Dims {
		if d.IsKnown() {
			shape[i] = d.Value
		} else {
			shape[i] = batch
		}
	}
	t := kernel.New(ir.Float, shape...)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range t.Float32s() {
		t.Float32s()[i] = rng.Float32()
	}
	return t
}

// torchvisionModel returns the path of a torchvision export (random weights), generating
// the exports with Debian's PyTorch when they are not there yet.
func torchvisionModel(t testing.TB, arch string, opset int) string {
	t.Helper()
	return testenv.TorchvisionModel(t, arch, opset)
}

// runWhittle runs a session on named inputs and returns outputs in graph order.
func runWhittle(t testing.TB, s *runtime.Session, inputs map[string]*kernel.Tensor) []*kernel.Tensor {
	t.Helper()
	outs, err := s.Run(context.Background(), inputs)
	if err != nil {
		t.Fatal(err)
	}
	res := make([]*kernel.Tensor, 0, len(outs))
	for _, n := range s.OutputNames() {
		res = append(res, outs[n])
	}
	return res
}
