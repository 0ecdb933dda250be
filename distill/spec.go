package distill

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Student kinds.
const (
	KindAuto    = "auto"
	KindLowRank = "lowrank"
	KindFile    = "file"
	KindBlock   = "block"
)

// Spec says which student to build.
type Spec struct {
	Kind string
	// Params hold auto's (macs, params, width, attention, norm) and lowrank's (rank,
	// energy, params, min_size) settings.
	Params map[string]string
	// File is a KindFile student's model file.
	File string
	// Blocks are a KindBlock student's regions; their Student is auto, lowrank or a file.
	Blocks []BlockSpec
}

// BlockSpec is one region to replace: the tensors that bound it and its student.
type BlockSpec struct {
	From, To string
	Student  Spec
}

// validParams lists, per kind, the parameters it takes.
var validParams = map[string][]string{
	KindAuto:    {"macs", "params", "width", "attention", "norm"},
	KindLowRank: {"rank", "energy", "params", "min_size"},
}

// ParseSpec reads a --student value: auto[:k=v...], lowrank[:k=v...], FILE.onnx, or
// block:FROM..TO=KIND[;FROM..TO=KIND...]. Parameters may be separated by ':' or ','.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Spec{}, fmt.Errorf("empty student")
	}
	kind, rest, _ := strings.Cut(s, ":")
	switch kind {
	case KindAuto, KindLowRank:
		sp := Spec{Kind: kind, Params: map[string]string{}}
		for _, kv := range strings.FieldsFunc(rest, func(r rune) bool { return r == ':' || r == ',' }) {
			k, v, ok := strings.Cut(kv, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || k == "" || v == "" {
				return Spec{}, fmt.Errorf("student %q: %q is not key=value", s, kv)
			}
			if !contains(validParams[kind], k) {
				return Spec{}, fmt.Errorf("student %q: %s takes no parameter %q (valid: %s)", s, kind, k, strings.Join(validParams[kind], ", "))
			}
			if _, dup := sp.Params[k]; dup {
				return Spec{}, fmt.Errorf("student %q: parameter %q given twice", s, k)
			}
			sp.Params[k] = v
		}
		return sp, sp.check()
	case KindBlock:
		return parseBlocks(s, rest)
	}
	if strings.HasSuffix(strings.ToLower(s), ".onnx") {
		return Spec{Kind: KindFile, File: s}, nil
	}
	return Spec{}, fmt.Errorf("student %q: want auto:..., lowrank:..., block:FROM..TO=..., or a .onnx file", s)
}

func parseBlocks(s, rest string) (Spec, error) {
	sp := Spec{Kind: KindBlock}
	for _, part := range strings.Split(rest, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, after, ok := strings.Cut(part, "..")
		to, kind, ok2 := strings.Cut(after, "=")
		if !ok || !ok2 || from == "" || to == "" || kind == "" {
			return Spec{}, fmt.Errorf("student %q: block %q is not FROM..TO=KIND", s, part)
		}
		inner, err := ParseSpec(kind)
		if err != nil {
			return Spec{}, fmt.Errorf("block %s..%s: %w", from, to, err)
		}
		if inner.Kind == KindBlock {
			return Spec{}, fmt.Errorf("block %s..%s: a block's student cannot be blocks", from, to)
		}
		sp.Blocks = append(sp.Blocks, BlockSpec{From: from, To: to, Student: inner})
	}
	if len(sp.Blocks) == 0 {
		return Spec{}, fmt.Errorf("student %q: no block given (want block:FROM..TO=KIND)", s)
	}
	return sp, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// fraction reads parameter k as a number in (0, 1] (ok false when absent).
func (s Spec) fraction(k string) (float64, bool, error) {
	v, ok := s.Params[k]
	if !ok {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f <= 1) {
		return 0, true, fmt.Errorf("%s=%s must be a number in (0, 1]", k, v)
	}
	return f, true, nil
}

// check validates the parameter values of auto and lowrank specs.
func (s Spec) check() error {
	count := 0
	switch s.Kind {
	case KindAuto:
		for _, k := range []string{"macs", "params", "width"} {
			_, ok, err := s.fraction(k)
			if err != nil {
				return fmt.Errorf("auto: %w", err)
			}
			if ok {
				count++
			}
		}
		if count != 1 {
			return fmt.Errorf("auto: give exactly one of macs=, params= or width= (e.g. auto:macs=0.25)")
		}
		if a, ok := s.Params["attention"]; ok && a != "dims" && a != "heads" && a != "keep" {
			return fmt.Errorf("auto: attention=%s: want dims, heads or keep", a)
		}
		if n, ok := s.Params["norm"]; ok && n != "l1" && n != "l2" {
			return fmt.Errorf("auto: norm=%s: want l1 or l2", n)
		}
	case KindLowRank:
		if v, ok := s.Params["rank"]; ok {
			if r, err := strconv.Atoi(v); err != nil || r < 1 {
				return fmt.Errorf("lowrank: rank=%s must be a positive integer", v)
			}
			count++
		}
		for _, k := range []string{"energy", "params"} {
			_, ok, err := s.fraction(k)
			if err != nil {
				return fmt.Errorf("lowrank: %w", err)
			}
			if ok {
				count++
			}
		}
		if count > 1 {
			return fmt.Errorf("lowrank: give one of rank=, energy= or params=")
		}
		if v, ok := s.Params["min_size"]; ok {
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return fmt.Errorf("lowrank: min_size=%s must be a non-negative integer", v)
			}
		}
	}
	return nil
}

// String renders the spec as ParseSpec reads it (parameters sorted).
func (s Spec) String() string {
	switch s.Kind {
	case KindFile:
		return s.File
	case KindBlock:
		parts := make([]string, len(s.Blocks))
		for i, b := range s.Blocks {
			parts[i] = b.From + ".." + b.To + "=" + b.Student.String()
		}
		return "block:" + strings.Join(parts, ";")
	}
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := s.Kind
	for _, k := range keys {
		out += ":" + k + "=" + s.Params[k]
	}
	return out
}
