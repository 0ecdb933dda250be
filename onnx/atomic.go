package onnx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
)

// WriteFileAtomic replaces the file at path with what write produces, so that readers see
// either the old file or the complete new one, never a partial write. write's output goes
// to a temporary file in the same folder (through a buffer; write need not buffer), which
// is synced and then renamed over path. If write or any step fails, the temporary file is
// removed and path is left as it was.
//
// A new file gets mode 0666 less the umask; a replaced file keeps its permission bits. If
// path is a symbolic link, the link itself is replaced by the new file.
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	p, err := createPending(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			p.abort()
		}
	}()
	bw := bufio.NewWriterSize(p.file, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := p.close(); err != nil {
		return err
	}
	return commit(p)
}

// pending tracks the temporary files of unfinished writes, so that a program ending at
// once (an interrupt) can remove them; commits hold mu, so that files renamed together
// (a model and its data file) are renamed together or not at all.
var pending struct {
	mu      sync.Mutex
	files   map[*pendingFile]bool
	stopped bool
}

// ErrWritesStopped is returned by writes started or committed after AbortPendingWrites.
var ErrWritesStopped = errors.New("writes were stopped (the program is exiting)")

// AbortPendingWrites removes the temporary file of every write in progress and makes later
// writes fail with ErrWritesStopped. A commit under way (renaming a model and its data
// file) finishes first. A program that must exit at once, on an interrupt, calls it so
// that it leaves no temporary file and no half-replaced output behind. It returns the
// files it removed.
func AbortPendingWrites() []string {
	pending.mu.Lock()
	defer pending.mu.Unlock()
	pending.stopped = true
	var removed []string
	for p := range pending.files {
		// The writer may still hold the file open; removing its name is enough.
		if os.Remove(p.tmp) == nil {
			removed = append(removed, p.tmp)
		}
	}
	clear(pending.files)
	return removed
}

// commit renames closed temporary files to their final names, in order, as one step with
// respect to AbortPendingWrites.
func commit(files ...*pendingFile) error {
	pending.mu.Lock()
	defer pending.mu.Unlock()
	if pending.stopped {
		return ErrWritesStopped
	}
	for _, p := range files {
		delete(pending.files, p)
		if err := p.commit(); err != nil {
			return err
		}
	}
	return nil
}

// pendingFile is a temporary file that will replace path once complete. WriteFile uses
// two of them to write a model and its data file and only then rename both.
type pendingFile struct {
	path   string // final name
	tmp    string // temporary name in the same folder, so rename stays atomic
	file   *os.File
	closed bool
}

// createPending opens a new temporary file beside path.
func createPending(path string) (*pendingFile, error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return nil, fmt.Errorf("write %s: not a file name", path)
	}
	// os.CreateTemp would create the file with mode 0600; the output should get the same
	// mode as any other new file, so open with 0666 (the umask applies) and pick the name
	// here. Ten tries with 64 random bits cannot all collide by chance.
	for range 10 {
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.tmp-%016x", base, rand.Uint64()))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			// Replacing a file must not change who may read it.
			if err := f.Chmod(fi.Mode().Perm()); err != nil {
				f.Close()
				os.Remove(tmp)
				return nil, fmt.Errorf("write %s: %w", path, err)
			}
		}
		p := &pendingFile{path: path, tmp: tmp, file: f}
		pending.mu.Lock()
		defer pending.mu.Unlock()
		if pending.stopped {
			f.Close()
			os.Remove(tmp)
			return nil, fmt.Errorf("write %s: %w", path, ErrWritesStopped)
		}
		if pending.files == nil {
			pending.files = map[*pendingFile]bool{}
		}
		pending.files[p] = true
		return p, nil
	}
	return nil, fmt.Errorf("write %s: cannot create a temporary file in %s", path, dir)
}

// close syncs the temporary file to disk and closes it; a crash after the rename must not
// leave a renamed file whose blocks were never written.
func (p *pendingFile) close() error {
	if err := p.file.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", p.path, err)
	}
	p.closed = true
	if err := p.file.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	return nil
}

// commit renames the closed temporary file to its final name.
func (p *pendingFile) commit() error {
	if err := os.Rename(p.tmp, p.path); err != nil {
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	syncDir(filepath.Dir(p.path))
	return nil
}

// abort drops the temporary file. Errors are ignored: the write already failed, and the
// caller reports that failure.
func (p *pendingFile) abort() {
	pending.mu.Lock()
	delete(pending.files, p)
	pending.mu.Unlock()
	if !p.closed {
		p.file.Close()
	}
	os.Remove(p.tmp)
}

// syncDir makes a rename in dir durable where the platform supports syncing a folder.
// It is best effort: the data itself is already synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}
