package runtime

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// TestSessionSharesConstants: a session's float constants are the IR's bytes, not a copy,
// so a model of gigabytes is held once (see constOfValue).
func TestSessionSharesConstants(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2, 3))
	w := g.AddInitializer(ir.FromFloat32("w", []int64{3, 4}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}))
	g.Outputs = node(g, "MatMul", []*ir.Value{x, w}, []string{"y"})
	s := mustSession(t, model(g, 17), Options{Reference: true})
	for _, c := range s.main.consts {
		if s.main.names[c.slot] != "w" {
			continue
		}
		if got, want := unsafe.Pointer(unsafe.SliceData(c.t.Float32s())), unsafe.Pointer(unsafe.SliceData(w.Const.Raw)); got != want {
			t.Errorf("the session's w is at %p, the IR's bytes at %p: a copy", got, want)
		}
		return
	}
	t.Fatal("no constant w in the session")
}

// TestSessionLeavesConstantsUnchanged runs the test models, prepared and as written,
// twice each, and requires every initializer's bytes to be as they were: the session reads
// them in place, so a kernel writing to a constant would change the caller's model.
func TestSessionLeavesConstantsUnchanged(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testmodels", "*_op17.onnx"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test models (%v)", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			m, err := onnx.LoadModel(path)
			if err != nil {
				t.Fatal(err)
			}
			before := map[*ir.Tensor][]byte{}
			for _, gr := range m.Graphs() {
				for _, v := range gr.Initializers {
					if v.Const != nil {
						before[v.Const] = bytes.Clone(v.Const.Raw)
					}
				}
			}
			r := rand.New(rand.NewPCG(1, 2))
			for _, opts := range []Options{{}, {Reference: true}} {
				s := mustSession(t, m, opts)
				feeds := map[string]*Tensor{}
				for _, v := range m.Graph.Inputs {
					if v.IsConst() {
						continue
					}
					shape := []int64{}
					for _, d := range v.Type.Dims {
						if !d.IsKnown() {
							d.Value = 2 // a batch of two
						}
						shape = append(shape, d.Value)
					}
					in := kernel.New(v.Type.Elem, shape...)
					for i := range in.Float32s() {
						in.Float32s()[i] = r.Float32()
					}
					feeds[v.Name] = in
				}
				for range 2 {
					if _, err := s.Run(context.Background(), feeds); err != nil {
						t.Fatal(err)
					}
				}
			}
			for c, raw := range before {
				if !bytes.Equal(c.Raw, raw) {
					t.Errorf("initializer %q changed while running", c.Name)
				}
			}
		})
	}
}
