package tensor

import (
	"fmt"
	"math"
	"slices"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Resize follows the ONNX reference implementation (onnx/reference/ops/op_resize.py):
// interpolation is separable, so each resized axis gets a plan listing, for every output
// coordinate, the source indices and weights it combines; linear and cubic modes apply the
// plans one axis at a time in float64, nearest mode gathers.

type resizeMode int

const (
	resizeNearest resizeMode = iota
	resizeLinear
	resizeCubic
)

type resizeAttrs struct {
	mode             resizeMode
	coordMode        string
	nearestMode      string
	cubicA           float64
	excludeOutside   bool
	extrapolation    float64
	antialias        bool
	axes             []int64
	keepAspectPolicy string
	// input positions of roi, scales and sizes (-1 when the version lacks them)
	roiIn, scalesIn, sizesIn int
	// scalesAttr holds Upsample-7's scales attribute.
	scalesAttr []float32
}

func parseResize(info *kernel.NodeInfo, upsample bool) (*resizeAttrs, error) {
	n := info.Node
	a := &resizeAttrs{
		coordMode:        n.AttrString("coordinate_transformation_mode", "half_pixel"),
		nearestMode:      n.AttrString("nearest_mode", "round_prefer_floor"),
		cubicA:           float64(n.AttrFloat("cubic_coeff_a", -0.75)),
		excludeOutside:   n.AttrInt("exclude_outside", 0) != 0,
		extrapolation:    float64(n.AttrFloat("extrapolation_value", 0)),
		antialias:        n.AttrInt("antialias", 0) != 0,
		axes:             n.AttrInts("axes", nil),
		keepAspectPolicy: n.AttrString("keep_aspect_ratio_policy", "stretch"),
		roiIn:            1, scalesIn: 2, sizesIn: 3,
	}
	switch m := n.AttrString("mode", "nearest"); m {
	case "nearest":
		a.mode = resizeNearest
	case "linear", "bilinear", "trilinear":
		a.mode = resizeLinear
	case "cubic":
		a.mode = resizeCubic
	default:
		return nil, fmt.Errorf("%s: mode %q is not supported", describe(info), m)
	}
	if upsample || info.Opset < 11 {
		// Upsample and Resize-10: asymmetric coordinates; nearest rounds down when
		// upsampling and up when downsampling (ONNX Runtime's "simple" mode, which the
		// opset-10 test data of ONNX 1.5 follows).
		a.coordMode, a.nearestMode = "asymmetric", "simple"
		a.roiIn, a.scalesIn, a.sizesIn = -1, 1, -1
		if upsample && info.Opset < 9 {
			a.scalesIn = -1
			a.scalesAttr = n.AttrFloats("scales", nil)
		}
	}
	switch a.coordMode {
	case "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize":
	default:
		return nil, fmt.Errorf("%s: coordinate_transformation_mode %q is not supported", describe(info), a.coordMode)
	}
	switch a.nearestMode {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple":
	default:
		return nil, fmt.Errorf("%s: nearest_mode %q is not supported", describe(info), a.nearestMode)
	}
	switch a.keepAspectPolicy {
	case "stretch", "not_larger", "not_smaller":
	default:
		return nil, fmt.Errorf("%s: keep_aspect_ratio_policy %q is not supported", describe(info), a.keepAspectPolicy)
	}
	if a.antialias && a.mode == resizeNearest {
		return nil, fmt.Errorf("%s: antialias is not defined for nearest mode", describe(info))
	}
	return a, nil
}

func newResize(info *kernel.NodeInfo) (kernel.Kernel, error) { return newResizeOrUpsample(info, false) }

func newUpsample(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return newResizeOrUpsample(info, true)
}

func newResizeOrUpsample(info *kernel.NodeInfo, upsample bool) (kernel.Kernel, error) {
	a, err := parseResize(info, upsample)
	if err != nil {
		return nil, err
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		return a.run(ctx, in)
	}), nil
}

func floatsOf(in []*kernel.Tensor, i int) ([]float64, error) {
	if i < 0 {
		return nil, nil
	}
	t := kernel.Input(in, i)
	if t == nil || t.Len() == 0 {
		return nil, nil
	}
	return kernel.Float64sOf(t)
}

// axisTaps is the plan of one axis: for each output coordinate, the source indices
// (already clamped into range) and their weights, and whether the coordinate falls outside
// the input (tf_crop_and_resize extrapolation).
type axisTaps struct {
	src     [][]int
	w       [][]float64
	outside []bool
}

