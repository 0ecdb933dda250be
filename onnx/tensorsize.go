package onnx

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// elementBits gives the storage width in bits of one element of each fixed-size ONNX data
// type, as laid out in raw_data. STRING and UNDEFINED are absent: they have no fixed width.
var elementBits = map[onnxpb.TensorProto_DataType]int64{
	onnxpb.TensorProto_FLOAT:          32,
	onnxpb.TensorProto_UINT8:          8,
	onnxpb.TensorProto_INT8:           8,
	onnxpb.TensorProto_UINT16:         16,
	onnxpb.TensorProto_INT16:          16,
	onnxpb.TensorProto_INT32:          32,
	onnxpb.TensorProto_INT64:          64,
	onnxpb.TensorProto_BOOL:           8,
	onnxpb.TensorProto_FLOAT16:        16,
	onnxpb.TensorProto_DOUBLE:         64,
	onnxpb.TensorProto_UINT32:         32,
	onnxpb.TensorProto_UINT64:         64,
	onnxpb.TensorProto_COMPLEX64:      64,
	onnxpb.TensorProto_COMPLEX128:     128,
	onnxpb.TensorProto_BFLOAT16:       16,
	onnxpb.TensorProto_FLOAT8E4M3FN:   8,
	onnxpb.TensorProto_FLOAT8E4M3FNUZ: 8,
	onnxpb.TensorProto_FLOAT8E5M2:     8,
	onnxpb.TensorProto_FLOAT8E5M2FNUZ: 8,
	onnxpb.TensorProto_UINT4:          4,
	onnxpb.TensorProto_INT4:           4,
	onnxpb.TensorProto_FLOAT4E2M1:     4,
	onnxpb.TensorProto_FLOAT8E8M0:     8,
	onnxpb.TensorProto_UINT2:          2,
	onnxpb.TensorProto_INT2:           2,
}

// TensorDataSize returns the number of bytes that raw_data (or an external data record)
// holds for a tensor of the given element type and shape. Sub-byte types are packed: two
// 4-bit or four 2-bit elements per byte, the last byte padded. A scalar (no dims) has one
// element; any zero dimension gives zero bytes.
//
// It fails for STRING (no fixed width), UNDEFINED or unknown types, negative dimensions,
// and sizes that do not fit in an int64.
func TensorDataSize(dataType int32, dims []int64) (int64, error) {
	dt := onnxpb.TensorProto_DataType(dataType)
	bits, ok := elementBits[dt]
	if !ok {
		if dt == onnxpb.TensorProto_STRING {
			return 0, fmt.Errorf("tensor size: STRING elements have no fixed size")
		}
		return 0, fmt.Errorf("tensor size: unknown data type %d", dataType)
	}
	for i, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("tensor size: dimension %d is negative (%d)", i, d)
		}
		if d == 0 {
			// Checked before multiplying: [huge, huge, 0] is empty, not an overflow.
			return 0, nil
		}
	}
	count := int64(1)
	for _, d := range dims {
		if count > math.MaxInt64/d {
			return 0, fmt.Errorf("tensor size: element count of shape %v overflows int64", dims)
		}
		count *= d
	}
	if bits < 8 {
		perByte := 8 / bits
		size := count / perByte
		if count%perByte != 0 {
			size++
		}
		return size, nil
	}
	width := bits / 8
	if count > math.MaxInt64/width {
		return 0, fmt.Errorf("tensor size: byte size of shape %v overflows int64", dims)
	}
	return count * width, nil
}
