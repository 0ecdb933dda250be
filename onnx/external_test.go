package onnx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// entries turns key, value, key, value... into external_data entries.
func entries(kv ...string) []*onnxpb.StringStringEntryProto {
	var out []*onnxpb.StringStringEntryProto
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &onnxpb.StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return out
}

// externalTensorRef is a FLOAT[4] tensor (16 bytes) whose data is external.
func externalTensorRef(name string, kv ...string) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{
		Name:         proto.String(name),
		DataType:     proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
		Dims:         []int64{4},
		ExternalData: entries(kv...),
		DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
	}
}

// writeModel encodes m to dir/model.onnx and returns the path.
func writeModel(t *testing.T, dir string, m *onnxpb.ModelProto) string {
	t.Helper()
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dataBytes is the content of the data files the tests write: 64 bytes 0, 1, 2...
func dataBytes() []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestExternalDataAttacks(t *testing.T) {
	outside := t.TempDir() // a folder beside the model's, holding a "secret"
	secret := filepath.Join(outside, "secret.bin")
	if err := os.WriteFile(secret, dataBytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		kv    []string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{name: "absolute path", kv: []string{"location", secret}, want: "is absolute"},
		{name: "dot-dot", kv: []string{"location", "../secret.bin"}, want: `".." component`},
		{name: "dot-dot inside", kv: []string{"location", "sub/../../secret.bin"}, want: `".." component`},
		{name: "dot-dot with backslashes", kv: []string{"location", `sub\..\..\secret.bin`}, want: `".." component`},
		{name: "empty location", kv: []string{"location", ""}, want: "location is empty"},
		{name: "missing location", kv: []string{"offset", "0", "length", "16"}, want: "no location"},
		{name: "no entries at all", kv: nil, want: "no location"},
		{name: "unknown key", kv: []string{"location", "data.bin", "evil_attr", "1"}, want: `unknown key "evil_attr"`},
		{name: "dunder key", kv: []string{"location", "data.bin", "__class__", "x"}, want: `unknown key "__class__"`},
		{name: "repeated key", kv: []string{"location", "data.bin", "location", "other.bin"}, want: "more than once"},
		{name: "negative offset", kv: []string{"location", "data.bin", "offset", "-1"}, want: "offset -1 is negative"},
		{name: "negative length", kv: []string{"location", "data.bin", "length", "-1"}, want: "length -1 is negative"},
		{name: "non-numeric offset", kv: []string{"location", "data.bin", "offset", "0x10"}, want: "not a decimal integer"},
		{name: "offset past end", kv: []string{"location", "data.bin", "offset", "1000", "length", "16"}, want: "offset 1000 is past the end"},
		{name: "range past end", kv: []string{"location", "data.bin", "offset", "56", "length", "16"}, want: "run past the end"},
		{name: "huge length", kv: []string{"location", "data.bin", "length", strconv.FormatInt(math.MaxInt64, 10)}, want: "does not match"},
		{name: "length mismatch", kv: []string{"location", "data.bin", "length", "8"}, want: "length 8 does not match the 16 bytes"},
		{name: "missing file", kv: []string{"location", "nothere.bin"}, want: "no such file"},
		{
			name: "symlink escaping", kv: []string{"location", "link.bin"}, want: "symbolic link",
			setup: func(t *testing.T, dir string) { symlink(t, secret, filepath.Join(dir, "link.bin")) },
		},
		{
			// onnx rejects a linked data file even when it stays inside the folder (layer 2).
			name: "symlink inside folder", kv: []string{"location", "link.bin"}, want: "symbolic link",
			setup: func(t *testing.T, dir string) { symlink(t, "data.bin", filepath.Join(dir, "link.bin")) },
		},
		{
			name: "linked parent folder escaping", kv: []string{"location", "sub/secret.bin"}, want: "outside the model's folder",
			setup: func(t *testing.T, dir string) { symlink(t, outside, filepath.Join(dir, "sub")) },
		},
		{
			name: "hard link", kv: []string{"location", "hard.bin"}, want: "2 hard links",
			setup: func(t *testing.T, dir string) {
				if err := os.Link(secret, filepath.Join(dir, "hard.bin")); err != nil {
					t.Skipf("cannot create hard links here: %v", err)
				}
				t.Cleanup(func() { os.Remove(filepath.Join(dir, "hard.bin")) })
			},
		},
		{
			name: "folder as data file", kv: []string{"location", "sub"}, want: "not a regular file",
			setup: func(t *testing.T, dir string) {
				if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "data.bin"), dataBytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			m := smallModel()
			m.Graph.Initializer = []*onnxpb.TensorProto{externalTensorRef("w", tt.kv...)}
			path := writeModel(t, dir, m)
			got, err := ReadFile(path)
			if err == nil {
				t.Fatalf("ReadFile succeeded; raw data %v", got.GetGraph().GetInitializer()[0].GetRawData())
			}
			t.Log(err)
			for _, want := range []string{path, `tensor "w"`, tt.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot create symbolic links here: %v", err)
	}
}

func TestExternalDataStringTensor(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), dataBytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m := smallModel()
	ref := externalTensorRef("s", "location", "data.bin")
	ref.DataType = proto.Int32(int32(onnxpb.TensorProto_STRING))
	m.Graph.Initializer = []*onnxpb.TensorProto{ref}
	if _, err := ReadFile(writeModel(t, dir, m)); err == nil || !strings.Contains(err.Error(), "STRING") {
		t.Errorf("got %v, want an error about STRING tensors", err)
	}
}

// TestLoadExternalDataEverywhere puts external references in every place a tensor can be
// and checks that each is loaded from the right bytes.
func TestLoadExternalDataEverywhere(t *testing.T) {
	dir := t.TempDir()
	data := dataBytes()
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "weights"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "weights", "more.bin"), data[32:], 0o644); err != nil {
		t.Fatal(err)
	}
	// ref returns a reference to 16 bytes at offset in data.bin, and those bytes.
	var want [][]byte
	ref := func(name string, offset int) *onnxpb.TensorProto {
		want = append(want, data[offset:offset+16])
		return externalTensorRef(name, "location", "data.bin", "offset", strconv.Itoa(offset), "length", "16")
	}
	sub := &onnxpb.GraphProto{Name: proto.String("then"), Initializer: []*onnxpb.TensorProto{ref("sub_init", 4)}}
	m := smallModel()
	m.Graph.Initializer = []*onnxpb.TensorProto{
		ref("init", 0),
		// No offset or length: offset 0, length from type and shape; ./ and a subfolder.
		externalTensorRef("nested_folder", "location", "./weights/more.bin", "checksum", "ignored"),
	}
	want = append(want, data[32:48])
	m.Graph.SparseInitializer = []*onnxpb.SparseTensorProto{{Values: ref("sparse_values", 8), Indices: ref("sparse_indices", 12), Dims: []int64{100}}}
	m.Graph.Node = append(m.Graph.Node,
		&onnxpb.NodeProto{OpType: proto.String("Constant"), Name: proto.String("c"), Output: []string{"c"},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"), T: ref("const", 16)}}},
		&onnxpb.NodeProto{OpType: proto.String("If"), Name: proto.String("if"), Input: []string{"cond"}, Output: []string{"o"},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("then_branch"), G: sub}}},
	)
	m.Functions = []*onnxpb.FunctionProto{{
		Name: proto.String("f"), Domain: proto.String("local"),
		Node: []*onnxpb.NodeProto{{OpType: proto.String("Constant"),
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"), Tensors: []*onnxpb.TensorProto{ref("func_const", 20)}}}}},
		AttributeProto: []*onnxpb.AttributeProto{{Name: proto.String("default"), T: ref("func_default", 24)}},
	}}
	m.TrainingInfo = []*onnxpb.TrainingInfoProto{{
		Initialization: &onnxpb.GraphProto{Name: proto.String("init"), Initializer: []*onnxpb.TensorProto{ref("train_init", 28)}},
		Algorithm:      &onnxpb.GraphProto{Name: proto.String("algo"), Initializer: []*onnxpb.TensorProto{ref("train_algo", 32)}},
	}}
	path := writeModel(t, dir, m)

	skipped, err := ReadFileWithOptions(path, ReadOptions{SkipExternalData: true})
	if err != nil {
		t.Fatal(err)
	}
	if !HasExternalData(skipped) {
		t.Fatal("SkipExternalData: HasExternalData is false")
	}
	if !proto.Equal(skipped, m) {
		t.Error("SkipExternalData changed the model")
	}

	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if HasExternalData(got) {
		t.Error("HasExternalData is true after ReadFile")
	}
	var loaded []*onnxpb.TensorProto
	forEachTensor(got, func(v tensorVisit) error {
		loaded = append(loaded, v.tensor)
		return nil
	})
	if len(loaded) != len(want) {
		t.Fatalf("found %d tensors, want %d", len(loaded), len(want))
	}
	seen := map[string]bool{}
	for _, tensor := range loaded {
		seen[tensor.GetName()] = true
		if tensor.ExternalData != nil || tensor.DataLocation != nil {
			t.Errorf("%s: external_data or data_location not cleared", tensor.GetName())
		}
	}
	// forEachTensor's order is not the order refs were built in; match by content instead.
	for i, w := range want {
		found := false
		for _, tensor := range loaded {
			found = found || bytes.Equal(tensor.RawData, w)
		}
		if !found {
			t.Errorf("no tensor holds the bytes of reference %d (%v)", i, w)
		}
	}
	for _, name := range []string{"init", "nested_folder", "sparse_values", "sparse_indices", "const", "sub_init", "func_const", "func_default", "train_init", "train_algo"} {
		if !seen[name] {
			t.Errorf("tensor %s not visited", name)
		}
	}
	// Same with ExternalDataDir: the model elsewhere, the data here.
	elsewhere := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.Rename(path, elsewhere); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFileWithOptions(elsewhere, ReadOptions{ExternalDataDir: dir}); err != nil {
		t.Errorf("ExternalDataDir: %v", err)
	}
}

// floatTensor returns a FLOAT initializer of n elements i*scale.
func floatTensor(name string, n int, scale float32) *onnxpb.TensorProto {
	raw := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(i)*scale))
	}
	return &onnxpb.TensorProto{
		Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
		Dims: []int64{int64(n)}, RawData: raw,
	}
}

