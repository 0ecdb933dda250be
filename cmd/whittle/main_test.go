package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/conformance"
	"github.com/whittle-ml/whittle/onnx"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// run calls Main and returns the exit code and both outputs.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func tensorType(elem pb.TensorProto_DataType, dims ...int64) *pb.TypeProto {
	shape := &pb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: shape}}}
}

// reluModel is X -> Relu -> Y, valid; tests break one thing at a time.
func reluModel() *pb.ModelProto {
	return &pb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		Graph: &pb.GraphProto{
			Name:   proto.String("g"),
			Node:   []*pb.NodeProto{{OpType: proto.String("Relu"), Name: proto.String("relu"), Input: []string{"X"}, Output: []string{"Y"}}},
			Input:  []*pb.ValueInfoProto{{Name: proto.String("X"), Type: tensorType(pb.TensorProto_FLOAT, 2, 3)}},
			Output: []*pb.ValueInfoProto{{Name: proto.String("Y"), Type: tensorType(pb.TensorProto_FLOAT, 2, 3)}},
		},
	}
}

func writeModel(t *testing.T, dir, name string, m *pb.ModelProto) string {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckAcceptsValidModel(t *testing.T) {
	p := writeModel(t, t.TempDir(), "ok.onnx", reluModel())
	code, out, errOut := run(t, "check", p)
	if code != exitOK || !strings.Contains(out, "ok") {
		t.Fatalf("check = %d\n%s%s", code, out, errOut)
	}
}

// TestBadModelsExitOne feeds broken files to check, inspect and convert: each must fail
// with exit 1 and a message naming the problem, never panic, and convert must not leave
// an output file behind.
func TestBadModelsExitOne(t *testing.T) {
	dir := t.TempDir()
	valid, _ := proto.Marshal(reluModel())
	external := func(kv ...string) *pb.ModelProto {
		m := reluModel()
		tp := &pb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{2, 3},
			DataLocation: pb.TensorProto_EXTERNAL.Enum()}
		for i := 0; i < len(kv); i += 2 {
			tp.ExternalData = append(tp.ExternalData, &pb.StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
		}
		m.Graph.Initializer = append(m.Graph.Initializer, tp)
		m.Graph.Node[0].OpType = proto.String("Add")
		m.Graph.Node[0].Input = []string{"X", "W"}
		return m
	}
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, 24), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.bin"), make([]byte, 24), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.bin"), filepath.Join(dir, "link.bin")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		file func() string
		want string // a fragment of the check output
	}{
		{"truncated", func() string {
			p := filepath.Join(dir, "truncated.onnx")
			os.WriteFile(p, valid[:len(valid)-7], 0o644)
			return p
		}, "decode"},
		{"not protobuf", func() string {
			p := filepath.Join(dir, "text.onnx")
			os.WriteFile(p, []byte("this is not a model, just text\n"), 0o644)
			return p
		}, "decode"},
		{"empty file", func() string {
			p := filepath.Join(dir, "empty.onnx")
			os.WriteFile(p, nil, 0o644)
			return p
		}, ""},
		{"dim product overflows", func() string {
			m := reluModel()
			m.Graph.Initializer = append(m.Graph.Initializer, &pb.TensorProto{Name: proto.String("big"),
				DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{1 << 32, 1 << 32}, RawData: []byte{1, 2, 3, 4}})
			return writeModel(t, dir, "overflow.onnx", m)
		}, "overflow"},
		{"cycle", func() string {
			m := reluModel()
			m.Graph.Node = []*pb.NodeProto{
				{OpType: proto.String("Add"), Name: proto.String("a"), Input: []string{"X", "B"}, Output: []string{"A"}},
				{OpType: proto.String("Relu"), Name: proto.String("b"), Input: []string{"A"}, Output: []string{"B"}},
				{OpType: proto.String("Relu"), Name: proto.String("c"), Input: []string{"B"}, Output: []string{"Y"}},
			}
			return writeModel(t, dir, "cycle.onnx", m)
		}, "B"},
		{"duplicate output name", func() string {
			m := reluModel()
			m.Graph.Node = append(m.Graph.Node, &pb.NodeProto{OpType: proto.String("Relu"), Name: proto.String("relu2"), Input: []string{"X"}, Output: []string{"Y"}})
			return writeModel(t, dir, "dup.onnx", m)
		}, "Y"},
		{"missing input", func() string {
			m := reluModel()
			m.Graph.Node[0].Input = []string{"nowhere"}
			return writeModel(t, dir, "missing.onnx", m)
		}, "nowhere"},
		{"external absolute path", func() string {
			return writeModel(t, dir, "ext_abs.onnx", external("location", filepath.Join(dir, "w.bin")))
		}, "W"},
		{"external dot-dot", func() string {
			return writeModel(t, dir, "ext_dotdot.onnx", external("location", "../w.bin"))
		}, "W"},
		{"external symlink escape", func() string {
			return writeModel(t, dir, "ext_link.onnx", external("location", "link.bin"))
		}, "W"},
		{"external negative offset", func() string {
			return writeModel(t, dir, "ext_neg.onnx", external("location", "w.bin", "offset", "-4"))
		}, "W"},
		{"external past end", func() string {
			return writeModel(t, dir, "ext_end.onnx", external("location", "w.bin", "offset", "8", "length", "24"))
		}, "W"},
		{"external unknown key", func() string {
			return writeModel(t, dir, "ext_key.onnx", external("location", "w.bin", "colour", "blue"))
		}, "colour"},
		{"external missing file", func() string {
			return writeModel(t, dir, "ext_missing.onnx", external("location", "absent.bin"))
		}, "absent.bin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.file()
			code, out, errOut := run(t, "check", p)
			if code != exitFail {
				t.Errorf("check exit %d, want 1\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out+errOut, tc.want) {
				t.Errorf("check output does not mention %q:\n%s%s", tc.want, out, errOut)
			}
			if code, out, errOut := run(t, "inspect", p); code != exitFail {
				t.Errorf("inspect exit %d, want 1\n%s%s", code, out, errOut)
			}
			dst := filepath.Join(t.TempDir(), "out.onnx")
			code, out, errOut = run(t, "convert", p, "-o", dst)
			// Converting only re-serializes: a file whose bytes decode and whose external data
			// is safe may be converted even when its graph is invalid.
			if code != exitOK && code != exitFail {
				t.Errorf("convert exit %d\n%s%s", code, out, errOut)
			}
			if code == exitFail {
				if _, err := os.Stat(dst); err == nil {
					t.Errorf("convert failed but left %s behind", dst)
				}
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"no-such-command"},
		{"inspect"},
		{"inspect", "--no-such-flag", "x.onnx"},
		{"convert", "x.onnx"},
	} {
		if code, _, _ := run(t, args...); code != exitUsage {
			t.Errorf("whittle %v: exit %d, want 2", args, code)
		}
	}
}

func TestHelpHasExamples(t *testing.T) {
	for name := range commands {
		code, out, _ := run(t, name, "--help")
		if code != exitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "whittle "+name) {
			t.Errorf("whittle %s --help: exit %d, missing usage or examples:\n%s", name, code, out)
		}
	}
}

