package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// DecodeTensorProto decodes a serialized ONNX TensorProto holding float, double, int64,
// int32, uint8 or bool elements, from raw_data or from the typed fields. Tensors with
// external data or segments are refused.
func DecodeTensorProto(data []byte) (Tensor, error) {
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		return Tensor{}, fmt.Errorf("tensorproto: %w", err)
	}
	return FromTensorProto(&tp)
}

// onnxDTypes maps ONNX element types to this package's.
var onnxDTypes = map[onnxpb.TensorProto_DataType]DType{
	onnxpb.TensorProto_FLOAT: Float32, onnxpb.TensorProto_DOUBLE: Float64,
	onnxpb.TensorProto_INT64: Int64, onnxpb.TensorProto_INT32: Int32,
	onnxpb.TensorProto_UINT8: Uint8, onnxpb.TensorProto_BOOL: Bool,
}

// FromTensorProto converts a decoded TensorProto, copying its data.
func FromTensorProto(tp *onnxpb.TensorProto) (Tensor, error) {
	onnxType := onnxpb.TensorProto_DataType(tp.GetDataType())
	t := Tensor{Name: tp.GetName(), Shape: append([]int64{}, tp.GetDims()...)}
	fail := func(format string, args ...any) (Tensor, error) {
		return Tensor{}, fmt.Errorf("tensorproto %q (%s%v): %s", t.Name, onnxType, t.Shape, fmt.Sprintf(format, args...))
	}
	dtype, ok := onnxDTypes[onnxType]
	if !ok {
		return fail("element type not supported (want FLOAT, DOUBLE, INT64, INT32, UINT8 or BOOL)")
	}
	t.DType = dtype
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return fail("external data is not supported in input files")
	}
	if tp.Segment != nil {
		return fail("segmented tensors are not supported")
	}
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return fail("negative dimension")
		}
		if d != 0 && n > maxNPYBytes/d {
			return fail("shape overflows")
		}
		n *= d
	}
	if tp.RawData != nil {
		if want := n * int64(dtype.Size()); int64(len(tp.RawData)) != want {
			return fail("raw_data has %d bytes, shape needs %d", len(tp.RawData), want)
		}
		decodeLittleEndian(&t, tp.RawData)
		return t, nil
	}
	switch dtype {
	case Float32:
		t.Float32 = append([]float32{}, tp.FloatData...)
	case Float64:
		t.Float64 = append([]float64{}, tp.DoubleData...)
	case Int64:
		t.Int64 = append([]int64{}, tp.Int64Data...)
	case Int32:
		t.Int32 = append([]int32{}, tp.Int32Data...)
	case Uint8:
		t.Uint8 = make([]uint8, len(tp.Int32Data))
		for i, v := range tp.Int32Data {
			if v < 0 || v > 255 {
				return fail("int32_data[%d] = %d is not a uint8", i, v)
			}
			t.Uint8[i] = uint8(v)
		}
	case Bool:
		t.Bool = make([]bool, len(tp.Int32Data))
		for i, v := range tp.Int32Data {
			t.Bool[i] = v != 0
		}
	}
	if int64(t.Len()) != n {
		return fail("typed data has %d elements, shape needs %d", t.Len(), n)
	}
	return t, nil
}

// ReadPBFile reads one TensorProto file (input_0.pb and the like).
func ReadPBFile(path string) (Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Tensor{}, fmt.Errorf("pb: %w", err)
	}
	t, err := DecodeTensorProto(data)
	if err != nil {
		return Tensor{}, fmt.Errorf("%s: %w (%s)", path, err, notTensorHint)
	}
	return t, nil
}

// notTensorHint explains the usual cause of a decoding error: the backend tests also store
// SequenceProto and OptionalProto values in .pb files, and their bytes decode as nonsense
// TensorProtos.
const notTensorHint = "only TensorProto files are read; SequenceProto or OptionalProto values are not"

// PBSet is one folder of TensorProto files: input_K.pb and, when present, output_K.pb.
type PBSet struct {
	Dir      string
	Inputs   []Tensor
	Expected []Tensor
	// Rows is the shared first dimension of every input and expected output, or 0 when
	// they do not share one (a node test whose inputs differ in shape): then the set is a
	// single row that can only be read whole.
	Rows int
}

// PBSets is a Dataset over one or more PBSet folders, as the ONNX backend tests lay them out
// (model.onnx beside test_data_set_0/, test_data_set_1/, ...). Sets whose tensors share a
// first dimension are split into rows and may be batched together when their other
// dimensions agree; any other set counts as one row.
type PBSets struct {
	Sets  []PBSet
	first []int // first[i] is the row index where Sets[i] starts
	total int
}

var (
	inputPBRE    = regexp.MustCompile(`^input_([0-9]+)\.pb$`)
	outputPBRE   = regexp.MustCompile(`^output_([0-9]+)\.pb$`)
	dataSetDirRE = regexp.MustCompile(`^test_data_set_([0-9]+)$`)
)

