package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/whittle-ml/whittle/ir"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// TensorFromProto converts a TensorProto, whichever data field it uses, to an ir.Tensor
// holding packed little-endian bytes (or strings). It fails when the data does not match
// the element type.
func TensorFromProto(p *pb.TensorProto) (*ir.Tensor, error) {
	t := &ir.Tensor{
		Name:      p.GetName(),
		DataType:  ir.DataType(p.GetDataType()),
		Dims:      append([]int64(nil), p.GetDims()...),
		DocString: p.GetDocString(),
		Metadata:  pairsFromProto(p.GetMetadataProps()),
	}
	if p.Segment != nil {
		t.Segment = &ir.Segment{Begin: p.Segment.GetBegin(), End: p.Segment.GetEnd()}
	}
	fail := func(field string) (*ir.Tensor, error) {
		return nil, fmt.Errorf("tensor %q: %s cannot hold %s data", t.Name, field, t.DataType)
	}
	le := binary.LittleEndian
	switch {
	case p.GetDataLocation() == pb.TensorProto_EXTERNAL:
		ext := &ir.ExternalData{Length: -1}
		for _, kv := range p.GetExternalData() {
			switch kv.GetKey() {
			case "location":
				ext.Location = kv.GetValue()
			case "offset":
				n, err := strconv.ParseInt(kv.GetValue(), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("tensor %q: external data offset %q: %w", t.Name, kv.GetValue(), err)
				}
				ext.Offset = n
			case "length":
				n, err := strconv.ParseInt(kv.GetValue(), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("tensor %q: external data length %q: %w", t.Name, kv.GetValue(), err)
				}
				ext.Length = n
			case "checksum":
				ext.Checksum = kv.GetValue()
			default:
				ext.Extra = append(ext.Extra, ir.StringPair{Key: kv.GetKey(), Value: kv.GetValue()})
			}
		}
		t.External = ext
	case t.DataType == ir.String:
		if p.RawData != nil || len(p.GetFloatData())+len(p.GetInt32Data())+len(p.GetInt64Data())+len(p.GetDoubleData())+len(p.GetUint64Data()) > 0 {
			return fail("a numeric field")
		}
		t.Strings = make([][]byte, len(p.GetStringData()))
		copy(t.Strings, p.GetStringData())
	case p.RawData != nil:
		t.Raw = p.RawData
	case len(p.GetFloatData()) > 0:
		if t.DataType != ir.Float && t.DataType != ir.Complex64 {
			return fail("float_data")
		}
		d := p.GetFloatData()
		t.Raw = make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(t.Raw[4*i:], math.Float32bits(v))
		}
	case len(p.GetDoubleData()) > 0:
		if t.DataType != ir.Double && t.DataType != ir.Complex128 {
			return fail("double_data")
		}
		d := p.GetDoubleData()
		t.Raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(t.Raw[8*i:], math.Float64bits(v))
		}
	case len(p.GetInt64Data()) > 0:
		if t.DataType != ir.Int64 {
			return fail("int64_data")
		}
		d := p.GetInt64Data()
		t.Raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(t.Raw[8*i:], uint64(v))
		}
	case len(p.GetUint64Data()) > 0:
		d := p.GetUint64Data()
		switch t.DataType {
		case ir.Uint64:
			t.Raw = make([]byte, 8*len(d))
			for i, v := range d {
				le.PutUint64(t.Raw[8*i:], v)
			}
		case ir.Uint32:
			t.Raw = make([]byte, 4*len(d))
			for i, v := range d {
				le.PutUint32(t.Raw[4*i:], uint32(v))
			}
		default:
			return fail("uint64_data")
		}
	case len(p.GetInt32Data()) > 0:
		d := p.GetInt32Data()
		switch t.DataType {
		case ir.Int32:
			t.Raw = make([]byte, 4*len(d))
			for i, v := range d {
				le.PutUint32(t.Raw[4*i:], uint32(v))
			}
		case ir.Int16, ir.Uint16, ir.Float16, ir.BFloat16:
			t.Raw = make([]byte, 2*len(d))
			for i, v := range d {
				le.PutUint16(t.Raw[2*i:], uint16(v))
			}
		case ir.Int8, ir.Uint8, ir.Bool, ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Float8E8M0,
			// Sub-byte types keep one packed byte per int32 entry.
			ir.Int4, ir.Uint4, ir.Float4E2M1, ir.Int2, ir.Uint2:
			t.Raw = make([]byte, len(d))
			for i, v := range d {
				t.Raw[i] = byte(v)
			}
		default:
			return fail("int32_data")
		}
	default:
		// No data field: an empty tensor (or one whose data is genuinely missing, which the
		// checker reports by size).
		t.Raw = []byte{}
	}
	return t, nil
}

// TensorToProto converts an ir.Tensor to a TensorProto; data goes in raw_data (string
// tensors in string_data). The proto shares the tensor's bytes.
func TensorToProto(t *ir.Tensor) *pb.TensorProto {
	p := &pb.TensorProto{
		Dims:          append([]int64(nil), t.Dims...),
		DataType:      proto.Int32(int32(t.DataType)),
		MetadataProps: pairsToProto(t.Metadata),
	}
	if t.Name != "" {
		p.Name = proto.String(t.Name)
	}
	if t.DocString != "" {
		p.DocString = proto.String(t.DocString)
	}
	if t.Segment != nil {
		p.Segment = &pb.TensorProto_Segment{Begin: proto.Int64(t.Segment.Begin), End: proto.Int64(t.Segment.End)}
	}
	switch {
	case t.External != nil:
		e := t.External
		p.DataLocation = pb.TensorProto_EXTERNAL.Enum()
		kv := []ir.StringPair{{Key: "location", Value: e.Location}}
		if e.Offset != 0 {
			kv = append(kv, ir.StringPair{Key: "offset", Value: strconv.FormatInt(e.Offset, 10)})
		}
		if e.Length >= 0 {
			kv = append(kv, ir.StringPair{Key: "length", Value: strconv.FormatInt(e.Length, 10)})
		}
		if e.Checksum != "" {
			kv = append(kv, ir.StringPair{Key: "checksum", Value: e.Checksum})
		}
		kv = append(kv, e.Extra...)
		p.ExternalData = pairsToProto(kv)
	case t.DataType == ir.String:
		p.StringData = make([][]byte, len(t.Strings))
		copy(p.StringData, t.Strings)
	default:
		if t.Raw == nil {
			p.RawData = []byte{}
		} else {
			p.RawData = t.Raw
		}
	}
	return p
}
