package nn_test

// A stopgap runner for the ONNX backend node tests of this package's operators: it builds
// the single node of each case and runs its kernel directly. The conformance package (the
// executor engineer's harness, running whole models through a Session) supersedes it; this
// one stays useful because it also runs every case with all inputs passed as constants, so
// that the weight pre-packing paths are checked against the same data.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
	"github.com/whittle-ml/whittle/runtime/kernel"
	_ "github.com/whittle-ml/whittle/runtime/ops/nn"
)

var nodeCases = regexp.MustCompile(`^test_(conv|convtranspose|maxpool|averagepool|batchnorm|gemm|matmul|einsum|softmax|logsoftmax|hardmax|layer_normalization|group_normalization|instancenorm|lrn|lppool|globalaveragepool|globalmaxpool|rms_normalization|attention|rotary_embedding|lpnormalization|basic_conv)`)

// Ops of other packages that the pattern also matches.
var otherFamily = regexp.MustCompile(`expanded|^test_convinteger|^test_matmulinteger`)

func TestNodeSuite(t *testing.T) {
	dir := filepath.Join(testenv.ONNXTestsDir(t), "node")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	filter := os.Getenv("NN_CASES")
	var pass, total int
	for _, e := range entries {
		name := e.Name()
		if !nodeCases.MatchString(name) || otherFamily.MatchString(name) {
			continue
		}
		if filter != "" && !regexp.MustCompile(filter).MatchString(name) {
			continue
		}
		total++
		ok := t.Run(name, func(t *testing.T) {
			for _, asConsts := range []bool{false, true} {
				if err := runNodeCase(filepath.Join(dir, name), asConsts); err != nil {
					t.Fatalf("consts=%v: %v", asConsts, err)
				}
			}
		})
		if ok {
			pass++
		}
	}
	t.Logf("node suite: %d/%d cases pass", pass, total)
}

func runNodeCase(caseDir string, asConsts bool) error {
	m, err := onnx.ReadFile(filepath.Join(caseDir, "model.onnx"))
	if err != nil {
		return err
	}
	g := m.GetGraph()
	if len(g.GetNode()) != 1 {
		return fmt.Errorf("%d nodes; the stopgap runner handles one", len(g.GetNode()))
	}
	np := g.GetNode()[0]
	var opset int64
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == np.GetDomain() || (np.GetDomain() == "" && o.GetDomain() == "ai.onnx") {
			opset = o.GetVersion()
		}
	}
	graph := ir.NewGraph("g")
	byName := map[string]*ir.Value{}
	for _, vi := range g.GetInput() {
		byName[vi.GetName()] = graph.AddInput(vi.GetName(), nil)
	}
	var ins []*ir.Value
	for _, name := range np.GetInput() {
		ins = append(ins, byName[name]) // nil for "" (omitted)
	}
	var attrs []*ir.Attr
	for _, a := range np.GetAttribute() {
		attrs = append(attrs, convertAttr(a))
	}
	node := graph.NewNode(np.GetDomain(), np.GetOpType(), ins, np.GetOutput(), attrs...)

	sets, _ := filepath.Glob(filepath.Join(caseDir, "test_data_set_*"))
	for _, set := range sets {
		var inputs []*kernel.Tensor
		inputFiles, _ := filepath.Glob(filepath.Join(set, "input_*.pb"))
		byInput := map[string]*kernel.Tensor{}
		for i := range inputFiles {
			tp, err := readTensor(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
			if err != nil {
				return err
			}
			kt, err := tensorFromProto(tp)
			if err != nil {
				return err
			}
			byInput[g.GetInput()[i].GetName()] = kt
		}
		for _, name := range np.GetInput() {
			inputs = append(inputs, byInput[name])
		}
		var dt ir.DataType
		if len(inputs) > 0 && inputs[0] != nil {
			dt = inputs[0].DType
		}
		def, err := kernel.Lookup(np.GetDomain(), np.GetOpType(), opset, dt)
		if err != nil {
			return err
		}
		info := &kernel.NodeInfo{Node: node, Opset: opset}
		if asConsts {
			info.Consts = inputs
		}
		k, err := def.New(info)
		if err != nil {
			return err
		}
		outs, err := k.Run(&kernel.Context{}, inputs)
		if err != nil {
			return err
		}
		outIdx := 0
		for i, name := range np.GetOutput() {
			if name == "" {
				continue
			}
			tp, err := readTensor(filepath.Join(set, fmt.Sprintf("output_%d.pb", outIdx)))
			outIdx++
			if err != nil {
				return err
			}
			want, err := tensorFromProto(tp)
			if err != nil {
				return err
			}
			if i >= len(outs) || outs[i] == nil {
				return fmt.Errorf("output %d (%s) missing", i, name)
			}
			if err := compare(outs[i], want); err != nil {
				return fmt.Errorf("%s: output %d (%s): %v", filepath.Base(set), i, name, err)
			}
		}
	}
	return nil
}