// externalModelForWrite has initializers above and below the default threshold, one in a
// subgraph, a large Constant attribute (which stays inline) and a float_data tensor.
func externalModelForWrite() *onnxpb.ModelProto {
	m := smallModel()
	m.Graph.Initializer = []*onnxpb.TensorProto{
		floatTensor("big1", 1000, 0.5),  // 4000 bytes
		floatTensor("small", 10, 1),     // 40 bytes: inline
		floatTensor("big2", 3000, 0.25), // 12000 bytes
		floatTensor("edge", 256, 1),     // exactly 1024 bytes: external
		{Name: proto.String("typed"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{2000}, FloatData: make([]float32, 2000)},
	}
	sub := &onnxpb.GraphProto{Name: proto.String("body"), Initializer: []*onnxpb.TensorProto{floatTensor("sub_big", 700, 2)}}
	m.Graph.Node = append(m.Graph.Node,
		&onnxpb.NodeProto{OpType: proto.String("Constant"), Name: proto.String("c"), Output: []string{"c"},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"), T: floatTensor("const_big", 2000, 1)}}},
		&onnxpb.NodeProto{OpType: proto.String("If"), Name: proto.String("if"), Input: []string{"cond"}, Output: []string{"o"},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("then_branch"), G: sub}}},
	)
	return m
}

