// Package determinism checks that a workflow writing a model gives the same bytes every
// time, on one thread and on two: the promise behind reproducible pipelines, and what
// turns a flaky comparison into a diff of real changes. Tests of every command that writes
// a model (convert, optimize, prune, quantize, finetune, distill) call Check.
package determinism

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"
)

// Threads are the parallelism levels a workflow is run at.
var Threads = []int{1, 2}

// Check runs write twice at each of Threads (with GOMAXPROCS set to it, so that every
// worker pool and session default follows) and fails t unless every run wrote the same
// bytes to out, the file name write is given. Files write creates beside out (external
// data) are compared too. runs is how many times each thread count runs (2 when 0).
func Check(t testing.TB, runs int, write func(t testing.TB, out string)) {
	t.Helper()
	if runs <= 0 {
		runs = 2
	}
	var first map[string][]byte
	var firstAt string
	for _, threads := range Threads {
		for r := 0; r < runs; r++ {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.onnx")
			prev := goruntime.GOMAXPROCS(threads)
			write(t, out)
			goruntime.GOMAXPROCS(prev)
			files := readAll(t, dir)
			at := fmt.Sprintf("run %d with %d thread(s)", r+1, threads)
			if first == nil {
				first, firstAt = files, at
				if len(files) == 0 {
					t.Fatalf("%s wrote nothing", at)
				}
				continue
			}
			if err := same(first, files); err != nil {
				t.Fatalf("%s differs from %s: %v", at, firstAt, err)
			}
		}
	}
}

func readAll(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = data
	}
	return files
}

func same(a, b map[string][]byte) error {
	for name, da := range a {
		db, ok := b[name]
		if !ok {
			return fmt.Errorf("%s is missing", name)
		}
		if !bytes.Equal(da, db) {
			i := 0
			for i < len(da) && i < len(db) && da[i] == db[i] {
				i++
			}
			return fmt.Errorf("%s: %d vs %d bytes (sha256 %x vs %x), first difference at byte %d", name, len(da), len(db), sha256.Sum256(da), sha256.Sum256(db), i)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			return fmt.Errorf("%s appeared", name)
		}
	}
	return nil
}