func (p *axisTaps) identity(inLen int) bool {
	if len(p.src) != inLen {
		return false
	}
	for j := range p.src {
		if p.outside[j] || len(p.src[j]) != 1 || p.src[j][0] != j || p.w[j][0] != 1 {
			return false
		}
	}
	return true
}

func (a *resizeAttrs) run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x, err := need(in, 0, "X")
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	roi, err := floatsOf(in, a.roiIn)
	if err != nil {
		return nil, fmt.Errorf("input roi: %w", err)
	}
	scales, err := floatsOf(in, a.scalesIn)
	if err != nil {
		return nil, fmt.Errorf("input scales: %w", err)
	}
	if a.scalesAttr != nil {
		for _, s := range a.scalesAttr {
			scales = append(scales, float64(s))
		}
	}
	var sizes []int64
	if a.sizesIn >= 0 {
		if t := kernel.Input(in, a.sizesIn); t != nil && t.Len() > 0 {
			if sizes, err = kernel.Int64sOf(t); err != nil {
				return nil, fmt.Errorf("input sizes: %w", err)
			}
		}
	}
	if (scales == nil) == (sizes == nil) {
		return nil, fmt.Errorf("exactly one of scales and sizes must be given")
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if a.axes != nil {
		if axes, err = kernel.NormalizeAxes(a.axes, r); err != nil {
			return nil, fmt.Errorf("attribute axes: %w", err)
		}
	}
	n := len(axes)
	if (scales != nil && len(scales) != n) || (sizes != nil && len(sizes) != n) {
		return nil, fmt.Errorf("scales/sizes must have %d entries", n)
	}
	// Expand per-axis parameters to the full rank.
	scale := make([]float64, r)
	outShape := append([]int64{}, x.Shape...)
	roiBegin, roiEnd := make([]float64, r), make([]float64, r)
	for i := range roiEnd {
		roiEnd[i] = 1
	}
	if roi != nil && a.coordMode == "tf_crop_and_resize" {
		if len(roi) != 2*n {
			return nil, fmt.Errorf("roi has %d entries, want %d", len(roi), 2*n)
		}
		for i, d := range axes {
			roiBegin[d], roiEnd[d] = roi[i], roi[n+i]
		}
	}
	for i := range scale {
		scale[i] = 1
	}
	if scales != nil {
		for i, d := range axes {
			if scales[i] <= 0 {
				return nil, fmt.Errorf("scale %g is not positive", scales[i])
			}
			scale[d] = scales[i]
			size := math.Floor(scales[i] * float64(x.Shape[d]))
			if size > maxElements {
				return nil, fmt.Errorf("scale %g makes axis %d too large", scales[i], d)
			}
			outShape[d] = int64(size)
		}
	} else {
		for i, d := range axes {
			if sizes[i] < 0 || sizes[i] > maxElements {
				return nil, fmt.Errorf("size %d is out of range", sizes[i])
			}
			outShape[d] = sizes[i]
			scale[d] = float64(sizes[i]) / float64(x.Shape[d])
		}
		if a.keepAspectPolicy != "stretch" {
			s := scale[axes[0]]
			for _, d := range axes {
				if a.keepAspectPolicy == "not_larger" {
					s = min(s, scale[d])
				} else {
					s = max(s, scale[d])
				}
			}
			for _, d := range axes {
				scale[d] = s
				outShape[d] = int64(math.Floor(s*float64(x.Shape[d]) + 0.5)) // round half up
			}
		}
	}
	if _, err := checkedNumel(outShape); err != nil {
		return nil, err
	}
	out := alloc(ctx, x.DType, outShape)
	if kernel.ShapeSize(outShape) == 0 {
		return []*kernel.Tensor{out}, nil
	}
	if kernel.ShapeSize(x.Shape) == 0 {
		return nil, fmt.Errorf("cannot resize an empty input %v to %v", x.Shape, outShape)
	}
	// The plans come after the output: an axis of an empty output may be any length up
	// to maxElements, and a plan holds taps for every output position.
	plans := make([]*axisTaps, r)
	for d := range plans {
		if plans[d], err = a.plan(int(x.Shape[d]), int(outShape[d]), scale[d], roiBegin[d], roiEnd[d]); err != nil {
			return nil, err
		}
	}
	if a.mode == resizeNearest {
		maps := make([][]int, r)
		for d, p := range plans {
			m, err := kernel.MakeScratch[int](len(p.src))
			if err != nil {
				return nil, err
			}
			for j := range m {
				if p.outside[j] {
					m[j] = -1
					continue
				}
				best := 0
				for t, w := range p.w[j] {
					if w > p.w[j][best] {
						best = t
					}
				}
				m[j] = p.src[j][best]
			}
			maps[d] = m
		}
		fill, err := kernel.MakeSlice(x.DType, 1)
		if err != nil {
			return nil, err
		}
		if x.DType != ir.String {
			if err := storeFloat64s(fill, x.DType, []float64{a.extrapolation}); err != nil {
				return nil, err
			}
		}
		if err := gatherAxes(out.Data, x.Data, x.Shape, maps, fill); err != nil {
			return nil, err
		}
		return []*kernel.Tensor{out}, nil
	}
	vals, err := kernel.Float64sOf(x)
	if err != nil {
		return nil, err
	}
	shape := append([]int64{}, x.Shape...)
	for d, p := range plans {
		if p.identity(int(shape[d])) {
			continue
		}
		if vals, shape, err = applyAxis(vals, shape, d, p); err != nil {
			return nil, err
		}
	}
	if a.coordMode == "tf_crop_and_resize" {
		markOutside(vals, outShape, plans, a.extrapolation)
	}
	if err := storeFloat64s(out.Data, x.DType, vals); err != nil {
		return nil, err
	}
	return []*kernel.Tensor{out}, nil
}

