package onnx

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// backendModels lists every model.onnx under the ONNX backend test data.
func backendModels(t testing.TB) []string {
	t.Helper()
	dir := testenv.ONNXTestsDir(t)
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "model.onnx" {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return paths
}

func TestRoundTripBackendModels(t *testing.T) {
	paths := backendModels(t)
	if len(paths) == 0 {
		t.Fatal("no model.onnx found under the ONNX backend test data")
	}
	n := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		first, err := Decode(data)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		encoded, err := Encode(first)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		second, err := Decode(encoded)
		if err != nil {
			t.Errorf("%s: decode of re-encoded model: %v", path, err)
			continue
		}
		if !proto.Equal(first, second) {
			t.Errorf("%s: model changed after encode and decode", path)
			continue
		}
		// ReadFile (memory-mapped) must agree with Decode of the bytes.
		viaFile, err := ReadFile(path)
		if err != nil {
			t.Errorf("%s: ReadFile: %v", path, err)
			continue
		}
		if !proto.Equal(first, viaFile) {
			t.Errorf("%s: ReadFile and Decode disagree", path)
			continue
		}
		n++
	}
	t.Logf("round-tripped %d models", n)
	if n != len(paths) {
		t.Errorf("round-tripped %d of %d models", n, len(paths))
	}
}

// smallModel is a valid model with one initializer, used by several tests.
func smallModel() *onnxpb.ModelProto {
	return &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("whittle-test"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("g"),
			Node: []*onnxpb.NodeProto{{
				OpType: proto.String("Add"), Name: proto.String("add"),
				Input: []string{"x", "w"}, Output: []string{"y"},
			}},
			Initializer: []*onnxpb.TensorProto{{
				Name: proto.String("w"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
				Dims: []int64{2}, RawData: []byte{0, 0, 128, 63, 0, 0, 0, 64},
			}},
		},
	}
}

func TestDecodeBadInput(t *testing.T) {
	good, err := proto.Marshal(smallModel())
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	// Valid protobuf, but only with a field number ModelProto does not define.
	onlyUnknown := protowire.AppendVarint(protowire.AppendTag(nil, 1000, protowire.VarintType), 7)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty input"},
		{"truncated", good[:len(good)-3], "decode model:"},
		{"truncated to one byte", good[:1], "decode model:"},
		{"random bytes", random, "decode model:"},
		{"text", []byte("this is not a model\n"), "decode model:"},
		{"only unknown fields", onlyUnknown, "not an ONNX model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.data)
			if err == nil {
				t.Fatalf("Decode succeeded: %v", m)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestReadFileBadInput(t *testing.T) {
	good, err := proto.Marshal(smallModel())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", []byte{}, "empty file"},
		{"truncated", good[:len(good)/2], "decode model:"},
		{"garbage", []byte{0xff, 0xff, 0xff, 0xff, 0xff}, "decode model:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".onnx")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(path)
			if err == nil {
				t.Fatal("ReadFile succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q should name %s and contain %q", err, path, tt.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.onnx")); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("missing file: got %v", err)
	}
	if _, err := ReadFile(dir); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("folder: got %v", err)
	}
}

func TestUnknownFieldsSurviveRoundTrip(t *testing.T) {
	data, err := proto.Marshal(smallModel())
	if err != nil {
		t.Fatal(err)
	}
	// A field from some future ONNX version: number 1000, a length-delimited value.
	unknown := protowire.AppendBytes(protowire.AppendTag(nil, 1000, protowire.BytesType), []byte("future"))
	data = append(data, unknown...)
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, unknown) {
		t.Errorf("re-encoded model lost the unknown field")
	}
}

func TestDecodeDoesNotAliasInput(t *testing.T) {
	data, err := proto.Marshal(smallModel())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	// Scribble over the input: a decoded model sharing its memory would change.
	for i := range data {
		data[i] = 0xAA
	}
	if !proto.Equal(m, smallModel()) {
		t.Errorf("decoded model changed when its input buffer was overwritten")
	}
}

func TestReadFileAfterUnmap(t *testing.T) {
	// ReadFile unmaps the file before returning; if the decoded model pointed into the
	// mapping, reading its bytes here would crash the test with SIGSEGV.
	path := filepath.Join(t.TempDir(), "m.onnx")
	want := smallModel()
	want.Graph.Initializer[0].RawData = bytes.Repeat([]byte{1, 2, 3, 4}, 100_000)
	want.Graph.Initializer[0].Dims = []int64{100_000}
	data, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Overwriting the file must not change the model either (MAP_PRIVATE, but copied anyway).
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xAA}, len(data)), 0o644); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("model read from file differs from the one written")
	}
}

func TestEncodeNil(t *testing.T) {
	if _, err := Encode(nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
}
