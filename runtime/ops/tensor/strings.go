package tensor

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func stringInput(in []*kernel.Tensor, i int, name string) (*kernel.Tensor, []string, error) {
	t, err := need(in, i, name)
	if err != nil {
		return nil, nil, err
	}
	s, ok := t.Data.([]string)
	if !ok {
		return nil, nil, fmt.Errorf("input %s must be string, is %s", name, t.DType)
	}
	return t, s, nil
}

func newStringConcat(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		a, as, err := stringInput(in, 0, "X")
		if err != nil {
			return nil, err
		}
		b, bs, err := stringInput(in, 1, "Y")
		if err != nil {
			return nil, err
		}
		shape, err := kernel.BroadcastShapes(a.Shape, b.Shape)
		if err != nil {
			return nil, err
		}
		out := alloc(ctx, ir.String, shape)
		kernel.Binary(out.Data.([]string), shape, as, a.Shape, bs, b.Shape, func(x, y string) string { return x + y })
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newRegexFullMatch(info *kernel.NodeInfo) (kernel.Kernel, error) {
	pattern := info.Node.AttrString("pattern", "")
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, fmt.Errorf("%s: attribute pattern: %w", describe(info), err)
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, xs, err := stringInput(in, 0, "X")
		if err != nil {
			return nil, err
		}
		out := alloc(ctx, ir.Bool, x.Shape)
		d := out.Data.([]bool)
		for i, s := range xs {
			d[i] = re.MatchString(s)
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

// splitWhitespace is Python's str.split(None, maxsplit): runs of whitespace separate
// fields, leading and trailing whitespace yields no empty fields, and after maxsplit splits
// the rest (minus leading whitespace) is the last field.
func splitWhitespace(s string, maxsplit int) []string {
	var out []string
	rest := strings.TrimLeftFunc(s, unicode.IsSpace)
	for rest != "" {
		if maxsplit >= 0 && len(out) == maxsplit {
			out = append(out, rest)
			break
		}
		end := strings.IndexFunc(rest, unicode.IsSpace)
		if end < 0 {
			out = append(out, rest)
			break
		}
		out = append(out, rest[:end])
		rest = strings.TrimLeftFunc(rest[end:], unicode.IsSpace)
	}
	return out
}

func newStringSplit(info *kernel.NodeInfo) (kernel.Kernel, error) {
	delim := info.Node.AttrString("delimiter", "")
	maxsplit := -1
	if info.Node.Attr("maxsplit") != nil {
		maxsplit = int(info.Node.AttrInt("maxsplit", 0))
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, xs, err := stringInput(in, 0, "X")
		if err != nil {
			return nil, err
		}
		parts := make([][]string, len(xs))
		width := 0
		for i, s := range xs {
			if delim == "" {
				parts[i] = splitWhitespace(s, maxsplit)
			} else {
				n := -1
				if maxsplit >= 0 {
					n = maxsplit + 1
				}
				parts[i] = strings.SplitN(s, delim, n)
			}
			width = max(width, len(parts[i]))
		}
		y := alloc(ctx, ir.String, append(append([]int64{}, x.Shape...), int64(width)))
		z := alloc(ctx, ir.Int64, x.Shape)
		yd, zd := y.Data.([]string), z.Data.([]int64)
		for i, p := range parts {
			row := yd[i*width : (i+1)*width]
			for j := range row {
				row[j] = ""
			}
			copy(row, p)
			zd[i] = int64(len(p))
		}
		return []*kernel.Tensor{y, z}, nil
	}), nil
}

func newStringNormalizer(info *kernel.NodeInfo) (kernel.Kernel, error) {
	action := info.Node.AttrString("case_change_action", "NONE")
	caseSensitive := info.Node.AttrInt("is_case_sensitive", 0) != 0
	var stop map[string]bool
	if a := info.Node.Attr("stopwords"); a != nil {
		stop = map[string]bool{}
		for _, w := range a.Strings {
			if !caseSensitive {
				w = strings.ToLower(w)
			}
			stop[w] = true
		}
	}
	switch action {
	case "NONE", "LOWER", "UPPER":
	default:
		return nil, fmt.Errorf("%s: case_change_action %q is not supported", describe(info), action)
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, xs, err := stringInput(in, 0, "X")
		if err != nil {
			return nil, err
		}
		if !(len(x.Shape) == 1 || (len(x.Shape) == 2 && x.Shape[0] == 1)) {
			return nil, fmt.Errorf("input must be [C] or [1, C], is %v", x.Shape)
		}
		var kept []string
		for _, s := range xs {
			key := s
			if !caseSensitive {
				key = strings.ToLower(s)
			}
			if stop[key] {
				continue
			}
			switch action {
			case "LOWER":
				s = strings.ToLower(s)
			case "UPPER":
				s = strings.ToUpper(s)
			}
			kept = append(kept, s)
		}
		if len(kept) == 0 {
			kept = []string{""} // ONNX keeps one empty string when everything is filtered
		}
		shape := []int64{int64(len(kept))}
		if len(x.Shape) == 2 {
			shape = []int64{1, int64(len(kept))}
		}
		out := alloc(ctx, ir.String, shape)
		copy(out.Data.([]string), kept)
		return []*kernel.Tensor{out}, nil
	}), nil
}
