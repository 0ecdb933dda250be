package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

type ioWriter = io.Writer

var npyDescr = map[ir.DataType]string{
	ir.Float: "<f4", ir.Double: "<f8", ir.Int64: "<i8", ir.Int32: "<i4", ir.Int16: "<i2", ir.Int8: "|i1",
	ir.Uint8: "|u1", ir.Uint16: "<u2", ir.Uint32: "<u4", ir.Uint64: "<u8", ir.Bool: "|b1", ir.Float16: "<f2",
}

// encodeNPY writes a tensor in NumPy's .npy format (version 1.0, C order).
func encodeNPY(t *runtime.Tensor) ([]byte, error) {
	descr, ok := npyDescr[t.DType]
	if !ok {
		return nil, fmt.Errorf("element type %s has no .npy form", t.DType)
	}
	raw, err := kernel.ToIR("", t)
	if err != nil {
		return nil, err
	}
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = fmt.Sprint(d)
	}
	shape := strings.Join(dims, ", ")
	if len(t.Shape) == 1 {
		shape += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	// Pad so that the data starts on a 64-byte boundary, ending the header with a newline.
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	b.WriteByte(byte(len(header)))
	b.WriteByte(byte(len(header) >> 8))
	b.WriteString(header)
	b.Write(raw.Raw)
	return b.Bytes(), nil
}