func TestWriteExternalDataRoundTrip(t *testing.T) {
	tests := []struct {
		name         string
		opts         WriteOptions
		dataFile     string
		align        int64
		wantExternal []string
	}{
		{"defaults", WriteOptions{ExternalData: true}, "model.onnx.data", 4096, []string{"big1", "big2", "edge", "sub_big"}},
		{"packed, every tensor", WriteOptions{ExternalData: true, Location: "weights.bin", SizeThreshold: 1, Align: 1}, "weights.bin", 1, []string{"big1", "small", "big2", "edge", "sub_big"}},
		{"64 KiB alignment", WriteOptions{ExternalData: true, Align: 65536, SizeThreshold: 5000}, "model.onnx.data", 65536, []string{"big2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.onnx")
			m := externalModelForWrite()
			before := proto.Clone(m)
			if err := WriteFile(path, m, tt.opts); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(m, before) {
				t.Fatal("WriteFile modified the caller's model")
			}
			assertOnlyFiles(t, dir, "model.onnx", tt.dataFile)

			stored, err := ReadFileWithOptions(path, ReadOptions{SkipExternalData: true})
			if err != nil {
				t.Fatal(err)
			}
			dataInfo, err := os.Stat(filepath.Join(dir, tt.dataFile))
			if err != nil {
				t.Fatal(err)
			}
			var external []string
			var prevEnd int64
			forEachTensor(stored, func(v tensorVisit) error {
				tensor := v.tensor
				if !usesExternalData(tensor) {
					threshold := tt.opts.SizeThreshold
					if threshold == 0 {
						threshold = defaultSizeThreshold
					}
					if v.kind == kindInitializer && len(tensor.RawData) > 0 && int64(len(tensor.RawData)) >= threshold {
						t.Errorf("%s: %d bytes stayed inline", tensor.GetName(), len(tensor.RawData))
					}
					return nil
				}
				external = append(external, tensor.GetName())
				ref, err := parseExternalRef(tensor)
				if err != nil {
					t.Errorf("%s: %v", tensor.GetName(), err)
					return nil
				}
				if ref.location != tt.dataFile || !ref.hasLength || len(tensor.RawData) != 0 {
					t.Errorf("%s: reference %+v, %d inline bytes", tensor.GetName(), ref, len(tensor.RawData))
				}
				if ref.offset%tt.align != 0 {
					t.Errorf("%s: offset %d is not a multiple of %d", tensor.GetName(), ref.offset, tt.align)
				}
				if ref.offset < prevEnd || ref.offset+ref.length > dataInfo.Size() {
					t.Errorf("%s: range [%d, %d) overlaps the previous tensor (ends %d) or the file end (%d)", tensor.GetName(), ref.offset, ref.offset+ref.length, prevEnd, dataInfo.Size())
				}
				prevEnd = ref.offset + ref.length
				return nil
			})
			if strings.Join(external, ",") != strings.Join(tt.wantExternal, ",") {
				t.Errorf("external tensors %v, want %v", external, tt.wantExternal)
			}

			got, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, before) {
				t.Error("model read back differs from the one written")
			}
		})
	}
}

