package checker

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// dataField describes which typed field holds a data type's values, and how many
// field entries n elements take.
type dataField struct {
	name  string
	count func(n int64) int64
}

func perElement(n int64) int64  { return n }
func twoPerValue(n int64) int64 { return 2 * n } // complex: real and imaginary parts
func packed4(n int64) int64     { return (n + 1) / 2 }
func packed2(n int64) int64     { return (n + 3) / 4 }

// typedFields maps each data type to its typed data field, as onnx.proto documents.
var typedFields = map[onnxpb.TensorProto_DataType]dataField{
	onnxpb.TensorProto_FLOAT:          {"float_data", perElement},
	onnxpb.TensorProto_COMPLEX64:      {"float_data", twoPerValue},
	onnxpb.TensorProto_DOUBLE:         {"double_data", perElement},
	onnxpb.TensorProto_COMPLEX128:     {"double_data", twoPerValue},
	onnxpb.TensorProto_INT32:          {"int32_data", perElement},
	onnxpb.TensorProto_INT16:          {"int32_data", perElement},
	onnxpb.TensorProto_INT8:           {"int32_data", perElement},
	onnxpb.TensorProto_UINT16:         {"int32_data", perElement},
	onnxpb.TensorProto_UINT8:          {"int32_data", perElement},
	onnxpb.TensorProto_BOOL:           {"int32_data", perElement},
	onnxpb.TensorProto_FLOAT16:        {"int32_data", perElement},
	onnxpb.TensorProto_BFLOAT16:       {"int32_data", perElement},
	onnxpb.TensorProto_FLOAT8E4M3FN:   {"int32_data", perElement},
	onnxpb.TensorProto_FLOAT8E4M3FNUZ: {"int32_data", perElement},
	onnxpb.TensorProto_FLOAT8E5M2:     {"int32_data", perElement},
	onnxpb.TensorProto_FLOAT8E5M2FNUZ: {"int32_data", perElement},
	onnxpb.TensorProto_FLOAT8E8M0:     {"int32_data", perElement},
	onnxpb.TensorProto_INT4:           {"int32_data", packed4},
	onnxpb.TensorProto_UINT4:          {"int32_data", packed4},
	onnxpb.TensorProto_FLOAT4E2M1:     {"int32_data", packed4},
	onnxpb.TensorProto_INT2:           {"int32_data", packed2},
	onnxpb.TensorProto_UINT2:          {"int32_data", packed2},
	onnxpb.TensorProto_INT64:          {"int64_data", perElement},
	onnxpb.TensorProto_UINT32:         {"uint64_data", perElement},
	onnxpb.TensorProto_UINT64:         {"uint64_data", perElement},
	onnxpb.TensorProto_STRING:         {"string_data", perElement},
}

// elementCount returns the product of dims, or an explanation when a dim is negative or
// the product overflows int64.
func elementCount(dims []int64) (int64, string) {
	for i, d := range dims {
		if d < 0 {
			return 0, fmt.Sprintf("dims[%d] is negative (%d)", i, d)
		}
	}
	n := int64(1)
	for _, d := range dims {
		if d == 0 {
			return 0, ""
		}
	}
	for _, d := range dims {
		if n > math.MaxInt64/d {
			return 0, fmt.Sprintf("the element count of dims %v overflows int64", dims)
		}
		n *= d
	}
	return n, ""
}