// OpenPBDir opens dir: either a folder of input_K.pb files (with optional output_K.pb),
// or a folder of test_data_set_N folders of them. In a folder without input_K.pb files,
// every other .pb file except output_K.pb is an input, in name order.
func OpenPBDir(dir string) (*PBSets, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("pb dir: %w", err)
	}
	var setDirs []string
	for _, e := range entries {
		if e.IsDir() && dataSetDirRE.MatchString(e.Name()) {
			setDirs = append(setDirs, e.Name())
		}
	}
	sortNumbered(setDirs, dataSetDirRE)
	if len(setDirs) == 0 {
		setDirs = []string{"."}
	}
	ds := &PBSets{}
	for _, sd := range setDirs {
		set, err := readPBSet(filepath.Join(dir, sd))
		if err != nil {
			return nil, err
		}
		ds.first = append(ds.first, ds.total)
		ds.total += max(set.Rows, 1)
		ds.Sets = append(ds.Sets, set)
	}
	return ds, nil
}

func readPBSet(dir string) (PBSet, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return PBSet{}, fmt.Errorf("pb dir: %w", err)
	}
	var inputs, outputs, others []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() || filepath.Ext(name) != ".pb":
		case inputPBRE.MatchString(name):
			inputs = append(inputs, name)
		case outputPBRE.MatchString(name):
			outputs = append(outputs, name)
		default:
			others = append(others, name)
		}
	}
	sortNumbered(inputs, inputPBRE)
	sortNumbered(outputs, outputPBRE)
	if len(inputs) == 0 {
		inputs = others // already in name order (os.ReadDir sorts)
	}
	// A model may have no inputs at all (a few ONNX node tests do): then the outputs alone
	// make the set.
	if len(inputs) == 0 && len(outputs) == 0 {
		return PBSet{}, fmt.Errorf("pb dir %s: no input_K.pb files and no test_data_set_N folders", dir)
	}
	set := PBSet{Dir: dir}
	for _, group := range []struct {
		names []string
		dst   *[]Tensor
	}{{inputs, &set.Inputs}, {outputs, &set.Expected}} {
		for _, name := range group.names {
			t, err := ReadPBFile(filepath.Join(dir, name))
			if err != nil {
				return PBSet{}, err
			}
			*group.dst = append(*group.dst, t)
		}
	}
	if len(set.Inputs) > 0 {
		set.Rows = sharedRows(append(append([]Tensor{}, set.Inputs...), set.Expected...))
	}
	return set, nil
}

// sharedRows returns the first dimension all tensors share, or 0.
func sharedRows(ts []Tensor) int {
	rows := int64(-1)
	for i := range ts {
		if len(ts[i].Shape) == 0 || ts[i].Shape[0] == 0 || (rows >= 0 && ts[i].Shape[0] != rows) {
			return 0
		}
		rows = ts[i].Shape[0]
	}
	return int(max(rows, 0))
}

// sortNumbered sorts names by the number re's first group captures.
func sortNumbered(names []string, re *regexp.Regexp) {
	num := func(s string) int {
		n, _ := strconv.Atoi(re.FindStringSubmatch(s)[1])
		return n
	}
	sort.SliceStable(names, func(i, j int) bool { return num(names[i]) < num(names[j]) })
}

// Len returns the number of rows over all sets.
func (p *PBSets) Len() int { return p.total }

// Batch returns rows [start, start+n), joined across sets when they span several.
func (p *PBSets) Batch(start, n int) (Batch, error) {
	if err := checkRange(start, n, p.total); err != nil {
		return Batch{}, err
	}
	var parts []Batch
	for i, set := range p.Sets {
		lo, hi := p.first[i], p.first[i]+max(set.Rows, 1)
		from, to := max(start, lo), min(start+n, hi)
		if from >= to {
			continue
		}
		if set.Rows == 0 {
			if n != 1 {
				return Batch{}, fmt.Errorf("pb set %s: its tensors share no batch dimension, so it must be read alone (batch size 1)", set.Dir)
			}
			parts = append(parts, Batch{Inputs: set.Inputs, Expected: set.Expected})
			continue
		}
		arrays := Arrays{Inputs: set.Inputs, Expected: set.Expected}
		b, err := arrays.Batch(from-lo, to-from)
		if err != nil {
			return Batch{}, fmt.Errorf("pb set %s: %w", set.Dir, err)
		}
		parts = append(parts, b)
	}
	return joinBatches(parts)
}

func joinBatches(parts []Batch) (Batch, error) {
	if len(parts) == 0 {
		return Batch{}, errors.New("empty batch")
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	var out Batch
	for _, field := range []struct {
		get func(*Batch) []Tensor
		dst *[]Tensor
	}{
		{func(b *Batch) []Tensor { return b.Inputs }, &out.Inputs},
		{func(b *Batch) []Tensor { return b.Expected }, &out.Expected},
	} {
		count := len(field.get(&parts[0]))
		for k := 0; k < count; k++ {
			var column []Tensor
			for i := range parts {
				ts := field.get(&parts[i])
				if len(ts) != count {
					return Batch{}, fmt.Errorf("cannot batch sets with %d and %d tensors", count, len(ts))
				}
				column = append(column, ts[k])
			}
			joined, err := concatRows(column)
			if err != nil {
				return Batch{}, err
			}
			*field.dst = append(*field.dst, joined)
		}
	}
	return out, nil
}