// assertOnlyFiles fails unless dir holds exactly the named files (no temporary leftovers).
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	if len(got) != len(want) {
		t.Errorf("folder holds %v, want %v", got, names)
		return
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("folder holds %v, want %v", got, names)
			return
		}
	}
}

func TestWriteExternalDataNothingLarge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := WriteFile(path, smallModel(), WriteOptions{ExternalData: true}); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, dir, "model.onnx") // no empty data file
}

func TestWriteFileRejects(t *testing.T) {
	dir := t.TempDir()
	withRef := smallModel()
	withRef.Graph.Initializer = append(withRef.Graph.Initializer, externalTensorRef("w2", "location", "model.onnx.data"))
	tests := []struct {
		name string
		m    *onnxpb.ModelProto
		opts WriteOptions
		want string
	}{
		{"nil model", nil, WriteOptions{}, "nil model"},
		{"location with folder", smallModel(), WriteOptions{ExternalData: true, Location: "sub/w.bin"}, "must be a file name"},
		{"location dot-dot", smallModel(), WriteOptions{ExternalData: true, Location: ".."}, "must be a file name"},
		{"location is the model", smallModel(), WriteOptions{ExternalData: true, Location: "model.onnx"}, "is the model file itself"},
		{"negative align", smallModel(), WriteOptions{ExternalData: true, Align: -1}, "negative"},
		{"unloaded external data", withRef, WriteOptions{ExternalData: true}, `"w2" (graph "g" initializer) still refers to external data`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "model.onnx")
			err := WriteFile(path, tt.m, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v, want an error naming %s and containing %q", err, path, tt.want)
			}
			assertOnlyFiles(t, dir)
		})
	}
	// Without ExternalData, references are written as they are.
	path := filepath.Join(dir, "refs.onnx")
	if err := WriteFile(path, withRef, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFileWithOptions(path, ReadOptions{SkipExternalData: true})
	if err != nil || !proto.Equal(got, withRef) {
		t.Errorf("references not kept: %v", err)
	}
}

