package elementwise

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// floatFn is a float function evaluated in float64 (and rounded once for float32 data).
type floatFn func(x float64) float64

func init() {
	simple := map[string]floatFn{
		"Sqrt": math.Sqrt, "Exp": math.Exp, "Log": math.Log,
		"Ceil": math.Ceil, "Floor": math.Floor, "Round": math.RoundToEven,
		"Reciprocal": func(x float64) float64 { return 1 / x },
		"Sin":        math.Sin, "Cos": math.Cos, "Tan": math.Tan,
		"Asin": math.Asin, "Acos": math.Acos, "Atan": math.Atan,
		"Sinh": math.Sinh, "Cosh": math.Cosh, "Asinh": math.Asinh, "Acosh": math.Acosh, "Atanh": math.Atanh,
		"Erf": math.Erf, "Tanh": math.Tanh,
		"Sigmoid":  sigmoid,
		"Softplus": softplus,
		"Softsign": func(x float64) float64 { return x / (1 + math.Abs(x)) },
		"Mish":     func(x float64) float64 { return x * math.Tanh(softplus(x)) },
	}
	for name, f := range simple {
		reg(name, 1, floatTypes, fixed(mapFloat(f)))
	}
	withAttrs := map[string]func(n *ir.Node) (floatFn, error){
		"LeakyRelu": func(n *ir.Node) (floatFn, error) {
			alpha := float64(n.AttrFloat("alpha", 0.01))
			return func(x float64) float64 {
				if x < 0 {
					return alpha * x
				}
				return x
			}, nil
		},
		"Elu": func(n *ir.Node) (floatFn, error) {
			alpha := float64(n.AttrFloat("alpha", 1))
			return func(x float64) float64 {
				if x < 0 {
					return alpha * (math.Exp(x) - 1)
				}
				return x
			}, nil
		},
		"Selu": func(n *ir.Node) (floatFn, error) {
			alpha := float64(n.AttrFloat("alpha", 1.67326319217681884765625))
			gamma := float64(n.AttrFloat("gamma", 1.05070102214813232421875))
			return func(x float64) float64 {
				if x <= 0 {
					return gamma * (alpha*math.Exp(x) - alpha)
				}
				return gamma * x
			}, nil
		},
		"Celu": func(n *ir.Node) (floatFn, error) {
			alpha := float64(n.AttrFloat("alpha", 1))
			if alpha == 0 {
				return nil, fmt.Errorf("attribute alpha must not be 0")
			}
			return func(x float64) float64 {
				return math.Max(0, x) + math.Min(0, alpha*(math.Exp(x/alpha)-1))
			}, nil
		},
		"Gelu": func(n *ir.Node) (floatFn, error) {
			switch approx := n.AttrString("approximate", "none"); approx {
			case "none":
				return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }, nil
			case "tanh":
				c := math.Sqrt(2 / math.Pi)
				return func(x float64) float64 {
					return 0.5 * x * (1 + math.Tanh(c*(x+0.044715*x*x*x)))
				}, nil
			default:
				return nil, fmt.Errorf("attribute approximate: unknown value %q", approx)
			}
		},
		"HardSigmoid": func(n *ir.Node) (floatFn, error) {
			alpha, beta := float64(n.AttrFloat("alpha", 0.2)), float64(n.AttrFloat("beta", 0.5))
			return func(x float64) float64 { return math.Max(0, math.Min(1, alpha*x+beta)) }, nil
		},
		"HardSwish": func(n *ir.Node) (floatFn, error) {
			return func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) }, nil
		},
		"Swish": func(n *ir.Node) (floatFn, error) {
			alpha := float64(n.AttrFloat("alpha", 1))
			return func(x float64) float64 { return x * sigmoid(alpha*x) }, nil
		},
		"ThresholdedRelu": func(n *ir.Node) (floatFn, error) {
			alpha := float64(n.AttrFloat("alpha", 1))
			return func(x float64) float64 {
				if x > alpha {
					return x
				}
				return 0
			}, nil
		},
	}
	for name, mk := range withAttrs {
		mk := mk
		reg(name, 1, floatTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
			f, err := mk(info.Node)
			if err != nil {
				return nil, err
			}
			return mapFloat(f), nil
		})
	}
	// Shrink accepts integer types too: compute through float64 and convert back.
	reg("Shrink", 9, numericTypes, func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		lambd, bias := float64(info.Node.AttrFloat("lambd", 0.5)), float64(info.Node.AttrFloat("bias", 0))
		return mapNumber(func(x float64) float64 {
			switch {
			case x < -lambd:
				return x + bias
			case x > lambd:
				return x - bias
			}
			return 0
		}), nil
	})
	reg("Neg", 1, numericTypes, fixed(signedMap(
		func(x float64) float64 { return -x },
		func(x int64) int64 { return -x },
		func(x uint64) uint64 { return -x })))
	reg("Abs", 1, numericTypes, fixed(signedMap(math.Abs, func(x int64) int64 {
		if x < 0 {
			return -x
		}
		return x
	}, identityU)))
	reg("Sign", 9, numericTypes, fixed(signedMap(func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return x // 0, -0 and NaN
	}, func(x int64) int64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}, func(x uint64) uint64 { return min(x, 1) })))
	reg("Relu", 1, numericTypes, fixed(signedMap(func(x float64) float64 {
		if x > 0 {
			return x
		}
		if x != x {
			return x
		}
		return 0
	}, func(x int64) int64 { return max(x, 0) }, identityU)))
}