func convertAttr(a *onnxpb.AttributeProto) *ir.Attr {
	out := &ir.Attr{Name: a.GetName(), Type: ir.AttrType(a.GetType())}
	out.Float, out.Int, out.String = a.GetF(), a.GetI(), string(a.GetS())
	out.Floats, out.Ints = a.GetFloats(), a.GetInts()
	for _, s := range a.GetStrings() {
		out.Strings = append(out.Strings, string(s))
	}
	return out
}

func readTensor(path string) (*onnxpb.TensorProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tp := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(data, tp); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return tp, nil
}

func tensorFromProto(tp *onnxpb.TensorProto) (*kernel.Tensor, error) {
	dt := ir.DataType(tp.GetDataType())
	if len(tp.GetRawData()) > 0 || prodDims(tp.GetDims()) == 0 {
		return kernel.FromIR(ir.NewTensor(tp.GetName(), dt, tp.GetDims(), tp.GetRawData()))
	}
	t := kernel.New(dt, tp.GetDims()...)
	switch d := t.Data.(type) {
	case []float32:
		copy(d, tp.GetFloatData())
	case []float64:
		copy(d, tp.GetDoubleData())
	case []int64:
		copy(d, tp.GetInt64Data())
	case []int32:
		copy(d, tp.GetInt32Data())
	case []uint16:
		for i, v := range tp.GetInt32Data() {
			d[i] = uint16(v)
		}
	case []uint8:
		for i, v := range tp.GetInt32Data() {
			d[i] = uint8(v)
		}
	case []int8:
		for i, v := range tp.GetInt32Data() {
			d[i] = int8(v)
		}
	case []bool:
		for i, v := range tp.GetInt32Data() {
			d[i] = v != 0
		}
	default:
		return nil, fmt.Errorf("typed-field data of %s is not handled", dt)
	}
	return t, nil
}

func prodDims(d []int64) int64 {
	n := int64(1)
	for _, v := range d {
		n *= v
	}
	return n
}

func compare(got, want *kernel.Tensor) error {
	if got.DType != want.DType {
		return fmt.Errorf("type %s, want %s", got.DType, want.DType)
	}
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	g, w := toF64(got), toF64(want)
	if g == nil || w == nil || len(g) != len(w) {
		return fmt.Errorf("cannot compare %T with %T", got.Data, want.Data)
	}
	bad := 0
	var first string
	for i := range g {
		if math.IsNaN(w[i]) && math.IsNaN(g[i]) {
			continue
		}
		if math.IsInf(w[i], 0) && g[i] == w[i] {
			continue
		}
		if !(math.Abs(g[i]-w[i]) <= 1e-7+1e-3*math.Abs(w[i])) {
			if bad == 0 {
				first = fmt.Sprintf("element %d = %v, want %v", i, g[i], w[i])
			}
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d elements differ; first: %s", bad, len(g), first)
	}
	return nil
}

func toF64(t *kernel.Tensor) []float64 {
	var out []float64
	switch d := t.Data.(type) {
	case []float32:
		for _, v := range d {
			out = append(out, float64(v))
		}
	case []float64:
		out = append(out, d...)
	case []int64:
		for _, v := range d {
			out = append(out, float64(v))
		}
	case []uint8:
		for _, v := range d {
			out = append(out, float64(v))
		}
	case []uint16:
		for _, v := range d {
			if t.DType == ir.Float16 {
				out = append(out, float64(halfToF64(v)))
			} else {
				out = append(out, float64(math.Float32frombits(uint32(v)<<16)))
			}
		}
	}
	if out == nil && strings.HasPrefix(fmt.Sprintf("%T", t.Data), "[]") {
		return []float64{}
	}
	return out
}

func halfToF64(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * mant * math.Pow(2, -24)
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * (1 + mant/1024) * math.Pow(2, float64(exp-15))
}
