//go:build unix

package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestDecodeMappedFileTruncated checks that a model file truncated by someone else while
// it is mapped gives an error, not a crash: touching pages past the new end of file raises
// SIGBUS, which decodeMapped turns into an error.
func TestDecodeMappedFileTruncated(t *testing.T) {
	m := smallModel()
	m.Graph.Initializer[0].RawData = make([]byte, 1<<20)
	m.Graph.Initializer[0].Dims = []int64{1 << 18}
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mapped, unmap, err := mapFile(f, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer unmap()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeMapped(mapped); err == nil || !strings.Contains(err.Error(), "changed while it was being read") {
		t.Errorf("got %v, want an error about the file changing", err)
	}
}
