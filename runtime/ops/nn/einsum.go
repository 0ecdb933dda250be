package nn

import (
	"fmt"
	"sort"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "Einsum", SinceVersion: 12,
		Types: append([]ir.DataType{ir.Int32, ir.Int64}, floatTypes...), New: newEinsum})
}

// einsumKernel evaluates an Einsum equation directly: one loop nest over every label,
// accumulating in float64. Repeated labels within an operand read its diagonal; ellipses
// broadcast. Equations in models are small (attention-style contractions are usually
// exported as MatMul), so clarity wins over speed here.
type einsumKernel struct {
	node    *ir.Node
	inputs  [][]int // per operand: label per axis; labels < 0 mark ellipsis slots, see parse
	ellipIn []bool
	output  []int
	hasOut  bool
	ellOut  bool // explicit output contains "..."
}

func newEinsum(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	eq := strings.ReplaceAll(n.AttrString("equation", ""), " ", "")
	if eq == "" {
		return nil, opErr(n, "attribute equation is required")
	}
	k := &einsumKernel{node: n}
	lhs, rhs, hasOut := strings.Cut(eq, "->")
	k.hasOut = hasOut
	for _, term := range strings.Split(lhs, ",") {
		labels, ell, err := parseEinsumTerm(term)
		if err != nil {
			return nil, opErr(n, "equation %q: %v", eq, err)
		}
		k.inputs = append(k.inputs, labels)
		k.ellipIn = append(k.ellipIn, ell)
	}
	if hasOut {
		labels, ell, err := parseEinsumTerm(rhs)
		if err != nil {
			return nil, opErr(n, "equation %q: %v", eq, err)
		}
		k.output, k.ellOut = labels, ell
		seen := map[int]bool{}
		for _, l := range labels {
			if l >= 0 && seen[l] {
				return nil, opErr(n, "equation %q: output label %c repeats", eq, rune(l))
			}
			seen[l] = true
		}
	} else {
		count := map[int]int{}
		for _, in := range k.inputs {
			for _, l := range in {
				if l >= 0 {
					count[l]++
				}
			}
		}
		for l, c := range count {
			if c == 1 {
				k.output = append(k.output, l)
			}
		}
		sort.Ints(k.output)
		k.ellOut = true
	}
	return k, nil
}

// ellipsisMark stands for "..." in a parsed term.
const ellipsisMark = -1

func parseEinsumTerm(term string) ([]int, bool, error) {
	var labels []int
	ell := false
	for i := 0; i < len(term); i++ {
		c := term[i]
		switch {
		case c == '.':
			if ell || !strings.HasPrefix(term[i:], "...") {
				return nil, false, fmt.Errorf("bad ellipsis in %q", term)
			}
			ell = true
			labels = append(labels, ellipsisMark)
			i += 2
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			labels = append(labels, int(c))
		default:
			return nil, false, fmt.Errorf("character %q in %q", c, term)
		}
	}
	return labels, ell, nil
}

func (k *einsumKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(inputs) != len(k.inputs) {
		return nil, opErr(k.node, "equation has %d operands, got %d inputs", len(k.inputs), len(inputs))
	}
	// Expand each operand's ellipsis into labels 1000+j, aligned from the right.
	ellRank := 0
	for i, t := range inputs {
		if t == nil {
			return nil, opErr(k.node, "input %d is missing", i)
		}
		named := len(k.inputs[i])
		if k.ellipIn[i] {
			named--
			ellRank = max(ellRank, len(t.Shape)-named)
		} else if named != len(t.Shape) {
			return nil, opErr(k.node, "operand %d has rank %d, equation term has %d labels", i, len(t.Shape), named)
		}
	}
	ellLabel := func(j int) int { return 1000 + j }
	expand := func(labels []int, rank int) []int {
		var out []int
		for _, l := range labels {
			if l != ellipsisMark {
				out = append(out, l)
				continue
			}
			n := rank - (len(labels) - 1)
			for j := ellRank - n; j < ellRank; j++ {
				out = append(out, ellLabel(j))
			}
		}
		return out
	}
	sizes := map[int]int{}
	axes := make([][]int, len(inputs))
	for i, t := range inputs {
		axes[i] = expand(k.inputs[i], len(t.Shape))
		if len(axes[i]) != len(t.Shape) {
			return nil, opErr(k.node, "operand %d has rank %d, too small for its term", i, len(t.Shape))
		}
		for a, l := range axes[i] {
			d := int(t.Shape[a])
			if s, ok := sizes[l]; ok && s != d {
				switch {
				case s == 1:
					sizes[l] = d
				case d == 1:
				default:
					return nil, opErr(k.node, "label size mismatch: %d vs %d in operand %d", s, d, i)
				}
			} else if !ok {
				sizes[l] = d
			}
		}
	}
	var outLabels []int
	if k.ellOut {
		if k.hasOut {
			outLabels = expand(k.output, len(k.output)-1+ellRank)
		} else {
			for j := 0; j < ellRank; j++ {
				outLabels = append(outLabels, ellLabel(j))
			}
			outLabels = append(outLabels, k.output...)
		}
	} else {
		outLabels = k.output
	}
	// Loop order: output labels, then the summed ones.
	all := append([]int(nil), outLabels...)
	inOut := map[int]bool{}
	for _, l := range outLabels {
		if _, ok := sizes[l]; !ok {
			return nil, opErr(k.node, "output label %c appears in no operand", rune(l))
		}
		inOut[l] = true
	}
	var summed []int
	for l := range sizes {
		if !inOut[l] {
			summed = append(summed, l)
		}
	}
	sort.Ints(summed)
	all = append(all, summed...)
	pos := map[int]int{}
	loopShape := make([]int, len(all))
	for i, l := range all {
		pos[l] = i
		loopShape[i] = sizes[l]
	}
	// Per-operand stride along each loop label (summed over repeated axes: diagonals).
	strides := make([][]int, len(inputs))
	data := make([][]float64, len(inputs))
	for i, t := range inputs {
		strides[i] = make([]int, len(all))
		s := 1
		for a := len(t.Shape) - 1; a >= 0; a-- {
			if t.Shape[a] != 1 {
				strides[i][pos[axes[i][a]]] += s
			}
			s *= int(t.Shape[a])
		}
		d, err := kernel.Float64sOf(t)
		if err != nil {
			return nil, opErr(k.node, "input %d: %v", i, err)
		}
		data[i] = d
	}
	outShape := make([]int64, len(outLabels))
	for i, l := range outLabels {
		outShape[i] = int64(sizes[l])
	}
	// The output's labels may take their sizes from empty operands, so its count can be
	// anything (or overflow): check it and weigh the accumulator before the loops.
	acc, err := kernel.MakeScratchShaped[float64](outShape)
	if err != nil {
		return nil, err
	}
	outSize := len(acc)
	innerSize := prodInts(loopShape[len(outLabels):])
	if outSize > 0 && innerSize > 0 {
		od := newOdometer(loopShape)
		total := prodInts(loopShape)
		for it := 0; it < total; it++ {
			p := 1.0
			for i := range inputs {
				off := 0
				for d, v := range od.idx {
					off += v * strides[i][d]
				}
				p *= data[i][off]
			}
			acc[it/innerSize] += p
			od.next()
		}
	}
	out := ctx.Alloc(inputs[0].DType, outShape...)
	if err := kernel.StoreFloat64s(out, acc); err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	return []*kernel.Tensor{out}, nil
}
