package rnn

import (
	"fmt"
	"math"
	"strings"
)

// activation is one of the functions the recurrent ops accept in their activations
// attribute, with its alpha and beta.
type activation struct {
	name        string
	alpha, beta float64
}

// activationSpec says which parameters a function takes and their defaults.
var activationSpec = map[string]struct {
	usesAlpha, usesBeta bool
	alpha, beta         float64
}{
	"relu":            {},
	"tanh":            {},
	"sigmoid":         {},
	"softsign":        {},
	"softplus":        {},
	"affine":          {true, true, 1, 0},
	"leakyrelu":       {true, false, 0.01, 0},
	"thresholdedrelu": {true, false, 1, 0},
	"scaledtanh":      {true, true, 1, 1},
	"hardsigmoid":     {true, true, 0.2, 0.5},
	"elu":             {true, false, 1, 0},
}

// parseActivations resolves names (case-insensitive) with alphas and betas, which are
// consumed in order by the functions that take them, as ONNX Runtime does. perDir is the
// number of functions one direction uses; a list for one direction is repeated for the
// second direction of a bidirectional op.
func parseActivations(names []string, alphas, betas []float32, defaults []string, perDir, numDir int) ([]activation, error) {
	if len(names) == 0 {
		for d := 0; d < numDir; d++ {
			names = append(names, defaults...)
		}
	}
	var acts []activation
	ai, bi := 0, 0
	for _, n := range names {
		key := strings.ToLower(n)
		spec, ok := activationSpec[key]
		if !ok {
			return nil, fmt.Errorf("activation %q is not supported", n)
		}
		a := activation{name: key, alpha: spec.alpha, beta: spec.beta}
		if spec.usesAlpha && ai < len(alphas) {
			a.alpha = float64(alphas[ai])
			ai++
		}
		if spec.usesBeta && bi < len(betas) {
			a.beta = float64(betas[bi])
			bi++
		}
		acts = append(acts, a)
	}
	if len(acts) == perDir && numDir == 2 {
		acts = append(acts, acts...)
	}
	if len(acts) != perDir*numDir {
		return nil, fmt.Errorf("activations %v: want %d functions (%d per direction)", names, perDir*numDir, perDir)
	}
	return acts, nil
}

func (a activation) apply(x float64) float64 {
	switch a.name {
	case "relu":
		return math.Max(x, 0)
	case "tanh":
		return math.Tanh(x)
	case "sigmoid":
		if x >= 0 {
			return 1 / (1 + math.Exp(-x))
		}
		e := math.Exp(x)
		return e / (1 + e)
	case "softsign":
		return x / (1 + math.Abs(x))
	case "softplus":
		return math.Log1p(math.Exp(x))
	case "affine":
		return a.alpha*x + a.beta
	case "leakyrelu":
		if x < 0 {
			return a.alpha * x
		}
		return x
	case "thresholdedrelu":
		if x > a.alpha {
			return x
		}
		return 0
	case "scaledtanh":
		return a.alpha * math.Tanh(a.beta*x)
	case "hardsigmoid":
		return math.Max(0, math.Min(1, a.alpha*x+a.beta))
	case "elu":
		if x < 0 {
			return a.alpha * (math.Exp(x) - 1)
		}
		return x
	}
	return math.NaN()
}
