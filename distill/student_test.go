package distill

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
)

// testModel loads a model of testmodels/.
func testModel(t *testing.T, name string) *ir.Model {
	t.Helper()
	root, ok := testenv.RepoRoot()
	if !ok {
		t.Fatal("no repository root")
	}
	m, err := onnx.LoadModel(filepath.Join(root, "testmodels", name))
	if err != nil {
		testenv.Skipf(t, "%v", err)
	}
	return m
}

func mustSpec(t *testing.T, s string) Spec {
	t.Helper()
	sp, err := ParseSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestBuildStudents(t *testing.T) {
	tests := []struct {
		model, spec string
		// maxMACs and maxParams bound the student's share of the teacher's; minMACs keeps
		// a budget search from overshooting.
		maxMACs, minMACs, maxParams float64
	}{
		{"fashion_cnn_op17.onnx", "auto:macs=0.25", 0.25, 0.2, 1},
		{"fashion_cnn_op17.onnx", "auto:params=0.3", 1, 0, 0.3},
		{"fashion_vit_op17.onnx", "auto:width=0.5", 0.6, 0.4, 0.6},
		{"fashion_vit_op17.onnx", "auto:width=0.5:attention=heads", 0.6, 0.4, 0.6},
		{"fashion_mlp_op17.onnx", "lowrank:params=0.5", 0.5, 0.4, 0.5},
		{"fashion_mlp_op17.onnx", "lowrank:rank=8", 0.1, 0, 0.1},
		{"fashion_cnn_op17.onnx", "block:/features/features.3/MaxPool_output_0../features/features.4/Relu_1_output_0=auto:width=0.5", 0.95, 0.5, 0.98},
		{"fashion_vit_op17.onnx", "block:/layers/layers.0/ln2/LayerNormalization_output_0../layers/layers.0/mlp/mlp.3/Add_output_0=lowrank:rank=8;" +
			"/layers/layers.1/ln2/LayerNormalization_output_0../layers/layers.1/mlp/mlp.3/Add_output_0=auto:width=0.25", 0.9, 0.5, 0.9},
	}
	for _, tc := range tests {
		t.Run(tc.model+"/"+tc.spec, func(t *testing.T) {
			teacher := testModel(t, tc.model)
			before := ir.Format(teacher)
			ctx := &passes.Context{VerifyEach: true}
			st, err := Build(ctx, teacher, mustSpec(t, tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			if ir.Format(teacher) != before {
				t.Fatal("Build changed the teacher")
			}
			macs := float64(st.After.MACs) / float64(st.Teacher.MACs)
			params := float64(st.After.Params) / float64(st.Teacher.Params)
			if macs > tc.maxMACs || macs < tc.minMACs || params > tc.maxParams {
				t.Errorf("student has %.4f of the MACs (want %.4g..%.4g) and %.4f of the parameters (want <= %.4g); %s",
					macs, tc.minMACs, tc.maxMACs, params, tc.maxParams, st.Search)
			}
			if err := st.Model.Verify(); err != nil {
				t.Fatal(err)
			}
			if err := Check(st.Model); err != nil {
				t.Fatal(err)
			}
			if err := CheckInterfaces(teacher, st.Model); err != nil {
				t.Fatal(err)
			}
			if ctx.Log.Len() == 0 {
				t.Error("no change logged")
			}
			for _, b := range st.Blocks {
				if b.StudentMACs >= b.TeacherMACs {
					t.Errorf("block %s..%s: MACs %d -> %d", b.Spec.From, b.Spec.To, b.TeacherMACs, b.StudentMACs)
				}
			}
			// The report (whittle distill --report, --json) describes the student; it
			// does not carry the models themselves.
			raw, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), `"Graph"`) || len(raw) > 64<<10 {
				t.Errorf("the student's JSON holds a model (%d bytes)", len(raw))
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("not a model at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A student whose input is named differently and whose output has 5 classes.
	b := ir.NewGraph("student")
	x := b.AddInput("image", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(784)))
	w := b.AddInitializer(ir.FromFloat32("w", []int64{784, 5}, make([]float32, 784*5)))
	n := b.NewNode("", "MatMul", []*ir.Value{x, w}, []string{"logits"})
	b.Append(n)
	n.Output(0).Type = ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(5))
	b.Outputs = []*ir.Value{n.Output(0)}
	wrong := filepath.Join(dir, "wrong.onnx")
	sm := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: b}
	if err := onnx.SaveModel(wrong, sm, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	cnn := "fashion_cnn_op17.onnx"
	for _, tc := range []struct {
		model, spec, err string
		target           any
	}{
		{cnn, garbage, "garbage.onnx", nil},
		{cnn, filepath.Join(dir, "missing.onnx"), "missing.onnx", nil},
		{cnn, wrong, `no input "input"`, new(*InterfaceError)},
		{cnn, wrong, "dimension 1 is 5, want 10", new(*InterfaceError)},
		{cnn, "auto:macs=0.0001", "cannot reach 0.0001 of the teacher's MACs", new(*BudgetError)},
		{"fashion_mlp_op17.onnx", "lowrank:params=0.001", "cannot reach 0.001 of the teacher's parameters", new(*BudgetError)},
		{cnn, "block:/features/features.2/features.2.2/Relu_output_0../features/features.4/conv2/Conv_output_0=auto:width=0.5",
			`"/features/features.3/MaxPool_output_0", computed inside, is read outside by node "/features/features.4/Add" (Add): a second exit`, new(*passes.RegionError)},
		{cnn, "block:/features/features.4/Relu_output_0../features/features.4/Relu_1_output_0=auto:width=0.5",
			`reads "/features/features.3/MaxPool_output_0", which is computed outside the region`, new(*passes.RegionError)},
		{cnn, "block:/features/features.3/MaxPool_output_0../features/features.4/Relu_1_output_0=auto:width=0.5;" +
			"/features/features.4/Relu_output_0../features/features.4/conv2/Conv_output_0=auto:width=0.5", "overlap", nil},
		{cnn, "block:nowhere..logits=auto:width=0.5", `no tensor "nowhere"`, new(*passes.RegionError)},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := Build(nil, testModel(t, tc.model), mustSpec(t, tc.spec))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			switch target := tc.target.(type) {
			case **InterfaceError:
				if !errors.As(err, target) {
					t.Errorf("%T is not an InterfaceError", err)
				}
			case **BudgetError:
				if !errors.As(err, target) {
					t.Errorf("%T is not a BudgetError", err)
				}
			case **passes.RegionError:
				if !errors.As(err, target) {
					t.Errorf("%T is not a RegionError", err)
				}
			}
		})
	}
}

// testSkipData skips when Fashion-MNIST is not installed (a failure under WHITTLE_STRICT).
func testSkipData(t *testing.T, err error) {
	t.Helper()
	testenv.Skipf(t, "Fashion-MNIST: %v", err)
}