func TestConvertRoundTripsExternalData(t *testing.T) {
	dir := t.TempDir()
	m := reluModel()
	m.Graph.Initializer = append(m.Graph.Initializer, &pb.TensorProto{Name: proto.String("W"),
		DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{2, 3}, RawData: make([]byte, 24)})
	m.Graph.Node[0].OpType = proto.String("Add")
	m.Graph.Node[0].Input = []string{"X", "W"}
	in := writeModel(t, dir, "in.onnx", m)
	ext := filepath.Join(dir, "ext.onnx")
	if code, out, errOut := run(t, "convert", in, "-o", ext, "--external-data", "--size-threshold", "0"); code != exitOK {
		t.Fatalf("convert: %d %s%s", code, out, errOut)
	}
	if _, err := os.Stat(ext + ".data"); err != nil {
		t.Fatalf("no external data file: %v", err)
	}
	back := filepath.Join(dir, "back.onnx")
	if code, out, errOut := run(t, "convert", ext, "-o", back); code != exitOK {
		t.Fatalf("convert back: %d %s%s", code, out, errOut)
	}
	got, _ := os.ReadFile(back)
	var gm pb.ModelProto
	if err := proto.Unmarshal(got, &gm); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&gm, m) {
		t.Fatal("inline -> external -> inline changed the model")
	}
	if code, out, _ := run(t, "check", ext); code != exitOK {
		t.Fatalf("check of the external-data model: %d\n%s", code, out)
	}
}

