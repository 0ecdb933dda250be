package onnx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// AbortPendingWrites, called while a write is under way, removes its temporary file, and
// the write then fails without creating the output.
func TestAbortPendingWrites(t *testing.T) {
	defer func() {
		pending.mu.Lock()
		pending.stopped = false
		pending.mu.Unlock()
	}()
	dir := t.TempDir()
	out := filepath.Join(dir, "model.onnx")
	writing, abort := make(chan struct{}), make(chan []string)
	done := make(chan error)
	go func() {
		done <- WriteFileAtomic(out, func(w io.Writer) error {
			if _, err := w.Write([]byte("partial")); err != nil {
				return err
			}
			close(writing)
			<-abort // the interrupt arrives here
			return nil
		})
	}()
	<-writing
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || !strings.Contains(entries[0].Name(), ".tmp-") {
		t.Fatalf("while writing: %v, want one temporary file", entries)
	}
	removed := AbortPendingWrites()
	abort <- nil
	err := <-done
	if len(removed) != 1 || !errors.Is(err, ErrWritesStopped) {
		t.Fatalf("removed %v, write error %v; want the temporary file removed and ErrWritesStopped", removed, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("after the abort the folder holds %v", entries)
	}
	// Writes started afterwards fail too, leaving nothing.
	if err := WriteFile(out, smallModel(), WriteOptions{ExternalData: true}); !errors.Is(err, ErrWritesStopped) {
		t.Fatalf("a later write: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("after a refused write the folder holds %v", entries)
	}
}