// checkTensor checks a dense tensor; field names it in reports.
func (ck *checker) checkTensor(c ctx, field string, t *onnxpb.TensorProto) {
	if t.DataType == nil {
		ck.report(c, field, "tensor has no data_type")
		return
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	if dt == onnxpb.TensorProto_UNDEFINED {
		ck.report(c, field, "tensor data_type is UNDEFINED")
		return
	}
	layout, known := typedFields[dt]
	if !known {
		ck.report(c, field, "tensor data_type %d is not a known type", t.GetDataType())
		return
	}
	n, dimProblem := elementCount(t.GetDims())
	if dimProblem != "" {
		ck.report(c, field, "tensor %s", dimProblem)
	}

	var used []string
	lengths := map[string]int64{}
	note := func(name string, length int) {
		if length > 0 {
			used = append(used, name)
			lengths[name] = int64(length)
		}
	}
	note("float_data", len(t.GetFloatData()))
	note("int32_data", len(t.GetInt32Data()))
	note("string_data", len(t.GetStringData()))
	note("int64_data", len(t.GetInt64Data()))
	note("raw_data", len(t.GetRawData()))
	note("double_data", len(t.GetDoubleData()))
	note("uint64_data", len(t.GetUint64Data()))

	external := t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL
	if len(t.GetExternalData()) > 0 && !external {
		ck.report(c, field, "tensor has external_data entries but data_location is not EXTERNAL")
	}
	if external {
		if len(used) > 0 {
			ck.report(c, field, "tensor is stored externally but also sets %s", strings.Join(used, ", "))
		}
		ck.checkExternalData(c, field, t, dimProblem == "")
		return
	}
	if dimProblem != "" || t.Segment != nil {
		return // the expected sizes are unknown (or, for a segment, partial)
	}
	switch {
	case n == 0 && len(used) > 0:
		ck.report(c, field, "tensor has no elements but sets %s", strings.Join(used, ", "))
		return
	case n > 0 && len(used) == 0:
		ck.report(c, field, "tensor has %d elements but no data field is set", n)
		return
	case len(used) > 1:
		ck.report(c, field, "tensor sets more than one data field (%s)", strings.Join(used, ", "))
		return
	case n == 0:
		return
	}
	if used[0] == "raw_data" {
		if dt == onnxpb.TensorProto_STRING {
			ck.report(c, field, "STRING tensor must use string_data, not raw_data")
			return
		}
		want, err := onnx.TensorDataSize(t.GetDataType(), t.GetDims())
		if err != nil {
			ck.report(c, field, "tensor: %v", err)
		} else if got := lengths["raw_data"]; got != want {
			ck.report(c, field, "tensor raw_data holds %d bytes, %s of shape %v needs %d", got, dt, t.GetDims(), want)
		}
		return
	}
	if used[0] != layout.name {
		ck.report(c, field, "%s tensor must store its values in %s (or raw_data), not %s", dt, layout.name, used[0])
		return
	}
	if got, want := lengths[used[0]], layout.count(n); got != want {
		ck.report(c, field, "tensor %s holds %d values, %s of shape %v needs %d", used[0], got, dt, t.GetDims(), want)
	}
}

// checkExternalData checks the external_data entries of a tensor stored outside the model
// file, and with Options.ModelDir the file itself.
func (ck *checker) checkExternalData(c ctx, field string, t *onnxpb.TensorProto, sizeKnown bool) {
	entries := map[string]string{}
	for _, e := range t.GetExternalData() {
		if _, dup := entries[e.GetKey()]; dup {
			ck.report(c, field, "external_data key %q appears more than once", e.GetKey())
		}
		entries[e.GetKey()] = e.GetValue()
	}
	location, ok := entries["location"]
	if !ok {
		ck.report(c, field, "external tensor has no location")
		return
	}
	offset, length := int64(0), int64(-1)
	for _, key := range []string{"offset", "length"} {
		s, ok := entries[key]
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			ck.report(c, field, "external_data %s %q is not a non-negative integer", key, s)
			return
		}
		if key == "offset" {
			offset = v
		} else {
			length = v
		}
	}
	rel, msg := safeRelativePath(location)
	if msg != "" {
		ck.report(c, field, "external data location %q %s", location, msg)
		return
	}
	if ck.opts.ModelDir == "" {
		return
	}
	fileSize, msg := externalFileSize(ck.opts.ModelDir, rel)
	if msg != "" {
		ck.report(c, field, "external data file %q %s", location, msg)
		return
	}
	if !ck.opts.FullCheck || !sizeKnown {
		return
	}
	dt := t.GetDataType()
	if onnxpb.TensorProto_DataType(dt) == onnxpb.TensorProto_STRING {
		ck.report(c, field, "STRING tensors cannot be stored as external data")
		return
	}
	want, err := onnx.TensorDataSize(dt, t.GetDims())
	if err != nil {
		ck.report(c, field, "tensor: %v", err)
		return
	}
	if length >= 0 && length != want {
		ck.report(c, field, "external data length %d differs from the tensor size %d", length, want)
	}
	if offset > fileSize || want > fileSize-offset {
		ck.report(c, field, "external data range [%d, %d) lies beyond the end of %q (%d bytes)", offset, offset+want, location, fileSize)
	}
}