// TestRunWritesBackendTestOutputs runs a backend case's inputs and checks the written
// output_0.pb against the case's expected output with 'whittle test' itself.
func TestRunWritesBackendTestOutputs(t *testing.T) {
	root := testenvONNXTests(t)
	caseDir := filepath.Join(root, "pytorch-converted", "test_Conv2d")
	out := t.TempDir()
	code, stdout, stderr := run(t, "run", filepath.Join(caseDir, "model.onnx"),
		"--input", filepath.Join(caseDir, "test_data_set_0", "input_0.pb"), "--output-dir", filepath.Join(out, "test_data_set_0"), "--npy")
	if code != exitOK {
		t.Fatalf("run: %d\n%s%s", code, stdout, stderr)
	}
	// Make a case folder from the model and whittle's outputs, then judge it against the
	// expected outputs by comparing files through 'whittle test' on the original case.
	want, _ := os.ReadFile(filepath.Join(caseDir, "test_data_set_0", "output_0.pb"))
	got, err := os.ReadFile(filepath.Join(out, "test_data_set_0", "output_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	var wp, gp pb.TensorProto
	if proto.Unmarshal(want, &wp) != nil || proto.Unmarshal(got, &gp) != nil {
		t.Fatal("cannot decode outputs")
	}
	toTensor := func(tp *pb.TensorProto) *kernel.Tensor {
		it, err := onnx.TensorFromProto(tp)
		if err != nil {
			t.Fatal(err)
		}
		kt, err := kernel.FromIR(it)
		if err != nil {
			t.Fatal(err)
		}
		return kt
	}
	if err := conformance.Compare(toTensor(&gp), toTensor(&wp)); err != nil {
		t.Fatalf("whittle run output differs from the expected output: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "test_data_set_0", "output_0.npy")); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = run(t, "test", caseDir)
	if code != exitOK || !strings.Contains(stdout, "1 passed, 0 failed, 0 skipped") {
		t.Fatalf("whittle test: %d\n%s", code, stdout)
	}
}

// TestConvertRefusesToClobberInputData: converting an external-data model to a second
// model in the same folder must not overwrite the data file the first one reads.
func TestConvertRefusesToClobberInputData(t *testing.T) {
	dir := t.TempDir()
	m := reluModel()
	m.Graph.Initializer = append(m.Graph.Initializer, &pb.TensorProto{Name: proto.String("W"),
		DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{2, 3}, RawData: make([]byte, 24)})
	m.Graph.Node[0].OpType = proto.String("Add")
	m.Graph.Node[0].Input = []string{"X", "W"}
	in := writeModel(t, dir, "in.onnx", m)
	a := filepath.Join(dir, "a.onnx")
	if code, out, errOut := run(t, "convert", in, "-o", a, "--external-data", "--size-threshold", "0", "--location", "shared.bin"); code != exitOK {
		t.Fatalf("convert: %d %s%s", code, out, errOut)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "shared.bin"))
	b := filepath.Join(dir, "b.onnx")
	code, out, errOut := run(t, "convert", a, "-o", b, "--external-data", "--size-threshold", "0", "--location", "shared.bin")
	if code != exitFail || !strings.Contains(errOut, "would overwrite") {
		t.Fatalf("convert over the input's data file: %d\n%s%s", code, out, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "shared.bin"))
	if !bytes.Equal(before, after) {
		t.Fatal("the input's data file changed")
	}
	// Rewriting a model in place (OUT = IN) is the user's explicit choice and is allowed.
	if code, out, errOut := run(t, "convert", a, "-o", a, "--external-data", "--size-threshold", "0", "--location", "shared.bin"); code != exitOK {
		t.Fatalf("convert in place: %d %s%s", code, out, errOut)
	}
	if code, out, _ := run(t, "check", a); code != exitOK {
		t.Fatalf("check after in-place convert: %d\n%s", code, out)
	}
}
