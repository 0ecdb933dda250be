package ml

import (
	"math"
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// run builds the kernel of a one-node graph and runs it.
func run(t *testing.T, f kernel.Factory, op string, attrs []*ir.Attr, inputs ...*kernel.Tensor) (*kernel.Tensor, error) {
	t.Helper()
	g := ir.NewGraph("g")
	n := g.NewNode(mlDomain, op, nil, []string{"y"}, attrs...)
	k, err := f(&kernel.NodeInfo{Node: n})
	if err != nil {
		return nil, err
	}
	out, err := k.Run(&kernel.Context{}, inputs)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func strs(s ...string) *kernel.Tensor {
	return &kernel.Tensor{DType: ir.String, Shape: []int64{int64(len(s))}, Data: s}
}

func TestLabelEncoder(t *testing.T) {
	tests := []struct {
		name  string
		attrs []*ir.Attr
		in    *kernel.Tensor
		want  any
	}{
		{"string to int with default", []*ir.Attr{{Name: "keys_strings", Type: ir.AttrStrings, Strings: []string{"a", "b"}},
			ir.IntsAttr("values_int64s", 7, 8), ir.IntAttr("default_int64", 42)},
			strs("b", "z", "a"), []int64{8, 42, 7}},
		{"string to int, spec default -1", []*ir.Attr{{Name: "keys_strings", Type: ir.AttrStrings, Strings: []string{"a"}},
			ir.IntsAttr("values_int64s", 3)},
			strs("a", "q"), []int64{3, -1}},
		{"int to string", []*ir.Attr{ir.IntsAttr("keys_int64s", 1, 2), {Name: "values_strings", Type: ir.AttrStrings, Strings: []string{"one", "two"}}},
			kernel.FromInt64([]int64{3}, []int64{2, 5, 1}), []string{"two", "_Unused", "one"}},
		{"float keys, NaN matches NaN", []*ir.Attr{ir.FloatsAttr("keys_floats", float32(math.NaN()), 1.5), ir.IntsAttr("values_int64s", 9, 4)},
			kernel.FromFloat32([]int64{3}, []float32{float32(math.NaN()), 1.5, 0}), []int64{9, 4, -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run(t, newLabelEncoder, "LabelEncoder", tc.attrs, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Data, tc.want) {
				t.Fatalf("got %v, want %v", got.Data, tc.want)
			}
		})
	}
	if _, err := run(t, newLabelEncoder, "LabelEncoder", []*ir.Attr{ir.IntsAttr("keys_int64s", 1, 2), ir.IntsAttr("values_int64s", 1)}); err == nil {
		t.Fatal("mismatched keys and values were accepted")
	}
}

func TestBinarizerAndArrayFeatureExtractor(t *testing.T) {
	got, err := run(t, newBinarizer, "Binarizer", []*ir.Attr{ir.FloatAttr("threshold", 0.5)},
		kernel.FromFloat32([]int64{4}, []float32{0.2, 0.5, 0.7, -3}))
	if err != nil || !reflect.DeepEqual(got.Data, []float32{0, 0, 1, 0}) {
		t.Fatalf("Binarizer: got %v, %v", got, err)
	}
	x := kernel.FromFloat32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	got, err = run(t, newArrayFeatureExtractor, "ArrayFeatureExtractor", nil, x, kernel.FromInt64([]int64{2}, []int64{2, 0}))
	if err != nil || !reflect.DeepEqual(got.Data, []float32{3, 1, 6, 4}) || !reflect.DeepEqual(got.Shape, []int64{2, 2}) {
		t.Fatalf("ArrayFeatureExtractor: got %v %v, %v", got.Shape, got.Data, err)
	}
	if _, err := run(t, newArrayFeatureExtractor, "ArrayFeatureExtractor", nil, x, kernel.FromInt64([]int64{1}, []int64{3})); err == nil {
		t.Fatal("an out-of-range index was accepted")
	}
}

func floatTensorAttr(name string, dt ir.DataType, v ...float32) *ir.Attr {
	t, err := kernel.ToIR(name, kernel.FromFloat32([]int64{int64(len(v))}, v))
	if err != nil {
		panic(err)
	}
	return &ir.Attr{Name: name, Type: ir.AttrTensor, Tensor: t}
}

func TestTreeEnsemble(t *testing.T) {
	// One tree: x0 <= 2 ? leaf 0 (target 0, weight 10) : (x1 in {5, 7} ? leaf 1 (target 1, 1) : leaf 2 (target 1, 2)).
	modes, _ := kernel.ToIR("nodes_modes", &kernel.Tensor{DType: ir.Uint8, Shape: []int64{2}, Data: []uint8{modeLEQ, modeMember}})
	base := []*ir.Attr{
		ir.IntAttr("n_targets", 2), ir.IntsAttr("tree_roots", 0),
		floatTensorAttr("nodes_splits", ir.Float, 2, 0), ir.IntsAttr("nodes_featureids", 0, 1),
		{Name: "nodes_modes", Type: ir.AttrTensor, Tensor: modes},
		ir.IntsAttr("nodes_truenodeids", 0, 1), ir.IntsAttr("nodes_trueleafs", 1, 1),
		ir.IntsAttr("nodes_falsenodeids", 1, 2), ir.IntsAttr("nodes_falseleafs", 0, 1),
		ir.IntsAttr("leaf_targetids", 0, 1, 1), floatTensorAttr("leaf_weights", ir.Float, 10, 1, 2),
		floatTensorAttr("membership_values", ir.Float, 5, 7, float32(math.NaN())),
	}
	x := kernel.FromFloat32([]int64{3, 2}, []float32{1, 0, 3, 7, 3, 6})
	tests := []struct {
		name  string
		extra []*ir.Attr
		want  []float32
	}{
		{"sum", nil, []float32{10, 0, 0, 1, 0, 2}},
		{"max", []*ir.Attr{ir.IntAttr("aggregate_function", aggMax)},
			[]float32{10, -math.MaxFloat32, -math.MaxFloat32, 1, -math.MaxFloat32, 2}},
		{"logistic", []*ir.Attr{ir.IntAttr("post_transform", postLogistic)},
			[]float32{float32(1 / (1 + math.Exp(-10))), 0.5, 0.5, float32(1 / (1 + math.Exp(-1))), 0.5, float32(1 / (1 + math.Exp(-2)))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run(t, newTreeEnsemble, "TreeEnsemble", append(append([]*ir.Attr{}, base...), tc.extra...), x)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.want {
				if math.Abs(float64(got.Float32s()[i]-w)) > 1e-6*math.Max(1, math.Abs(float64(w))) {
					t.Fatalf("got %v, want %v", got.Float32s(), tc.want)
				}
			}
		})
	}
}

func TestTfIdfVectorizer(t *testing.T) {
	// Pool: unigrams 1, 2 (columns 0, 1) and bigram (1 2) (column 2).
	base := []*ir.Attr{ir.IntsAttr("pool_int64s", 1, 2, 1, 2), ir.IntsAttr("ngram_counts", 0, 2),
		ir.IntsAttr("ngram_indexes", 0, 1, 2), ir.IntAttr("min_gram_length", 1), ir.IntAttr("max_gram_length", 2)}
	x := &kernel.Tensor{DType: ir.Int32, Shape: []int64{5}, Data: []int32{1, 2, 3, 1, 2}}
	tests := []struct {
		name  string
		extra []*ir.Attr
		want  []float32
	}{
		{"TF contiguous", []*ir.Attr{ir.StringAttr("mode", "TF")}, []float32{2, 2, 2}},
		// With one skip, (x0, x2) = (1 3) and (x2, x4) = (3 2) are no match but
		// (x1,x3)=(2 1) neither: the bigram count stays 2, unigrams are counted once.
		{"TF skip 1", []*ir.Attr{ir.StringAttr("mode", "TF"), ir.IntAttr("max_skip_count", 1)}, []float32{2, 2, 2}},
		// Skip 2: (x0, x3) = (1 1) no, but skip 3: (x0, x4) = (1 2) yes.
		{"TF skip 3", []*ir.Attr{ir.StringAttr("mode", "TF"), ir.IntAttr("max_skip_count", 3)}, []float32{2, 2, 3}},
		{"IDF", []*ir.Attr{ir.StringAttr("mode", "IDF"), ir.FloatsAttr("weights", 0.5, 2, 3)}, []float32{0.5, 2, 3}},
		{"TFIDF", []*ir.Attr{ir.StringAttr("mode", "TFIDF"), ir.FloatsAttr("weights", 0.5, 2, 3)}, []float32{1, 4, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := ir.NewGraph("g")
			n := g.NewNode("", "TfIdfVectorizer", nil, []string{"y"}, append(append([]*ir.Attr{}, base...), tc.extra...)...)
			k, err := newTfIdf(&kernel.NodeInfo{Node: n})
			if err != nil {
				t.Fatal(err)
			}
			out, err := k.Run(&kernel.Context{}, []*kernel.Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out[0].Data, tc.want) {
				t.Fatalf("got %v, want %v", out[0].Data, tc.want)
			}
		})
	}
}
