package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
)

// TestConvertOpsetFlag upgrades an opset-6 model with a legacy broadcast Add and an
// external weight, writing external data, and checks the result; a downgrade fails and
// writes nothing.
func TestConvertOpsetFlag(t *testing.T) {
	dir := t.TempDir()
	m := reluModel()
	m.OpsetImport[0].Version = proto.Int64(6)
	m.IrVersion = proto.Int64(3)
	m.Graph.Initializer = append(m.Graph.Initializer, &pb.TensorProto{Name: proto.String("B"),
		DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{2}, RawData: make([]byte, 8)})
	m.Graph.Input = append(m.Graph.Input, &pb.ValueInfoProto{Name: proto.String("B"), Type: tensorType(pb.TensorProto_FLOAT, 2)})
	m.Graph.Node[0].OpType = proto.String("Add")
	m.Graph.Node[0].Input = []string{"X", "B"}
	m.Graph.Node[0].Attribute = []*pb.AttributeProto{
		{Name: proto.String("broadcast"), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(1)},
		{Name: proto.String("axis"), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(0)},
	}
	in := writeModel(t, dir, "in.onnx", m)
	out := filepath.Join(dir, "out.onnx")
	code, stdout, stderr := run(t, "convert", in, "-o", out, "--opset", "13", "--external-data", "--size-threshold", "0")
	if code != exitOK {
		t.Fatalf("convert --opset 13: %d %s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "opset 6 -> 13") {
		t.Errorf("stdout %q does not report the conversion", stdout)
	}
	if _, err := os.Stat(out + ".data"); err != nil {
		t.Errorf("--external-data was not honoured: %v", err)
	}
	got, err := onnx.LoadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Opset(""); v != 13 {
		t.Errorf("opset %d, want 13", v)
	}
	var ops []string
	for _, n := range got.Graph.Nodes() {
		ops = append(ops, n.OpType)
		if n.Attr("broadcast") != nil {
			t.Errorf("%s keeps the legacy broadcast attribute", n.Describe())
		}
	}
	if strings.Join(ops, ",") != "Unsqueeze,Add" {
		t.Errorf("ops %v, want Unsqueeze,Add", ops)
	}
	if code, out, _ := run(t, "check", out); code != exitOK {
		t.Errorf("check of the converted model: %d\n%s", code, out)
	}

	down := filepath.Join(dir, "down.onnx")
	code, _, stderr = run(t, "convert", out, "-o", down, "--opset", "11")
	if code == exitOK || !strings.Contains(stderr, "downgrading opset 13 to 11") {
		t.Errorf("downgrade: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(down); err == nil {
		t.Error("a refused conversion wrote its output")
	}
}
