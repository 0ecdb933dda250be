package onnx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	write := func(content string) func(io.Writer) error {
		return func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		}
	}
	if err := WriteFileAtomic(path, write("first")); err != nil {
		t.Fatal(err)
	}
	assertContent(t, path, "first")
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}

	// A failing writer leaves the old file and no temporary file behind.
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v, want boom naming %s", err, path)
	}
	assertContent(t, path, "first")
	assertOnlyFiles(t, dir, "out.bin")

	// Replacing keeps the permission bits.
	if err := WriteFileAtomic(path, write("second")); err != nil {
		t.Fatal(err)
	}
	assertContent(t, path, "second")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after replace: %v, %v; want 0600", fi.Mode(), err)
	}
	assertOnlyFiles(t, dir, "out.bin")

	// A folder that does not exist is an error naming the file.
	missing := filepath.Join(dir, "no", "such", "x.bin")
	if err := WriteFileAtomic(missing, write("x")); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing folder: got %v", err)
	}
}

func TestWriteFileKeepsOldOutputOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := WriteFile(path, smallModel(), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A model that cannot be written with external data must not touch the old file.
	bad := externalModelForWrite()
	bad.Graph.Initializer = append(bad.Graph.Initializer, externalTensorRef("ref", "location", "x.bin"))
	if err := WriteFile(path, bad, WriteOptions{ExternalData: true}); err == nil {
		t.Fatal("WriteFile succeeded")
	}
	assertContent(t, path, string(old))
	assertOnlyFiles(t, dir, "model.onnx")
}

func assertContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s holds %q, want %q", path, got, want)
	}
}