func TestWriteFileTooLarge(t *testing.T) {
	// Three initializers sharing one 800 MiB slice encode to 2.4 GiB. The slice is never
	// written to, so its pages stay unbacked and the test is cheap.
	shared := make([]byte, 800<<20)
	m := smallModel()
	for i := range 3 {
		m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{
			Name: proto.String("big" + strconv.Itoa(i)), DataType: proto.Int32(int32(onnxpb.TensorProto_UINT8)),
			Dims: []int64{int64(len(shared))}, RawData: shared,
		})
	}
	if _, err := Encode(m); !errors.Is(err, ErrModelTooLarge) {
		t.Errorf("Encode: got %v, want ErrModelTooLarge", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	err := WriteFile(path, m, WriteOptions{})
	if !errors.Is(err, ErrModelTooLarge) || !strings.Contains(err.Error(), "--external-data") || !strings.Contains(err.Error(), path) {
		t.Errorf("WriteFile: got %v, want ErrModelTooLarge naming the file and suggesting --external-data", err)
	}
	assertOnlyFiles(t, dir)
}

func TestCloneSharingBytes(t *testing.T) {
	m := externalModelForWrite()
	m.ProtoReflect().SetUnknown([]byte{0xa0, 0x3e, 0x01}) // field 1000, varint 1
	c := cloneSharingBytes(m.ProtoReflect()).Interface().(*onnxpb.ModelProto)
	if !proto.Equal(c, m) {
		t.Fatal("clone differs from the original")
	}
	if &c.Graph.Initializer[0].RawData[0] != &m.Graph.Initializer[0].RawData[0] {
		t.Error("clone copied raw_data instead of sharing it")
	}
	c.Graph.Initializer[0].RawData = nil
	c.Graph.Initializer[0].Name = proto.String("changed")
	if m.Graph.Initializer[0].RawData == nil || m.Graph.Initializer[0].GetName() != "big1" {
		t.Error("changing the clone's tensor changed the original")
	}
}

// TestWriteExternalDataThroughSymlink: a data file name that is a symbolic link to a file
// elsewhere must not make WriteFile write there; the link is replaced instead.
func TestWriteExternalDataThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	symlink(t, victim, filepath.Join(dir, "model.onnx.data"))
	path := filepath.Join(dir, "model.onnx")
	if err := WriteFile(path, externalModelForWrite(), WriteOptions{ExternalData: true}); err != nil {
		t.Fatal(err)
	}
	assertContent(t, victim, "precious")
	if fi, err := os.Lstat(path + ".data"); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("data file: %v, %v; want a regular file", fi, err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Error(err)
	}
}

// TestExternalDataUnknownTypeReadsToEnd: for an element type this build does not know,
// the size cannot be checked, and a reference without length runs to the end of the file,
// as in onnx.
func TestExternalDataUnknownTypeReadsToEnd(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), dataBytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m := smallModel()
	ref := externalTensorRef("future", "location", "data.bin", "offset", "60")
	ref.DataType = proto.Int32(999)
	m.Graph.Initializer = []*onnxpb.TensorProto{ref}
	got, err := ReadFile(writeModel(t, dir, m))
	if err != nil {
		t.Fatal(err)
	}
	if raw := got.GetGraph().GetInitializer()[0].GetRawData(); !bytes.Equal(raw, dataBytes()[60:]) {
		t.Errorf("raw data %v, want the last 4 bytes of the file", raw)
	}
}