// applyAxis interpolates vals (of shape) along axis d with plan p. Its result, resized
// along the axes up to d only, can be larger than both input and output (up along one
// axis, down along a later one), so it is weighed against the memory budget.
func applyAxis(vals []float64, shape []int64, d int, p *axisTaps) ([]float64, []int64, error) {
	outer, inner := kernel.ShapeSize(shape[:d]), kernel.ShapeSize(shape[d+1:])
	inLen, outLen := int(shape[d]), len(p.src)
	count, err := ir.NumElements([]int64{int64(outer), int64(outLen), int64(inner)})
	if err != nil {
		return nil, nil, err
	}
	res, err := kernel.MakeScratch[float64](int(count))
	if err != nil {
		return nil, nil, err
	}
	for o := 0; o < outer; o++ {
		for j := 0; j < outLen; j++ {
			dst := res[(o*outLen+j)*inner : (o*outLen+j+1)*inner]
			for t, s := range p.src[j] {
				w := p.w[j][t]
				src := vals[(o*inLen+s)*inner : (o*inLen+s+1)*inner]
				for i, v := range src {
					dst[i] += w * v
				}
			}
		}
	}
	ns := append([]int64{}, shape...)
	ns[d] = int64(outLen)
	return res, ns, nil
}

// markOutside sets every element with a coordinate outside the input to value.
func markOutside(vals []float64, shape []int64, plans []*axisTaps, value float64) {
	st := stridesOf(shape)
	for i := range vals {
		rem := i
		for d, s := range st {
			c := rem / s
			rem %= s
			if plans[d].outside[c] {
				vals[i] = value
				break
			}
		}
	}
}

// plan computes the taps of one axis exactly as the reference's _interpolate_1d_with_x.
// Both lengths are those of non-empty tensors, so the taps (about 2·inLen in all for a
// downscale, 4 per position for an upscale) are bounded by data that exists; they are
// still weighed against the memory budget, the first inside position's tap count standing
// for all (the count depends on the scale only).
func (a *resizeAttrs) plan(inLen, outLen int, scale, roiStart, roiEnd float64) (*axisTaps, error) {
	// A position costs its two slice headers, its outside flag and its taps.
	if err := kernel.Reserve(int64(outLen) * (2*24 + 1)); err != nil {
		return nil, err
	}
	p := &axisTaps{src: make([][]int, outLen), w: make([][]float64, outLen), outside: make([]bool, outLen)}
	reserved := false // whether the taps have been weighed (at the first position inside)
	for j := 0; j < outLen; j++ {
		x := float64(j)
		var xo float64
		switch a.coordMode {
		case "align_corners":
			if outLen == 1 {
				xo = 0
			} else {
				// The reference divides by the fractional output width scale·inLen - 1,
				// which equals outLen - 1 when sizes are given.
				xo = x * float64(inLen-1) / (scale*float64(inLen) - 1)
			}
		case "asymmetric":
			xo = x / scale
		case "tf_crop_and_resize":
			if outLen == 1 {
				xo = (roiEnd - roiStart) * float64(inLen-1) / 2
			} else {
				xo = x * (roiEnd - roiStart) * float64(inLen-1) / float64(outLen-1)
			}
			xo += roiStart * float64(inLen-1)
			if xo < 0 || xo > float64(inLen-1) {
				p.outside[j] = true
				p.src[j], p.w[j] = []int{0}, []float64{0}
				continue
			}
		case "pytorch_half_pixel":
			if outLen == 1 {
				xo = -0.5
			} else {
				xo = (x+0.5)/scale - 0.5
			}
		case "half_pixel":
			xo = (x+0.5)/scale - 0.5
		case "half_pixel_symmetric":
			adjustment := float64(outLen) / (scale * float64(inLen))
			center := float64(inLen) / 2
			offset := center * (1 - adjustment)
			xo = offset + (x+0.5)/scale - 0.5
		}
		ratio := xo - math.Floor(xo)
		if ratio == 0 {
			ratio = 1 // the reference keeps ratio in (0, 1], preferring the left pixel
		}
		coeffs := a.coeffs(ratio, scale)
		if !reserved {
			reserved = true
			if err := kernel.Reserve(int64(outLen) * int64(len(coeffs)) * 16); err != nil {
				return nil, err
			}
		}
		idx := neighbors(xo, len(coeffs), inLen)
		if a.excludeOutside {
			sum := 0.0
			for t, i := range idx {
				if i < 0 || i >= inLen {
					coeffs[t] = 0
				}
				sum += coeffs[t]
			}
			for t := range coeffs {
				coeffs[t] /= sum
			}
		}
		var src []int
		var w []float64
		for t, i := range idx {
			if coeffs[t] == 0 {
				continue
			}
			src = append(src, max(0, min(i, inLen-1)))
			w = append(w, coeffs[t])
		}
		if src == nil {
			src, w = []int{max(0, min(idx[0], inLen-1))}, []float64{0}
		}
		p.src[j], p.w[j] = src, w
	}
	return p, nil
}

