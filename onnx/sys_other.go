//go:build !unix

package onnx

import (
	"errors"
	"io/fs"
	"os"
)

// mapFile is not available on this platform; the caller falls back to reading the file.
func mapFile(f *os.File, size int64) (data []byte, unmap func() error, err error) {
	return nil, nil, errors.ErrUnsupported
}

// linkCount is not available on this platform; hard links then go undetected.
func linkCount(fi fs.FileInfo) (uint64, bool) {
	return 0, false
}
