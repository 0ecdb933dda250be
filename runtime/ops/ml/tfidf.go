package ml

import (
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "TfIdfVectorizer", SinceVersion: 9,
		Types: []ir.DataType{ir.String, ir.Int32, ir.Int64}, New: newTfIdf})
}

// Weighting modes of TfIdfVectorizer.
const (
	modeTF = iota
	modeIDF
	modeTFIDF
)

// gramTrie is the pool of n-grams as a trie over tokens: the path of an n-gram's tokens
// ends at a node whose id is its output column + 1 (0 for a prefix that is no n-gram of
// the pool).
type gramTrie struct {
	id       int
	children map[any]*gramTrie
}

func (t *gramTrie) child(tok any) *gramTrie {
	if t.children == nil {
		t.children = map[any]*gramTrie{}
	}
	c := t.children[tok]
	if c == nil {
		c = &gramTrie{}
		t.children[tok] = c
	}
	return c
}

// tfIdf is TfIdfVectorizer-9: it counts the pool's n-grams (of lengths min_gram_length to
// max_gram_length, with up to max_skip_count tokens skipped between items) in each row of
// X and weights the counts by mode.
type tfIdf struct {
	node             *ir.Node
	minGram, maxGram int
	maxSkip          int
	mode             int
	weights          []float32
	outSize          int
	trie             gramTrie
	strings          bool
}

func newTfIdf(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &tfIdf{node: n, minGram: int(n.AttrInt("min_gram_length", 0)), maxGram: int(n.AttrInt("max_gram_length", 0)),
		maxSkip: int(n.AttrInt("max_skip_count", 0)), weights: n.AttrFloats("weights", nil)}
	switch mode := n.AttrString("mode", ""); mode {
	case "TF":
		k.mode = modeTF
	case "IDF":
		k.mode = modeIDF
	case "TFIDF":
		k.mode = modeTFIDF
	default:
		return nil, opErr(n, "mode %q is not TF, IDF or TFIDF", mode)
	}
	if k.minGram < 1 || k.maxGram < k.minGram || k.maxSkip < 0 {
		return nil, opErr(n, "bad gram lengths %d..%d or max_skip_count %d", k.minGram, k.maxGram, k.maxSkip)
	}
	var pool []any
	if a := n.Attr("pool_strings"); a != nil {
		k.strings = true
		for _, s := range a.Strings {
			pool = append(pool, s)
		}
	} else {
		for _, v := range n.AttrInts("pool_int64s", nil) {
			pool = append(pool, v)
		}
	}
	counts := n.AttrInts("ngram_counts", nil)
	indexes := n.AttrInts("ngram_indexes", nil)
	if len(counts) == 0 {
		return nil, opErr(n, "ngram_counts is required")
	}
	if k.weights != nil && len(k.weights) != len(indexes) {
		return nil, opErr(n, "%d weights for %d n-grams", len(k.weights), len(indexes))
	}
	for _, ix := range indexes {
		if ix < 0 {
			return nil, opErr(n, "negative ngram index %d", ix)
		}
		k.outSize = max(k.outSize, int(ix)+1)
	}
	// Level l (0-based) of the pool holds the (l+1)-grams from counts[l] to counts[l+1].
	gram := 0
	for l, start := range counts {
		end := int64(len(pool))
		if l+1 < len(counts) {
			end = counts[l+1]
		}
		size := int64(l + 1)
		if start < 0 || end < start || end > int64(len(pool)) || (end-start)%size != 0 {
			return nil, opErr(n, "ngram_counts %v do not split the pool of %d tokens", counts, len(pool))
		}
		for p := start; p < end; p += size {
			if gram >= len(indexes) {
				return nil, opErr(n, "the pool holds more n-grams than the %d ngram_indexes", len(indexes))
			}
			node := &k.trie
			for _, tok := range pool[p : p+size] {
				node = node.child(tok)
			}
			node.id = int(indexes[gram]) + 1
			gram++
		}
	}
	return k, nil
}

func (k *tfIdf) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil {
		return nil, opErr(k.node, "input X is required")
	}
	var rows, cols int
	var outShape []int64
	switch len(x.Shape) {
	case 1:
		rows, cols = 1, int(x.Shape[0])
		outShape = []int64{int64(k.outSize)}
	case 2:
		rows, cols = int(x.Shape[0]), int(x.Shape[1])
		outShape = []int64{int64(rows), int64(k.outSize)}
	default:
		return nil, opErr(k.node, "X must be [C] or [N, C], got %v", x.Shape)
	}
	tokens, err := kernel.MakeScratch[any](x.Len())
	if err != nil {
		return nil, err
	}
	for i := range tokens {
		switch d := x.Data.(type) {
		case []string:
			tokens[i] = d[i]
		case []int32:
			tokens[i] = int64(d[i])
		case []int64:
			tokens[i] = d[i]
		default:
			return nil, opErr(k.node, "element type %s is not supported", x.DType)
		}
	}
	out := ctx.AllocZeroed(ir.Float, outShape...)
	counts := out.Float32s()
	if len(counts) == 0 {
		return []*kernel.Tensor{out}, nil // rows may be anything when X has no columns
	}
	for r := 0; r < rows; r++ {
		k.countRow(tokens[r*cols:(r+1)*cols], counts[r*k.outSize:(r+1)*k.outSize])
	}
	for r := 0; r < rows; r++ {
		row := counts[r*k.outSize : (r+1)*k.outSize]
		for i, c := range row {
			row[i] = k.weigh(i, c)
		}
	}
	return []*kernel.Tensor{out}, nil
}

// countRow adds to counts the occurrences of the pool's n-grams in one row. Items of an
// n-gram are skip+1 positions apart for every skip up to max_skip_count; unigrams are
// counted once only, since skipping does not change them.
func (k *tfIdf) countRow(row []any, counts []float32) {
	minGram := k.minGram
	for dist := 1; dist <= k.maxSkip+1; dist++ {
		for start := 0; start < len(row); start++ {
			if start+dist*(minGram-1) >= len(row) {
				break
			}
			node := &k.trie
			for size, pos := 1, start; size <= k.maxGram && pos < len(row); size, pos = size+1, pos+dist {
				next := node.children[row[pos]]
				if next == nil {
					break
				}
				if size >= minGram && next.id != 0 {
					counts[next.id-1]++
				}
				node = next
			}
		}
		if minGram == 1 {
			minGram = 2
			if minGram > k.maxGram {
				break
			}
		}
	}
}

// weigh turns the count of output column i into its value for the mode.
func (k *tfIdf) weigh(i int, count float32) float32 {
	w := float32(1)
	if i < len(k.weights) {
		w = k.weights[i]
	}
	switch k.mode {
	case modeIDF:
		if count > 0 {
			return w
		}
		return 0
	case modeTFIDF:
		return count * w
	}
	return count
}
