package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// External data keys (ExternalData.md).
const (
	keyLocation = "location"
	keyOffset   = "offset"
	keyLength   = "length"
	keyChecksum = "checksum"
	// keyBasepath may be added by onnx's Python loader and saved back; it is accepted (the
	// security notes allow it) but never used, because honouring a folder named inside the
	// model would let the model point anywhere.
	keyBasepath = "basepath"
)

// usesExternalData reports whether t's bytes live in an external file.
func usesExternalData(t *onnxpb.TensorProto) bool {
	return t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL
}

// HasExternalData reports whether any tensor of m still refers to external data.
func HasExternalData(m *onnxpb.ModelProto) bool {
	found := errors.New("found")
	return forEachTensor(m, func(v tensorVisit) error {
		if usesExternalData(v.tensor) {
			return found
		}
		return nil
	}) != nil
}

// externalRef is a parsed and validated external_data record.
type externalRef struct {
	location  string // cleaned, relative, without ".." components
	offset    int64
	length    int64
	hasLength bool
}

// parseExternalRef checks t's external_data entries the way ExternalDataSecurity.md
// requires: only known keys, each at most once, a location that stays inside the model's
// folder, and non-negative decimal offset and length.
func parseExternalRef(t *onnxpb.TensorProto) (externalRef, error) {
	var ref externalRef
	seen := map[string]bool{}
	for _, e := range t.GetExternalData() {
		key, value := e.GetKey(), e.GetValue()
		if seen[key] {
			return ref, fmt.Errorf("key %q appears more than once", key)
		}
		seen[key] = true
		switch key {
		case keyLocation:
			loc, err := cleanLocation(value)
			if err != nil {
				return ref, err
			}
			ref.location = loc
		case keyOffset, keyLength:
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return ref, fmt.Errorf("%s %q is not a decimal integer", key, value)
			}
			if n < 0 {
				return ref, fmt.Errorf("%s %d is negative", key, n)
			}
			if key == keyOffset {
				ref.offset = n
			} else {
				ref.length, ref.hasLength = n, true
			}
		case keyChecksum, keyBasepath:
			// Allowed and ignored: onnx does not verify the checksum either.
		default:
			return ref, fmt.Errorf("unknown key %q (allowed: location, offset, length, checksum)", key)
		}
	}
	if !seen[keyLocation] {
		return ref, errors.New("no location key")
	}
	return ref, nil
}

