package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// IDX is the content of an IDX file, the format of MNIST and Fashion-MNIST: a big-endian
// header with the dimensions, then unsigned bytes in row-major order.
type IDX struct {
	Dims []int
	Data []byte
}

// idxUint8 is the IDX type code for unsigned bytes, the only one the datasets use.
const idxUint8 = 0x08

// maxIDXBytes bounds what a header may claim, so a corrupt header cannot make ReadIDX
// allocate or wait for gigabytes.
const maxIDXBytes = 1 << 31

// ReadIDX reads an IDX file, gzip-compressed or plain (told apart by the gzip magic bytes).
func ReadIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: gzip: %w", err)
		}
		defer zr.Close()
		return readIDX(zr)
	}
	return readIDX(br)
}

func readIDX(r io.Reader) (*IDX, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("idx: reading magic: %w", noEOF(err))
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("idx: bad magic % x (want 00 00 type ndim)", head)
	}
	if head[2] != idxUint8 {
		return nil, fmt.Errorf("idx: element type 0x%02x not supported (only unsigned bytes, 0x08)", head[2])
	}
	ndim := int(head[3])
	if ndim == 0 {
		return nil, errors.New("idx: zero dimensions")
	}
	raw := make([]byte, 4*ndim)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("idx: reading %d dimensions: %w", ndim, noEOF(err))
	}
	dims := make([]int, ndim)
	size := int64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(raw[4*i:])
		dims[i] = int(d)
		size *= int64(d)
		if size > maxIDXBytes {
			return nil, fmt.Errorf("idx: dimensions %v exceed %d bytes", dims[:i+1], maxIDXBytes)
		}
	}
	// Read at most one byte more than the header promises: enough to notice trailing data
	// without trusting the header for the allocation.
	data, err := io.ReadAll(io.LimitReader(r, size+1))
	if err != nil {
		return nil, fmt.Errorf("idx: reading data: %w", err)
	}
	if int64(len(data)) != size {
		what := "truncated"
		if int64(len(data)) > size {
			what = "has trailing bytes"
		}
		return nil, fmt.Errorf("idx: data %s: header %v needs %d bytes", what, dims, size)
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// noEOF turns a bare EOF into ErrUnexpectedEOF: inside a header an end of file is truncation.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadIDXFile reads the IDX file at path, or at path+".gz" when path does not exist.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.Open(path + ".gz")
		if err == nil {
			path += ".gz"
		}
	}
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	idx, err := ReadIDX(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return idx, nil
}

// Images is a Dataset of grayscale images from an IDX file of shape [N,H,W], with optional
// labels from a second IDX file of shape [N]. Each batch is one float32 tensor [n,1,H,W]
// with the pixels scaled from 0..255 to [0,1].
type Images struct {
	// InputName names the batch tensor; "input" for the models in testmodels/.
	InputName string
	Pixels    *IDX
	Labels    []int64 // nil when unlabelled
}

// NewImages checks that pixels are [N,H,W] and labels (when not nil) are [N].
func NewImages(inputName string, pixels, labels *IDX) (*Images, error) {
	if len(pixels.Dims) != 3 {
		return nil, fmt.Errorf("idx images: want dimensions [N,H,W], have %v", pixels.Dims)
	}
	d := &Images{InputName: inputName, Pixels: pixels}
	if labels != nil {
		if len(labels.Dims) != 1 || labels.Dims[0] != pixels.Dims[0] {
			return nil, fmt.Errorf("idx labels: want dimensions [%d], have %v", pixels.Dims[0], labels.Dims)
		}
		d.Labels = make([]int64, len(labels.Data))
		for i, v := range labels.Data {
			d.Labels[i] = int64(v)
		}
	}
	return d, nil
}

// Len returns the number of images.
func (d *Images) Len() int { return d.Pixels.Dims[0] }

// Batch converts images [start, start+n) to float32 [n,1,H,W] in [0,1].
func (d *Images) Batch(start, n int) (Batch, error) {
	if err := checkRange(start, n, d.Len()); err != nil {
		return Batch{}, err
	}
	h, w := d.Pixels.Dims[1], d.Pixels.Dims[2]
	src := d.Pixels.Data[start*h*w : (start+n)*h*w]
	pix := make([]float32, len(src))
	for i, v := range src {
		pix[i] = float32(v) / 255
	}
	b := Batch{Inputs: []Tensor{{
		Name: d.InputName, DType: Float32, Float32: pix,
		Shape: []int64{int64(n), 1, int64(h), int64(w)},
	}}}
	if d.Labels != nil {
		b.Labels = d.Labels[start : start+n : start+n]
	}
	return b, nil
}

// FashionMNISTEnv names the environment variable that overrides the default Fashion-MNIST
// folder.
const FashionMNISTEnv = "WHITTLE_FASHION_MNIST"

// DefaultFashionMNISTDir is where Debian's dataset-fashion-mnist package installs the files.
const DefaultFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTDir returns $WHITTLE_FASHION_MNIST, or DefaultFashionMNISTDir when unset.
func FashionMNISTDir() string {
	if dir := os.Getenv(FashionMNISTEnv); dir != "" {
		return dir
	}
	return DefaultFashionMNISTDir
}

// FashionMNIST opens split "train" (60,000 images) or "test" (10,000) from the IDX files in
// dir (train-images-idx3-ubyte, t10k-labels-idx1-ubyte, ..., each plain or .gz). The input
// is named "input", as in the models of testmodels/.
func FashionMNIST(dir, split string) (*Images, error) {
	prefix := map[string]string{"train": "train", "test": "t10k"}[split]
	if prefix == "" {
		return nil, fmt.Errorf("fashion-mnist: unknown split %q (want train or test)", split)
	}
	pixels, err := ReadIDXFile(filepath.Join(dir, prefix+"-images-idx3-ubyte"))
	if err != nil {
		return nil, fmt.Errorf("fashion-mnist %s: %w", split, err)
	}
	labels, err := ReadIDXFile(filepath.Join(dir, prefix+"-labels-idx1-ubyte"))
	if err != nil {
		return nil, fmt.Errorf("fashion-mnist %s: %w", split, err)
	}
	d, err := NewImages("input", pixels, labels)
	if err != nil {
		return nil, fmt.Errorf("fashion-mnist %s in %s: %w", split, dir, err)
	}
	return d, nil
}
