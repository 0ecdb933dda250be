package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Case is one backend test: a model and its data sets.
type Case struct {
	Name     string
	Dir      string
	Model    *ir.Model
	DataSets []DataSet
}

// DataSet is one test_data_set_N folder: inputs and expected outputs in graph order.
type DataSet struct {
	Name    string
	Inputs  []*kernel.Tensor
	Outputs []*kernel.Tensor
}

// LoadCase reads a case folder: model.onnx and every test_data_set_N/{input,output}_K.pb,
// decoding each file as the proto the model's declared type calls for (TensorProto,
// SequenceProto or OptionalProto).
func LoadCase(dir string) (*Case, error) {
	m, err := onnx.LoadModel(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return nil, err
	}
	c := &Case{Name: filepath.Base(dir), Dir: dir, Model: m}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var sets []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "test_data_set_") {
			sets = append(sets, e.Name())
		}
	}
	sort.Slice(sets, func(i, j int) bool { return numSuffix(sets[i]) < numSuffix(sets[j]) })
	// Graph inputs that carry an initializer are not fed by data sets (IR < 4 models list
	// their weights as inputs).
	var feeds []*ir.Value
	for _, v := range m.Graph.Inputs {
		if !v.IsConst() {
			feeds = append(feeds, v)
		}
	}
	for _, s := range sets {
		ds := DataSet{Name: s}
		sdir := filepath.Join(dir, s)
		if ds.Inputs, err = readValues(sdir, "input_", feeds); err != nil {
			return nil, err
		}
		if ds.Outputs, err = readValues(sdir, "output_", m.Graph.Outputs); err != nil {
			return nil, err
		}
		c.DataSets = append(c.DataSets, ds)
	}
	if len(c.DataSets) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_N folder", dir)
	}
	return c, nil
}

func numSuffix(name string) int {
	i := strings.LastIndexByte(name, '_')
	n, _ := strconv.Atoi(strings.TrimSuffix(name[i+1:], ".pb"))
	return n
}

// readValues reads prefixK.pb for K = 0.. in order; the K-th file is decoded with the type
// of values[K] (a tensor when unknown).
func readValues(dir, prefix string, values []*ir.Value) ([]*kernel.Tensor, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && strings.HasSuffix(e.Name(), ".pb") {
			files = append(files, e.Name())
		}
	}
	sort.Slice(files, func(i, j int) bool { return numSuffix(files[i]) < numSuffix(files[j]) })
	out := make([]*kernel.Tensor, len(files))
	for k, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		var typ *ir.Type
		if k < len(values) {
			typ = values[k].Type
		}
		if out[k], err = decodeValue(data, typ); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, f), err)
		}
	}
	return out, nil
}

func decodeValue(data []byte, typ *ir.Type) (*kernel.Tensor, error) {
	kind := ir.TensorKind
	if typ != nil {
		kind = typ.Kind
	}
	switch kind {
	case ir.SequenceKind:
		var sp pb.SequenceProto
		if err := proto.Unmarshal(data, &sp); err != nil {
			return nil, fmt.Errorf("decode SequenceProto: %w", err)
		}
		return fromSequence(&sp)
	case ir.OptionalKind:
		var op pb.OptionalProto
		if err := proto.Unmarshal(data, &op); err != nil {
			return nil, fmt.Errorf("decode OptionalProto: %w", err)
		}
		return fromOptional(&op)
	}
	var tp pb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		return nil, fmt.Errorf("decode TensorProto: %w", err)
	}
	return fromTensor(&tp)
}

func fromTensor(tp *pb.TensorProto) (*kernel.Tensor, error) {
	t, err := onnx.TensorFromProto(tp)
	if err != nil {
		return nil, err
	}
	return kernel.FromIR(t)
}

// Values of SequenceProto.elem_type and OptionalProto.elem_type.
const (
	elemTensor   = 1
	elemSequence = 3
	elemOptional = 5
)

func fromSequence(sp *pb.SequenceProto) (*kernel.Tensor, error) {
	seq := &kernel.Tensor{Kind: kernel.SequenceValue, Seq: []*kernel.Tensor{}}
	switch sp.GetElemType() {
	case elemTensor, 0:
		for _, tp := range sp.GetTensorValues() {
			t, err := fromTensor(tp)
			if err != nil {
				return nil, err
			}
			seq.Seq = append(seq.Seq, t)
			seq.SeqType = t.DType
		}
	default:
		return nil, fmt.Errorf("sequences of element kind %d are not supported", sp.GetElemType())
	}
	return seq, nil
}

func fromOptional(op *pb.OptionalProto) (*kernel.Tensor, error) {
	switch op.GetElemType() {
	case elemTensor:
		if op.TensorValue == nil {
			return &kernel.Tensor{Kind: kernel.NoneValue}, nil
		}
		return fromTensor(op.TensorValue)
	case elemSequence:
		if op.SequenceValue == nil {
			return &kernel.Tensor{Kind: kernel.NoneValue}, nil
		}
		return fromSequence(op.SequenceValue)
	case 0:
		return &kernel.Tensor{Kind: kernel.NoneValue}, nil
	}
	return nil, fmt.Errorf("optionals of element kind %d are not supported", op.GetElemType())
}