// cleanLocation validates an external data location: a relative path that cannot leave the
// model's folder by its spelling. Symbolic links are checked when the file is opened.
func cleanLocation(loc string) (string, error) {
	switch {
	case loc == "":
		return "", errors.New("location is empty")
	case strings.ContainsRune(loc, 0):
		return "", fmt.Errorf("location %q contains a NUL byte", loc)
	case filepath.IsAbs(loc) || strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`) || filepath.VolumeName(loc) != "":
		return "", fmt.Errorf("location %q is absolute; it must be relative to the model's folder", loc)
	}
	// Models are written on every platform, so both separators count here.
	for _, part := range strings.FieldsFunc(loc, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "", fmt.Errorf("location %q contains a \"..\" component", loc)
		}
	}
	clean := filepath.Clean(filepath.FromSlash(loc))
	if clean == "." {
		return "", fmt.Errorf("location %q names the model's folder, not a file", loc)
	}
	return clean, nil
}

// LoadExternalData reads the bytes of every tensor of m stored as external data (in any
// graph, subgraph, function, attribute, sparse tensor or training graph) into raw_data,
// and clears its external_data and data_location. Locations are relative to dir, normally
// the folder of the model file.
//
// Every reference is checked before any byte is read, following ONNX's
// ExternalDataSecurity.md: unknown or repeated keys, a missing location, absolute paths,
// ".." components, data files that are symbolic links, have more than one hard link, are
// not regular files or resolve (through linked folders) outside dir, negative offsets or
// lengths, ranges past the end of the file, and lengths that differ from the size the
// tensor's type and shape require are all errors naming the tensor and the problem. Each
// data file is opened once and read with ReadAt, so only the tensors' bytes are held in
// memory.
//
// On error m may have some tensors loaded and others not.
func LoadExternalData(m *onnxpb.ModelProto, dir string) error {
	l, err := newExternalLoader(dir)
	if err != nil {
		return err
	}
	defer l.close()
	return forEachTensor(m, func(v tensorVisit) error {
		if !usesExternalData(v.tensor) {
			return nil
		}
		if err := l.load(v.tensor); err != nil {
			return fmt.Errorf("external data of tensor %q (%s): %w", v.tensor.GetName(), v.where(), err)
		}
		return nil
	})
}

// externalLoader reads external data files inside one folder.
type externalLoader struct {
	dir      string   // as given, for messages
	canonDir string   // dir with symbolic links resolved: the containment boundary
	root     *os.Root // opens files without leaving canonDir, even if links change meanwhile
	files    map[string]*dataFile
}

type dataFile struct {
	file *os.File
	size int64
}

func newExternalLoader(dir string) (*externalLoader, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("external data folder %s: %w", dir, err)
	}
	canon, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("external data folder %s: %w", dir, err)
	}
	root, err := os.OpenRoot(canon)
	if err != nil {
		return nil, fmt.Errorf("external data folder %s: %w", dir, err)
	}
	return &externalLoader{dir: dir, canonDir: canon, root: root, files: map[string]*dataFile{}}, nil
}

func (l *externalLoader) close() {
	for _, f := range l.files {
		f.file.Close()
	}
	l.root.Close()
}

// load reads t's external bytes into raw_data.
func (l *externalLoader) load(t *onnxpb.TensorProto) error {
	ref, err := parseExternalRef(t)
	if err != nil {
		return err
	}
	if t.GetDataType() == int32(onnxpb.TensorProto_STRING) {
		return errors.New("STRING tensors cannot be stored as external data")
	}
	// The size the type and shape require, when both are known; unknown element types
	// (from a newer ONNX) fall back to the recorded length.
	want, sizeErr := TensorDataSize(t.GetDataType(), t.GetDims())
	if ref.hasLength && sizeErr == nil && ref.length != want {
		return fmt.Errorf("length %d does not match the %d bytes that %s%v requires",
			ref.length, want, onnxpb.TensorProto_DataType(t.GetDataType()), t.GetDims())
	}
	df, err := l.open(ref.location)
	if err != nil {
		return err
	}
	length := ref.length
	switch {
	case !ref.hasLength && sizeErr == nil:
		length = want
	case !ref.hasLength:
		// As onnx does: the data runs to the end of the file.
		length = max(df.size-ref.offset, 0)
	}
	if ref.offset > df.size {
		return fmt.Errorf("offset %d is past the end of %s (%d bytes)", ref.offset, ref.location, df.size)
	}
	if length > df.size-ref.offset {
		return fmt.Errorf("%d bytes at offset %d run past the end of %s (%d bytes)", length, ref.offset, ref.location, df.size)
	}
	buf := make([]byte, length)
	if _, err := df.file.ReadAt(buf, ref.offset); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s shrank while reading it", ref.location)
		}
		return fmt.Errorf("read %s: %w", ref.location, err)
	}
	t.RawData = buf
	t.ExternalData = nil
	t.DataLocation = nil
	return nil
}

// open returns the data file at location (already cleaned), opening it on first use after
// the checks of ExternalDataSecurity.md: containment of the resolved path (layer 1), no
// symbolic link as the file itself (layer 2), opening through os.Root and checking the
// opened file is the one inspected (layer 3), and a single hard link (layer 4).
func (l *externalLoader) open(location string) (*dataFile, error) {
	if df, ok := l.files[location]; ok {
		return df, nil
	}
	path := filepath.Join(l.canonDir, location)
	lst, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("data file %s: %w", location, unwrapPathError(err))
	}
	if lst.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("data file %s is a symbolic link; external data must be a regular file inside the model's folder", location)
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("data file %s: %w", location, unwrapPathError(err))
	}
	if rel, err := filepath.Rel(l.canonDir, resolved); err != nil || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("data file %s resolves to %s, outside the model's folder %s (through a symbolic link)", location, resolved, l.dir)
	}
	if !lst.Mode().IsRegular() {
		return nil, fmt.Errorf("data file %s is not a regular file (%s)", location, lst.Mode().Type())
	}
	if n, ok := linkCount(lst); ok && n > 1 {
		return nil, fmt.Errorf("data file %s has %d hard links; external data must not be hard-linked", location, n)
	}
	f, err := l.root.Open(location)
	if err != nil {
		return nil, fmt.Errorf("data file %s: %w", location, unwrapPathError(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data file %s: %w", location, err)
	}
	if !os.SameFile(fi, lst) || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("data file %s changed while it was being opened", location)
	}
	if n, ok := linkCount(fi); ok && n > 1 {
		f.Close()
		return nil, fmt.Errorf("data file %s has %d hard links; external data must not be hard-linked", location, n)
	}
	df := &dataFile{file: f, size: fi.Size()}
	l.files[location] = df
	return df, nil
}

// unwrapPathError drops the *PathError wrapper, whose absolute path would repeat what the
// message already says.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