func identityU(x uint64) uint64 { return x }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softplus is log(1+exp(x)) without overflow for large x.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// mapFloat applies f to every element of a float or double tensor.
func mapFloat(f floatFn) kernel.KernelFunc {
	return func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := tensorInput(in, 0)
		if err != nil {
			return nil, err
		}
		out := ctx.Alloc(x.DType, x.Shape...)
		switch d := x.Data.(type) {
		case []float32:
			mapVia(out.Data.([]float32), d, f)
		case []float64:
			mapVia(out.Data.([]float64), d, f)
		default:
			return nil, unsupported("float function", x.DType)
		}
		return []*kernel.Tensor{out}, nil
	}
}

// mapNumber applies f (through float64) to any numeric tensor.
func mapNumber(f floatFn) kernel.KernelFunc {
	return func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := tensorInput(in, 0)
		if err != nil {
			return nil, err
		}
		out := ctx.Alloc(x.DType, x.Shape...)
		switch d := x.Data.(type) {
		case []float32:
			mapVia(out.Data.([]float32), d, f)
		case []float64:
			mapVia(out.Data.([]float64), d, f)
		case []int8:
			mapVia(out.Data.([]int8), d, f)
		case []int16:
			mapVia(out.Data.([]int16), d, f)
		case []int32:
			mapVia(out.Data.([]int32), d, f)
		case []int64:
			mapVia(out.Data.([]int64), d, f)
		case []uint8:
			mapVia(out.Data.([]uint8), d, f)
		case []uint16:
			mapVia(out.Data.([]uint16), d, f)
		case []uint32:
			mapVia(out.Data.([]uint32), d, f)
		case []uint64:
			mapVia(out.Data.([]uint64), d, f)
		default:
			return nil, unsupported("numeric function", x.DType)
		}
		return []*kernel.Tensor{out}, nil
	}
}

func mapVia[T number](out, in []T, f floatFn) {
	for i, v := range in {
		out[i] = T(f(float64(v)))
	}
}

// signedMap applies ff to float data, fi to signed integers and fu to unsigned ones
// (computed in 64 bits and truncated back, so that e.g. Neg of the smallest int8 wraps as
// two's complement does).
func signedMap(ff floatFn, fi func(int64) int64, fu func(uint64) uint64) kernel.KernelFunc {
	return func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := tensorInput(in, 0)
		if err != nil {
			return nil, err
		}
		if ff == nil && x.DType.IsFloat() {
			return nil, unsupported("integer function", x.DType)
		}
		out := ctx.Alloc(x.DType, x.Shape...)
		switch d := x.Data.(type) {
		case []float32:
			mapVia(out.Data.([]float32), d, ff)
		case []float64:
			mapVia(out.Data.([]float64), d, ff)
		case []int8:
			mapInt(out.Data.([]int8), d, fi)
		case []int16:
			mapInt(out.Data.([]int16), d, fi)
		case []int32:
			mapInt(out.Data.([]int32), d, fi)
		case []int64:
			mapInt(out.Data.([]int64), d, fi)
		case []uint8:
			mapUint(out.Data.([]uint8), d, fu)
		case []uint16:
			mapUint(out.Data.([]uint16), d, fu)
		case []uint32:
			mapUint(out.Data.([]uint32), d, fu)
		case []uint64:
			mapUint(out.Data.([]uint64), d, fu)
		default:
			return nil, unsupported("numeric function", x.DType)
		}
		return []*kernel.Tensor{out}, nil
	}
}

func mapInt[T signed](out, in []T, f func(int64) int64) {
	for i, v := range in {
		out[i] = T(f(int64(v)))
	}
}

// mapUint applies an unsigned function (computed in uint64, truncated back).
func mapUint[T unsigned](out, in []T, f func(uint64) uint64) {
	for i, v := range in {
		out[i] = T(f(uint64(v)))
	}
}
