package onnx

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// MaxProtoSize is the largest encoded message protobuf readers accept (2 GiB - 1): the
// C++ and Python implementations that ONNX Runtime and onnx use refuse anything larger,
// so a model past it must keep its large tensors in external data.
const MaxProtoSize = math.MaxInt32

// ErrModelTooLarge reports a model whose encoding would exceed MaxProtoSize.
var ErrModelTooLarge = errors.New("model exceeds the 2 GiB protobuf limit")

// Decode parses an ONNX model from its protobuf encoding. Fields this schema does not know
// are kept, so Encode writes them back. The result never aliases data: protobuf copies
// every bytes and string field, so the caller may reuse or unmap data afterwards.
//
// Tensors stored as external data stay references; see LoadExternalData.
func Decode(data []byte) (*onnxpb.ModelProto, error) {
	if len(data) == 0 {
		return nil, errors.New("decode model: empty input (not an ONNX model)")
	}
	m := new(onnxpb.ModelProto)
	if err := (proto.UnmarshalOptions{RecursionLimit: protoRecursionLimit(DefaultLimits)}).Unmarshal(data, m); err != nil {
		if strings.Contains(err.Error(), "exceeded maximum recursion depth") {
			return nil, fmt.Errorf("decode model: %w", &LimitError{What: "protobuf message nesting depth", Limit: protoRecursionLimit(DefaultLimits),
				Note: fmt.Sprintf("subgraphs may nest %d levels, types %d", DefaultLimits.MaxSubgraphDepth, DefaultLimits.MaxTypeDepth)})
		}
		return nil, fmt.Errorf("decode model: %w (truncated file or not an ONNX model?)", err)
	}
	// Arbitrary bytes can happen to form valid protobuf made only of fields ModelProto does
	// not define; such input is not a model, and saying so here beats a confusing error
	// about a missing graph later.
	if !hasKnownField(m) {
		return nil, fmt.Errorf("decode model: %d bytes of protobuf without any ModelProto field (not an ONNX model)", len(data))
	}
	if err := CheckLimits(m, DefaultLimits); err != nil {
		return nil, fmt.Errorf("decode model: %w", err)
	}
	return m, nil
}

// hasKnownField reports whether any field of the ModelProto schema is set.
func hasKnownField(m *onnxpb.ModelProto) bool {
	known := false
	m.ProtoReflect().Range(func(_ protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		known = true
		return false
	})
	return known
}

// Encode returns the protobuf encoding of m. It fails with ErrModelTooLarge, before
// allocating the output, when the encoding would exceed MaxProtoSize: write such a model
// with WriteFile and WriteOptions.ExternalData instead.
func Encode(m *onnxpb.ModelProto) ([]byte, error) {
	if m == nil {
		return nil, errors.New("encode model: nil model")
	}
	size := proto.Size(m)
	if size > MaxProtoSize {
		return nil, fmt.Errorf("encode model: %w: it would take %d bytes; store large tensors as external data", ErrModelTooLarge, size)
	}
	// Size just filled every message's size cache; reusing it saves Marshal a second pass.
	out, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(make([]byte, 0, size), m)
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	return out, nil
}