// neighbors returns the n integers nearest to x (ties to the smaller) among those the
// reference's edge-padded array holds, [-ceil(n/2), inLen+ceil(n/2)), in increasing order.
func neighbors(x float64, n, inLen int) []int {
	pad := (n + 1) / 2
	lo, hi := -pad, inLen+pad // candidate range [lo, hi)
	c := int(math.Floor(x))
	var cand []int
	for i := c - n; i <= c+n+1; i++ {
		if i >= lo && i < hi {
			cand = append(cand, i)
		}
	}
	slices.SortStableFunc(cand, func(p, q int) int {
		dp, dq := math.Abs(x-float64(p)), math.Abs(x-float64(q))
		switch {
		case dp < dq:
			return -1
		case dp > dq:
			return 1
		}
		return p - q
	})
	if len(cand) > n {
		cand = cand[:n]
	}
	slices.Sort(cand)
	return cand
}

func (a *resizeAttrs) coeffs(ratio, scale float64) []float64 {
	switch a.mode {
	case resizeNearest:
		if ratio == 1 {
			return []float64{0, 1}
		}
		var up bool
		switch a.nearestMode {
		case "round_prefer_floor":
			up = ratio > 0.5
		case "round_prefer_ceil":
			up = ratio >= 0.5
		case "floor":
			up = false
		case "ceil":
			up = true
		case "simple":
			up = scale < 1 && ratio > 0
		}
		if up {
			return []float64{0, 1}
		}
		return []float64{1, 0}
	case resizeLinear:
		if !a.antialias {
			return []float64{1 - ratio, ratio}
		}
		s := min(scale, 1)
		start := int(math.Floor(-1/s) + 1)
		footprint := 2 - 2*start
		c := make([]float64, footprint)
		sum := 0.0
		for i := range c {
			arg := (float64(start+i) - ratio) * s
			c[i] = max(0, min(1, 1-math.Abs(arg)))
			sum += c[i]
		}
		for i := range c {
			c[i] /= sum
		}
		return c
	}
	A := a.cubicA
	if !a.antialias {
		r := ratio
		return []float64{
			((A*(r+1)-5*A)*(r+1)+8*A)*(r+1) - 4*A,
			((A+2)*r-(A+3))*r*r + 1,
			((A+2)*(1-r)-(A+3))*(1-r)*(1-r) + 1,
			((A*((1-r)+1)-5*A)*((1-r)+1)+8*A)*((1-r)+1) - 4*A,
		}
	}
	s := min(scale, 1)
	iStart := int(math.Floor(-2/s) + 1)
	iEnd := 2 - iStart
	var c []float64
	sum := 0.0
	for i := iStart; i < iEnd; i++ {
		x := math.Abs(s * (float64(i) - ratio))
		var v float64
		switch {
		case x <= 1:
			v = (A+2)*x*x*x - (A+3)*x*x + 1
		case x < 2:
			v = A*x*x*x - 5*A*x*x + 8*A*x - 4*A
		}
		c = append(c, v)
		sum += v
	}
	for i := range c {
		c[i] /= sum
	}
	return c
}
