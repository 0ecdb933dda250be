package hostile

import (
	"bufio"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// WriteLargeModel writes, in dir, a model of k×n float32 weights stored as external data
// (ModelFile and ModelFile+".data"): y = MatMul(x[1,k], W[k,n]). Almost all of its bytes
// are one initializer, so every command's cost is dominated by that tensor, and writing it
// takes one streaming pass (the weights are never held in memory). It returns the model's
// path and the weights' size in bytes; past 2 GiB of weights, the model can only be
// stored this way.
func WriteLargeModel(dir string, k, n int64) (path string, weightBytes int64, err error) {
	weightBytes = 4 * k * n
	f, err := os.Create(filepath.Join(dir, ModelFile+".data"))
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var b [4]byte
	for i := int64(0); i < k*n; i++ {
		// Distinct magnitudes in a short period, both signs, no zeros: pruning has
		// something to rank and quantization a range to fit.
		v := float32(i%4093-2046)/2048 + 1.0/8192
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		return "", 0, err
	}
	if err := f.Close(); err != nil {
		return "", 0, err
	}
	weight := &onnxpb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{k, n},
		DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(), ExternalData: []*onnxpb.StringStringEntryProto{
			{Key: proto.String("location"), Value: proto.String(ModelFile + ".data")},
			{Key: proto.String("offset"), Value: proto.String("0")},
			{Key: proto.String("length"), Value: proto.String(strconv.FormatInt(weightBytes, 10))},
		}}
	g := &onnxpb.GraphProto{
		Name:        proto.String("large"),
		Node:        []*onnxpb.NodeProto{named(node("MatMul", []string{"x", "W"}, []string{"y"}), "matmul")},
		Initializer: []*onnxpb.TensorProto{weight},
		Input:       []*onnxpb.ValueInfoProto{tensorVI("x", onnxpb.TensorProto_FLOAT, 1, k)},
		Output:      []*onnxpb.ValueInfoProto{tensorVI("y", onnxpb.TensorProto_FLOAT, 1, n)},
	}
	if err := writeModel(dir, model(17, g)); err != nil {
		return "", 0, err
	}
	return filepath.Join(dir, ModelFile), weightBytes, nil
}