// safeRelativePath cleans an external-data location and rejects absolute paths and paths
// leaving the model folder; it returns a message saying what is wrong, or "".
func safeRelativePath(location string) (string, string) {
	if location == "" {
		return "", "is empty"
	}
	if filepath.IsAbs(location) || strings.HasPrefix(location, "/") || strings.HasPrefix(location, `\`) || filepath.VolumeName(location) != "" {
		return "", "is an absolute path; it must be relative to the model folder"
	}
	rel := filepath.Clean(filepath.FromSlash(location))
	if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", "points outside the model folder"
	}
	return rel, ""
}

// externalFileSize returns the size of dir/rel after checking that it is a regular file
// inside dir, reached without symbolic links, and not hard-linked elsewhere.
func externalFileSize(dir, rel string) (int64, string) {
	path := filepath.Join(dir, rel)
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, "does not exist or is not accessible"
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return 0, "is a symbolic link"
	}
	if !fi.Mode().IsRegular() {
		return 0, "is not a regular file"
	}
	realDir, err1 := filepath.EvalSymlinks(dir)
	realPath, err2 := filepath.EvalSymlinks(path)
	if err1 != nil || err2 != nil {
		return 0, "cannot be resolved"
	}
	if r, err := filepath.Rel(realDir, realPath); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return 0, "resolves outside the model folder (through a symbolic link)"
	}
	if links, ok := linkCount(fi); ok && links > 1 {
		return 0, "has more than one hard link"
	}
	return fi.Size(), ""
}

// checkSparseTensor checks a sparse tensor: values of shape [NNZ], positive dims, and
// INT64 indices of shape [NNZ] (linear) or [NNZ, rank], in bounds and strictly increasing.
func (ck *checker) checkSparseTensor(c ctx, field string, st *onnxpb.SparseTensorProto) {
	values := st.GetValues()
	if values == nil {
		ck.report(c, field, "sparse tensor has no values")
		return
	}
	ck.checkTensor(c, field+" values", values)
	if len(values.GetDims()) != 1 {
		ck.report(c, field, "sparse tensor values must have rank 1, not %d", len(values.GetDims()))
		return
	}
	nnz := values.GetDims()[0]
	dims := st.GetDims()
	if len(dims) == 0 {
		ck.report(c, field, "sparse tensor must have a rank > 0")
		return
	}
	for i, d := range dims {
		if d <= 0 {
			ck.report(c, field, "sparse tensor dims[%d] is %d; dimensions must be positive", i, d)
			return
		}
	}
	dense, msg := elementCount(dims)
	if msg != "" {
		ck.report(c, field, "sparse tensor %s", msg)
		return
	}
	indices := st.GetIndices()
	if indices == nil {
		if nnz != 0 {
			ck.report(c, field, "sparse tensor has %d values but no indices", nnz)
		}
		return
	}
	ck.checkTensor(c, field+" indices", indices)
	if onnxpb.TensorProto_DataType(indices.GetDataType()) != onnxpb.TensorProto_INT64 {
		ck.report(c, field, "sparse tensor indices must be INT64")
		return
	}
	idims := indices.GetDims()
	rank := int64(len(dims))
	switch {
	case len(idims) == 1:
		if idims[0] != nnz {
			ck.report(c, field, "sparse tensor has %d indices for %d values", idims[0], nnz)
			return
		}
	case len(idims) == 2:
		if idims[0] != nnz || idims[1] != rank {
			ck.report(c, field, "sparse tensor indices have shape %v, want [%d, %d] (NNZ, rank)", idims, nnz, rank)
			return
		}
	default:
		ck.report(c, field, "sparse tensor indices must have rank 1 or 2, not %d", len(idims))
		return
	}
	data, ok := int64Values(indices)
	if !ok {
		return // external, or malformed (reported by checkTensor): values cannot be read
	}
	perValue := int64(1)
	if len(idims) == 2 {
		perValue = rank
	}
	if int64(len(data))%perValue != 0 || int64(len(data))/perValue != nnz {
		return // size mismatch, reported by checkTensor
	}
	prev := int64(-1)
	for i := int64(0); i < nnz; i++ {
		var linear int64
		if len(idims) == 1 {
			linear = data[i]
			if linear < 0 || linear >= dense {
				ck.report(c, field, "sparse tensor index %d at position %d is out of range [0, %d)", linear, i, dense)
				return
			}
		} else {
			for j := int64(0); j < rank; j++ {
				v := data[i*rank+j]
				if v < 0 || v >= dims[j] {
					ck.report(c, field, "sparse tensor index %d at position [%d, %d] is out of range [0, %d)", v, i, j, dims[j])
					return
				}
				linear = linear*dims[j] + v
			}
		}
		if linear <= prev {
			ck.report(c, field, "sparse tensor indices are not strictly increasing at position %d", i)
			return
		}
		prev = linear
	}
}

// int64Values returns the values of an INT64 tensor held in int64_data or raw_data.
func int64Values(t *onnxpb.TensorProto) ([]int64, bool) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, false
	}
	if raw := t.GetRawData(); len(raw) > 0 {
		if len(raw)%8 != 0 {
			return nil, false
		}
		out := make([]int64, len(raw)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		return out, true
	}
	return t.GetInt64Data(), true
}
