package dataset

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// idxBytes builds an unsigned-byte IDX file.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, idxUint8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// npyBytes builds a .npy file the way numpy.lib.format writes it: the header dict padded
// with spaces and a newline so the data starts on a 64-byte boundary.
func npyBytes(major byte, header string, payload []byte) []byte {
	lenSize := 2
	if major >= 2 {
		lenSize = 4
	}
	pre := 6 + 2 + lenSize
	header += " "
	for (pre+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	var b bytes.Buffer
	b.Write(npyMagic)
	b.Write([]byte{major, 0})
	if major >= 2 {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	}
	b.WriteString(header)
	b.Write(payload)
	return b.Bytes()
}

func npyHeader(descr string, fortran bool, shape string) string {
	f := "False"
	if fortran {
		f = "True"
	}
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
}

// leBytes encodes values little-endian.
func leBytes(values any) []byte {
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, values); err != nil {
		panic(err)
	}
	return b.Bytes()
}

type zipEntry struct {
	name   string
	data   []byte
	method uint16
}

func writeZip(t *testing.T, path string, entries []zipEntry) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, path, b.Bytes())
}

// writeFashionMNIST writes a tiny Fashion-MNIST-shaped dataset: n images of 28x28 whose
// pixel i of image k is (k+i)%256, labels k%10. The train files are plain, the test gzipped.
func writeFashionMNIST(t *testing.T, dir string, nTrain, nTest int) {
	t.Helper()
	for _, split := range []struct {
		prefix string
		n      int
		gz     bool
	}{{"train", nTrain, false}, {"t10k", nTest, true}} {
		pix := make([]byte, split.n*28*28)
		for i := range pix {
			pix[i] = byte(i/(28*28) + i%(28*28))
		}
		labels := make([]byte, split.n)
		for i := range labels {
			labels[i] = byte(i % 10)
		}
		images, lab := idxBytes([]int{split.n, 28, 28}, pix), idxBytes([]int{split.n}, labels)
		suffix := ""
		if split.gz {
			images, lab, suffix = gzipBytes(t, images), gzipBytes(t, lab), ".gz"
		}
		writeFile(t, filepath.Join(dir, split.prefix+"-images-idx3-ubyte"+suffix), images)
		writeFile(t, filepath.Join(dir, split.prefix+"-labels-idx1-ubyte"+suffix), lab)
	}
}
