package tensor

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// castOptions are Cast's attributes other than the target type.
type castOptions struct {
	saturate bool
	round    kernel.E8M0Rounding
}

func parseCastOptions(info *kernel.NodeInfo) (castOptions, error) {
	o := castOptions{saturate: info.Node.AttrInt("saturate", 1) != 0}
	switch m := info.Node.AttrString("round_mode", "up"); m {
	case "up":
		o.round = kernel.E8M0Up
	case "down":
		o.round = kernel.E8M0Down
	case "nearest":
		o.round = kernel.E8M0Nearest
	default:
		return o, fmt.Errorf("%s: round_mode %q is not one of up, down, nearest", describe(info), m)
	}
	return o, nil
}

func newCast(info *kernel.NodeInfo) (kernel.Kernel, error) {
	a := info.Node.Attr("to")
	var to ir.DataType
	switch {
	case a != nil && a.Type == ir.AttrInt:
		to = ir.DataType(a.Int)
	case a != nil && a.Type == ir.AttrString: // Cast-1 names the type: "FLOAT"
		dt, ok := ir.ParseDataType(strings.ToLower(a.String))
		if !ok {
			return nil, fmt.Errorf("%s: attribute 'to' names unknown type %q", describe(info), a.String)
		}
		to = dt
	default:
		return nil, fmt.Errorf("%s: attribute 'to' is required", describe(info))
	}
	if _, err := kernel.MakeSlice(to, 0); err != nil {
		return nil, fmt.Errorf("%s: cannot cast to %s", describe(info), to)
	}
	opts, err := parseCastOptions(info)
	if err != nil {
		return nil, err
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		out := alloc(ctx, to, x.Shape)
		if err := castInto(out, x, opts); err != nil {
			return nil, err
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newCastLike(info *kernel.NodeInfo) (kernel.Kernel, error) {
	opts, err := parseCastOptions(info)
	if err != nil {
		return nil, err
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		like, err := need(in, 1, "target_type")
		if err != nil {
			return nil, err
		}
		out := alloc(ctx, like.DType, x.Shape)
		if err := castInto(out, x, opts); err != nil {
			return nil, err
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

// castInto converts every element of src into dst (same element count), following ONNX
// Cast: integers wrap, floats truncate toward zero into integers, narrow floats round to
// nearest even, float8 saturates when opts.saturate is set.
func castInto(dst, src *kernel.Tensor, opts castOptions) error {
	if src.DType == dst.DType {
		copyAt(dst.Data, 0, src.Data, 0, src.Len())
		return nil
	}
	if src.DType == ir.String {
		return castFromStrings(dst, src.Data.([]string))
	}
	if dst.DType == ir.String {
		return castToStrings(dst.Data.([]string), src)
	}
	plain, err := plainSource(src)
	if err != nil {
		return err
	}
	switch {
	case dst.DType == ir.Bool:
		castToBool(dst.Data.([]bool), plain)
		return nil
	case isPlain(dst.DType):
		castPlain(dst.Data, plain)
		return nil
	}
	// The remaining targets (float16, bfloat16, float8, float4, int4, int2) are encoded from
	// float64, which holds every source value exactly (int64 beyond 2^53 aside).
	vals, err := kernel.MakeScratch[float64](src.Len())
	if err != nil {
		return err
	}
	castPlain(vals, plain)
	return storeNarrow(dst, vals, opts)
}

// isPlain reports whether dt's Go slice type holds its values directly (no bit encoding).
func isPlain(dt ir.DataType) bool {
	switch dt {
	case ir.Float, ir.Double, ir.Int8, ir.Int16, ir.Int32, ir.Int64, ir.Uint8, ir.Uint16, ir.Uint32, ir.Uint64:
		return true
	}
	return false
}

// plainSource returns src's values as a slice of a plain Go numeric type.
func plainSource(src *kernel.Tensor) (any, error) {
	switch {
	case isPlain(src.DType):
		return src.Data, nil
	case src.DType == ir.Bool:
		return view(src.Data), nil // Go stores bools as bytes 0 and 1
	case src.DType == ir.Int4 || src.DType == ir.Int2:
		d := src.Data.([]uint8)
		out, err := kernel.MakeScratch[int8](len(d))
		if err != nil {
			return nil, err
		}
		for i, v := range d {
			if src.DType == ir.Int4 {
				out[i] = kernel.Int4ToInt8(v)
			} else {
				out[i] = kernel.Int2ToInt8(v)
			}
		}
		return out, nil
	case src.DType == ir.Uint4 || src.DType == ir.Uint2:
		return src.Data, nil
	case isHalf(src.DType):
		f, err := kernel.Float64sOf(src)
		if err != nil {
			return nil, err
		}
		out, err := kernel.MakeScratch[float32](len(f))
		if err != nil {
			return nil, err
		}
		for i, v := range f {
			out[i] = float32(v) // exact: every narrow float is a float32
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot cast from %s", src.DType)
}

func storeNarrow(dst *kernel.Tensor, vals []float64, opts castOptions) error {
	switch d := dst.Data.(type) {
	case []uint16:
		if dst.DType == ir.BFloat16 {
			for i, v := range vals {
				d[i] = kernel.Float32ToBFloat16(narrowOdd(v))
			}
		} else {
			for i, v := range vals {
				d[i] = kernel.Float32ToFloat16(narrowOdd(v))
			}
		}
		return nil
	case []uint8:
		switch dt := dst.DType; {
		case kernel.IsFloat8(dt):
			for i, v := range vals {
				d[i] = kernel.Float32ToFloat8(dt, narrowOdd(v), opts.saturate)
			}
		case dt == ir.Float8E8M0:
			for i, v := range vals {
				d[i] = kernel.Float32ToFloat8E8M0(narrowOdd(v), opts.saturate, opts.round)
			}
		case dt == ir.Int4 || dt == ir.Uint4:
			for i, v := range vals {
				d[i] = kernel.WrapInt4(kernel.TruncToInt64(v))
			}
		case dt == ir.Int2 || dt == ir.Uint2:
			for i, v := range vals {
				d[i] = kernel.WrapInt2(kernel.TruncToInt64(v))
			}
		default:
			return fmt.Errorf("cannot cast to %s", dt)
		}
		return nil
	}
	return fmt.Errorf("cannot cast to %s", dst.DType)
}

type plainNum interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// castPlain converts src (a plain numeric slice) into dst (another) with Go conversions,
// which wrap integers and truncate floats as ONNX specifies.
func castPlain(dst, src any) {
	switch s := src.(type) {
	case []float32:
		castFrom(dst, s)
	case []float64:
		castFrom(dst, s)
	case []int8:
		castFrom(dst, s)
	case []int16:
		castFrom(dst, s)
	case []int32:
		castFrom(dst, s)
	case []int64:
		castFrom(dst, s)
	case []uint8:
		castFrom(dst, s)
	case []uint16:
		castFrom(dst, s)
	case []uint32:
		castFrom(dst, s)
	case []uint64:
		castFrom(dst, s)
	}
}

func castFrom[S plainNum](dst any, src []S) {
	switch d := dst.(type) {
	case []float32:
		convert(d, src)
	case []float64:
		convert(d, src)
	case []int8:
		convertInt(d, src)
	case []int16:
		convertInt(d, src)
	case []int32:
		convertInt(d, src)
	case []int64:
		convertInt(d, src)
	case []uint8:
		convertInt(d, src)
	case []uint16:
		convertInt(d, src)
	case []uint32:
		convertInt(d, src)
	case []uint64:
		convertInt(d, src)
	}
}

func convert[D, S plainNum](dst []D, src []S) {
	for i, v := range src {
		dst[i] = D(v)
	}
}

// convertInt converts to an integer type. Float sources go through int64 (or uint64 for
// large values) first, so out-of-range values wrap like integers rather than hitting Go's
// implementation-defined float conversion; NaN becomes 0.
func convertInt[D, S plainNum](dst []D, src []S) {
	var probe S
	switch any(probe).(type) {
	case float32, float64:
		for i, v := range src {
			f := float64(v)
			if f >= 1<<63 && f < 1<<64 {
				dst[i] = D(uint64(f))
			} else {
				dst[i] = D(kernel.TruncToInt64(f))
			}
		}
	default:
		for i, v := range src {
			dst[i] = D(v)
		}
	}
}

func castToBool(dst []bool, src any) {
	switch s := src.(type) {
	case []float32:
		nonZero(dst, s)
	case []float64:
		nonZero(dst, s)
	case []int8:
		nonZero(dst, s)
	case []int16:
		nonZero(dst, s)
	case []int32:
		nonZero(dst, s)
	case []int64:
		nonZero(dst, s)
	case []uint8:
		nonZero(dst, s)
	case []uint16:
		nonZero(dst, s)
	case []uint32:
		nonZero(dst, s)
	case []uint64:
		nonZero(dst, s)
	}
}

func nonZero[S plainNum](dst []bool, src []S) {
	for i, v := range src {
		dst[i] = v != 0
	}
}

// castFromStrings parses numbers ("1.5", "-INF", "NaN", "7"); bool accepts the numbers
// and "true"/"false".
func castFromStrings(dst *kernel.Tensor, src []string) error {
	vals, err := kernel.MakeScratch[float64](len(src))
	if err != nil {
		return err
	}
	var intVals []int64
	wantInt := false
	switch dst.DType {
	case ir.Int8, ir.Int16, ir.Int32, ir.Int64, ir.Uint8, ir.Uint16, ir.Uint32, ir.Uint64:
		wantInt = true
		if intVals, err = kernel.MakeScratch[int64](len(src)); err != nil {
			return err
		}
	}
	for i, s := range src {
		s = strings.TrimSpace(s)
		if dst.DType == ir.Bool {
			switch strings.ToLower(s) {
			case "true":
				vals[i] = 1
				continue
			case "false":
				vals[i] = 0
				continue
			}
		}
		if wantInt {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				intVals[i] = n
				continue
			}
			if n, err := strconv.ParseUint(s, 10, 64); err == nil {
				intVals[i] = int64(n)
				continue
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !isRangeErr(err) {
			return fmt.Errorf("element %d: cannot parse %q as %s", i, s, dst.DType)
		}
		vals[i] = f
		if wantInt {
			intVals[i] = kernel.TruncToInt64(f)
		}
	}
	if wantInt {
		castPlain(dst.Data, intVals)
		return nil
	}
	switch dst.DType {
	case ir.Bool:
		castToBool(dst.Data.([]bool), vals)
		return nil
	case ir.Float, ir.Double:
		castPlain(dst.Data, vals)
		return nil
	}
	return storeNarrow(dst, vals, castOptions{saturate: true})
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// castToStrings formats numbers the way numpy's str() does for the common cases: shortest
// round-trip digits, "inf", "-inf", "nan", integers without a fraction.
func castToStrings(dst []string, src *kernel.Tensor) error {
	switch d := src.Data.(type) {
	case []bool:
		for i, v := range d {
			dst[i] = strconv.FormatBool(v)
			if v {
				dst[i] = "True"
			} else {
				dst[i] = "False"
			}
		}
		return nil
	case []float32:
		for i, v := range d {
			dst[i] = formatFloat(float64(v), 32)
		}
		return nil
	case []float64:
		for i, v := range d {
			dst[i] = formatFloat(v, 64)
		}
		return nil
	}
	if src.DType.IsFloat() {
		vals, err := kernel.Float64sOf(src)
		if err != nil {
			return err
		}
		for i, v := range vals {
			dst[i] = formatFloat(v, 32)
		}
		return nil
	}
	ints, err := plainSource(src)
	if err != nil {
		return err
	}
	vals, err := kernel.MakeScratch[int64](len(dst))
	if err != nil {
		return err
	}
	castPlain(vals, ints)
	if src.DType == ir.Uint64 {
		for i, v := range src.Data.([]uint64) {
			dst[i] = strconv.FormatUint(v, 10)
		}
		return nil
	}
	for i, v := range vals {
		dst[i] = strconv.FormatInt(v, 10)
	}
	return nil
}

func formatFloat(v float64, bits int) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(v, 'g', -1, bits)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}
