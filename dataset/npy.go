package dataset

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// npyMagic starts every .npy file (NumPy's format.py: "\x93NUMPY", major, minor).
var npyMagic = []byte("\x93NUMPY")

// maxNPYHeader bounds the header dict; NumPy writes a few hundred bytes at most.
const maxNPYHeader = 1 << 20

// maxNPYBytes bounds the data a header may claim.
const maxNPYBytes = 1 << 34

// ReadNPY reads one NumPy .npy array: C order, little-endian, element type float32,
// float64, int64, int32, uint8 or bool. Fortran-order arrays, big-endian data, structured
// and object dtypes are refused with an error.
func ReadNPY(r io.Reader) (Tensor, error) {
	br := bufio.NewReader(r)
	var pre [8]byte
	if _, err := io.ReadFull(br, pre[:]); err != nil {
		return Tensor{}, fmt.Errorf("npy: reading magic: %w", noEOF(err))
	}
	if !bytes.Equal(pre[:6], npyMagic) {
		return Tensor{}, fmt.Errorf("npy: bad magic %q", pre[:6])
	}
	var headerLen int
	switch major := pre[6]; major {
	case 1:
		var n [2]byte
		if _, err := io.ReadFull(br, n[:]); err != nil {
			return Tensor{}, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		headerLen = int(binary.LittleEndian.Uint16(n[:]))
	case 2, 3:
		var n [4]byte
		if _, err := io.ReadFull(br, n[:]); err != nil {
			return Tensor{}, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		headerLen = int(binary.LittleEndian.Uint32(n[:]))
	default:
		return Tensor{}, fmt.Errorf("npy: format version %d.%d not supported", major, pre[7])
	}
	if headerLen > maxNPYHeader {
		return Tensor{}, fmt.Errorf("npy: header length %d exceeds %d", headerLen, maxNPYHeader)
	}
	header := make([]byte, headerLen)
	if _, err := io.ReadFull(br, header); err != nil {
		return Tensor{}, fmt.Errorf("npy: reading %d-byte header: %w", headerLen, noEOF(err))
	}
	dtype, shape, err := parseNPYHeader(string(header))
	if err != nil {
		return Tensor{}, fmt.Errorf("npy: header %q: %w", strings.TrimSpace(string(header)), err)
	}
	t := Tensor{DType: dtype, Shape: shape}
	size := t.NumElements() * int64(dtype.Size())
	if size > maxNPYBytes {
		return Tensor{}, fmt.Errorf("npy: shape %v needs %d bytes, more than %d", shape, size, int64(maxNPYBytes))
	}
	data, err := io.ReadAll(io.LimitReader(br, size+1))
	if err != nil {
		return Tensor{}, fmt.Errorf("npy: reading data: %w", err)
	}
	if int64(len(data)) != size {
		what := "truncated"
		if int64(len(data)) > size {
			what = "has trailing bytes"
		}
		return Tensor{}, fmt.Errorf("npy: data %s: %s%v needs %d bytes", what, dtype, shape, size)
	}
	decodeLittleEndian(&t, data)
	return t, nil
}

// decodeLittleEndian fills the slice of t.DType from little-endian bytes; len(data) must be
// a multiple of the element size.
func decodeLittleEndian(t *Tensor, data []byte) {
	n := len(data) / t.DType.Size()
	switch t.DType {
	case Float32:
		t.Float32 = make([]float32, n)
		for i := range t.Float32 {
			t.Float32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case Float64:
		t.Float64 = make([]float64, n)
		for i := range t.Float64 {
			t.Float64[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
	case Int64:
		t.Int64 = make([]int64, n)
		for i := range t.Int64 {
			t.Int64[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
		}
	case Int32:
		t.Int32 = make([]int32, n)
		for i := range t.Int32 {
			t.Int32[i] = int32(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case Uint8:
		t.Uint8 = append([]uint8(nil), data...)
	case Bool:
		t.Bool = make([]bool, n)
		for i, v := range data {
			t.Bool[i] = v != 0
		}
	}
}

// npyDescrs maps NumPy type strings (without the byte-order character) to element types.
var npyDescrs = map[string]DType{
	"f4": Float32, "f8": Float64, "i8": Int64, "i4": Int32, "u1": Uint8, "b1": Bool,
}

// The header is a Python dict literal, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
var (
	npyDescrRE   = regexp.MustCompile(`['"]descr['"]\s*:\s*(['"][^'"]*['"]|\[)`)
	npyFortranRE = regexp.MustCompile(`['"]fortran_order['"]\s*:\s*(True|False)`)
	npyShapeRE   = regexp.MustCompile(`['"]shape['"]\s*:\s*\(([^)]*)\)`)
)

func parseNPYHeader(h string) (DType, []int64, error) {
	m := npyDescrRE.FindStringSubmatch(h)
	if m == nil {
		return 0, nil, errors.New("no 'descr' key")
	}
	if m[1] == "[" {
		return 0, nil, errors.New("structured dtypes are not supported")
	}
	descr := strings.Trim(m[1], `'"`)
	order, code := byte('|'), descr
	if len(descr) > 0 && strings.ContainsRune("<>|=", rune(descr[0])) {
		order, code = descr[0], descr[1:]
	}
	dtype, ok := npyDescrs[code]
	if !ok {
		return 0, nil, fmt.Errorf("dtype %q not supported (want float32, float64, int64, int32, uint8 or bool)", descr)
	}
	if order == '>' && dtype.Size() > 1 {
		return 0, nil, fmt.Errorf("big-endian dtype %q not supported", descr)
	}
	m = npyFortranRE.FindStringSubmatch(h)
	if m == nil {
		return 0, nil, errors.New("no 'fortran_order' key")
	}
	if m[1] == "True" {
		return 0, nil, errors.New("fortran_order arrays are not supported; save with np.ascontiguousarray")
	}
	m = npyShapeRE.FindStringSubmatch(h)
	if m == nil {
		return 0, nil, errors.New("no 'shape' key")
	}
	shape := []int64{}
	for _, f := range strings.Split(m[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue // "(3,)" and "()"
		}
		d, err := strconv.ParseInt(strings.TrimSuffix(f, "L"), 10, 64)
		if err != nil || d < 0 {
			return 0, nil, fmt.Errorf("bad dimension %q in shape", f)
		}
		shape = append(shape, d)
	}
	n := int64(1)
	for _, d := range shape {
		if d != 0 && n > math.MaxInt64/d {
			return 0, nil, fmt.Errorf("shape %v overflows", shape)
		}
		n *= d
	}
	return dtype, shape, nil
}

// ReadNPYFile reads the .npy file at path.
func ReadNPYFile(path string) (Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return Tensor{}, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	t, err := ReadNPY(f)
	if err != nil {
		return Tensor{}, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ReadNPZ reads every array of a .npz file (a zip of .npy files, stored or deflated, as
// np.savez and np.savez_compressed write them), in archive order. Each tensor is named after
// its entry without ".npy"; NumPy's positional names arr_0, arr_1, ... become empty names.
func ReadNPZ(path string) ([]Tensor, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("npz: %w", err)
	}
	defer zr.Close()
	var out []Tensor
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if !strings.HasSuffix(f.Name, ".npy") {
			return nil, fmt.Errorf("npz %s: entry %q is not a .npy file", path, f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("npz %s: entry %q: %w", path, f.Name, err)
		}
		t, err := ReadNPY(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("npz %s: entry %q: %w", path, f.Name, err)
		}
		t.Name = strings.TrimSuffix(f.Name, ".npy")
		if positionalName.MatchString(t.Name) {
			t.Name = ""
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("npz %s: no arrays", path)
	}
	return out, nil
}

var positionalName = regexp.MustCompile(`^arr_[0-9]+$`)

// LabelArrayNames are the .npz entry names read as labels rather than model inputs.
var LabelArrayNames = []string{"labels", "label", "y"}

// OpenNPY returns a Dataset over the single array of a .npy file, an unnamed input whose
// first dimension is the batch.
func OpenNPY(path string) (*Arrays, error) {
	t, err := ReadNPYFile(path)
	if err != nil {
		return nil, err
	}
	ds, err := NewArrays([]Tensor{t}, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

// OpenNPZ returns a Dataset over the arrays of a .npz file: an integer array named as in
// LabelArrayNames becomes the labels, every other array a model input.
func OpenNPZ(path string) (*Arrays, error) {
	arrays, err := ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	var inputs []Tensor
	var labels []int64
	for i := range arrays {
		t := &arrays[i]
		if isLabelName(t.Name) {
			if labels != nil {
				return nil, fmt.Errorf("npz %s: more than one label array", path)
			}
			if len(t.Shape) != 1 {
				return nil, fmt.Errorf("npz %s: labels %s must be one-dimensional", path, t)
			}
			if labels, err = t.AsInt64(); err != nil {
				return nil, fmt.Errorf("npz %s: %w", path, err)
			}
			continue
		}
		inputs = append(inputs, *t)
	}
	ds, err := NewArrays(inputs, labels, nil)
	if err != nil {
		return nil, fmt.Errorf("npz %s: %w", path, err)
	}
	return ds, nil
}

func isLabelName(name string) bool {
	for _, l := range LabelArrayNames {
		if name == l {
			return true
		}
	}
	return false
}
