package passes

import (
	"math"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestActivationParams(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     Range
		typ   ir.DataType
		scale float32
		zp    int32
	}{
		{"uint8 straddling zero", Range{-1, 3}, ir.Uint8, 4.0 / 255, 64},
		{"uint8 positive widened to zero", Range{0.5, 2.55}, ir.Uint8, 0.01, 0},
		{"uint8 negative widened to zero", Range{-2.55, -1}, ir.Uint8, 0.01, 255},
		{"int8 symmetric uses the larger side", Range{-1, 3}, ir.Int8, 3.0 / 127, 0},
		{"empty range gets scale 1", Range{0, 0}, ir.Uint8, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := activationParams(tc.r, tc.typ)
			if math.Abs(float64(p.scale-tc.scale)) > 1e-7 || p.zp != tc.zp || p.typ != tc.typ {
				t.Errorf("activationParams(%v, %s) = scale %g zp %d, want %g %d", tc.r, tc.typ, p.scale, p.zp, tc.scale, tc.zp)
			}
		})
	}
}

func TestQuantizeWeightsPerChannel(t *testing.T) {
	w := ir.FromFloat32("w", []int64{2, 2}, []float32{1, -0.5, 0.25, 0})
	for _, tc := range []struct {
		name   string
		axis   int
		reduce bool
		q      []int32
		scales []float32
	}{
		// -0.5*127 = -63.5 rounds half to even: -64.
		{"axis 0", 0, false, []int32{127, -64, 127, 0}, []float32{1.0 / 127, 0.25 / 127}},
		{"axis 1", 1, false, []int32{127, -127, 32, 0}, []float32{1.0 / 127, 0.5 / 127}},
		{"per tensor", -1, false, []int32{127, -64, 32, 0}, []float32{1.0 / 127}},
		{"reduced range", -1, true, []int32{64, -32, 16, 0}, []float32{1.0 / 64}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wq, err := quantizeWeights(w, tc.axis, 8, tc.reduce)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.q {
				if int32(int8(wq.q[i])) != tc.q[i] {
					t.Fatalf("q = %v, want %v", wq.q, tc.q)
				}
			}
			for i := range tc.scales {
				if math.Abs(float64(wq.scales[i]-tc.scales[i])) > 1e-9 {
					t.Fatalf("scales = %v, want %v", wq.scales, tc.scales)
				}
			}
		})
	}
}

func TestIntTensorPacksInt4LowNibbleFirst(t *testing.T) {
	got := intTensor("x", ir.Int4, []int64{3}, []int32{-1, 7, -8}).Raw
	want := []byte{0x7f, 0x08}
	if string(got) != string(want) {
		t.Fatalf("int4 packing = %x, want %x", got, want)
	}
}

func TestQuantizeBlocked(t *testing.T) {
	// [K=4, N=2] in blocks of 2 along K: scales [2, 2].
	w := ir.FromFloat32("w", []int64{4, 2}, []float32{7, 1.5, -3.5, 2, 0, 0, 14, -7})
	q, scales, dims, err := quantizeBlocked(w, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if dims[0] != 2 || dims[1] != 2 {
		t.Fatalf("scale dims %v, want [2 2]", dims)
	}
	wantScales := []float32{1, 2.0 / 7, 2, 1}
	for i := range wantScales {
		if math.Abs(float64(scales[i]-wantScales[i])) > 1e-6 {
			t.Fatalf("scales %v, want %v", scales, wantScales)
		}
	}
	wantQ := []int32{7, 5, -4, 7, 0, 0, 7, -7} // -3.5 rounds half to even
	for i := range wantQ {
		if q[i] != wantQ[i] {
			t.Fatalf("q %v, want %v", q, wantQ)
		}
	}
}

func TestRangeCollectorMethods(t *testing.T) {
	// 10 batches of 100,000 values in [0, 1) dense near 0 (u³), one -0.5 and one outlier
	// at 100.
	batches := make([][]float32, 10)
	for b := range batches {
		batches[b] = make([]float32, 100000)
		for i := range batches[b] {
			u := float32(i) / 100000
			batches[b][i] = u * u * u
		}
	}
	batches[0][0] = -0.5
	batches[5][7] = 100
	for _, tc := range []struct {
		method     CalibrationMethod
		minLo, mHi float32 // expected bounds of Max
		wantMin    float32
	}{
		{MinMax, 100, 100, -0.5},
		{MovingAverageMinMax, 1, 100, -0.5},
		{Percentile, 0.9, 1.2, -0.5},
		// Entropy never clips below 128 bins (the levels it models); the bulk here spans
		// 16 of 2048 bins, so it clips the outlier at 128 bins = 8.
		{Entropy, 1, 10, -0.5},
	} {
		t.Run(string(tc.method), func(t *testing.T) {
			c := NewRangeCollector(CalibrationOptions{Method: tc.method})
			for _, b := range batches {
				if err := c.Observe("x", b); err != nil {
					t.Fatal(err)
				}
			}
			r := c.Ranges()["x"]
			if r.Max < tc.minLo || r.Max > tc.mHi {
				t.Errorf("%s: max %g outside [%g, %g]", tc.method, r.Max, tc.minLo, tc.mHi)
			}
			if tc.method != MovingAverageMinMax && r.Min != tc.wantMin {
				t.Errorf("%s: min %g, want %g", tc.method, r.Min, tc.wantMin)
			}
		})
	}
}

func TestMovingAverage(t *testing.T) {
	c := NewRangeCollector(CalibrationOptions{Method: MovingAverageMinMax, EMAConstant: 0.5})
	for _, b := range [][]float32{{0, 2}, {0, 4}, {-2, 0}} {
		_ = c.Observe("x", b)
	}
	// max: 2 -> 3 -> 1.5; min: 0 -> 0 -> -1
	if r := c.Ranges()["x"]; r.Max != 1.5 || r.Min != -1 {
		t.Fatalf("ema range %v, want [-1, 1.5]", r)
	}
}

func TestHistogramGrowsExactly(t *testing.T) {
	c := NewRangeCollector(CalibrationOptions{Method: Percentile, Bins: 16})
	_ = c.Observe("x", []float32{1, 0.5, 0.25})
	_ = c.Observe("x", []float32{3.9})
	s := c.stats["x"]
	if s.width != 0.25 {
		t.Fatalf("bin width %g after doubling twice from 1/16, want 0.25", s.width)
	}
	total := 0.0
	for _, n := range s.hist {
		total += n
	}
	if total != 4 || s.hist[1] != 1 || s.hist[2] != 1 || s.hist[3] != 1 || s.hist[15] != 1 {
		t.Fatalf("histogram after growth %v", s.hist)
	}
}

// fakeCalibrator hands over fixed data per tensor.
type fakeCalibrator map[string][]float32

func (f fakeCalibrator) Calibrate(m *ir.Model, names []string, observe func(string, []float32) error) error {
	for _, n := range names {
		if d, ok := f[n]; ok {
			if err := observe(n, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// convNet: x -> Conv(w, b) -> Relu -> MaxPool -> Flatten -> Gemm(transB) -> y.
func convNet(t *testing.T) *ir.Model {
	b := newBuilder(t, 13).Input("x", ir.Float, 1, 1, 4, 4).
		Floats("w", []int64{2, 1, 3, 3}, 1, 0, -1, 2, 0, -2, 1, 0, -1, 0.5, 0.5, 0.5, 0, 0, 0, -0.5, -0.5, -0.5).
		Floats("b", []int64{2}, 0.1, -0.2).
		Node("Conv", "x,w,b", "c", ir.IntsAttr("pads", 1, 1, 1, 1)).
		Node("Relu", "c", "r").
		Node("MaxPool", "r", "p", ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)).
		Node("Flatten", "p", "f").
		Floats("g", []int64{3, 8}, make([]float32, 24)...).
		Node("Gemm", "f,g", "y", ir.IntAttr("transB", 1)).
		Output("y")
	return b.Model()
}

var convNetRanges = map[string]Range{"x": {0, 1}, "c": {-2, 4}, "r": {0, 4}, "p": {0, 4}, "f": {0, 4}, "y": {-1, 1}}

func TestPlanQuantization(t *testing.T) {
	m := convNet(t)
	p, err := PlanQuantization(m, DefaultQuantizeOptions())
	if err != nil {
		t.Fatal(err)
	}
	var chosen []string
	for _, n := range p.Nodes() {
		chosen = append(chosen, n.OpType)
	}
	if got := strings.Join(chosen, ","); got != "Conv,MaxPool,Flatten,Gemm" {
		t.Errorf("chosen %s", got)
	}
	if got := strings.Join(p.CalibrationTensors(), ","); got != "x,c,r,p,f,y" {
		t.Errorf("calibration tensors %s", got)
	}
	if got := strings.Join(p.SensitivityCandidates(), ","); got != "Conv_c,Gemm_y" {
		t.Errorf("sensitivity candidates %s", got)
	}
}

func TestQuantizeStaticLayout(t *testing.T) {
	m := convNet(t)
	ctx := &Context{VerifyEach: true}
	rep, err := QuantizeStatic(ctx, m, DefaultQuantizeOptions(), convNetRanges)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	// The Relu folds away; Conv's output is renamed after it and quantized with its range.
	want := "QuantizeLinear,DequantizeLinear,DequantizeLinear,DequantizeLinear,Conv," +
		"QuantizeLinear,DequantizeLinear,MaxPool,QuantizeLinear,DequantizeLinear,Flatten," +
		"QuantizeLinear,DequantizeLinear,DequantizeLinear,Gemm"
	if got := ops(m); got != want {
		t.Fatalf("ops\n got %s\nwant %s", got, want)
	}
	if len(rep.Folded) != 1 || rep.QDQPairs != 4 || rep.Weights != 3 {
		t.Errorf("report: folded %v, %d QDQ pairs, %d weights", rep.Folded, rep.QDQPairs, rep.Weights)
	}
	conv := m.Graph.Nodes()[4]
	if conv.Output(0).Name != "r" {
		t.Errorf("conv output named %q, want the folded Relu's name r", conv.Output(0).Name)
	}
	// Input x in [0,1]: scale 1/255. Weight channel 0 |max| 2, channel 1 0.5.
	xScale := float32(1.0 / 255)
	wdq := conv.Input(1).Producer()
	if wdq.AttrInt("axis", -1) != 0 || constOf(wdq.Input(0)).DataType != ir.Int8 {
		t.Errorf("weight DequantizeLinear: axis %d, type %s", wdq.AttrInt("axis", -1), constOf(wdq.Input(0)).DataType)
	}
	ws := floatsOf(t, wdq.Input(1))
	bdq := conv.Input(2).Producer()
	bt := constOf(bdq.Input(0))
	bs := floatsOf(t, bdq.Input(1))
	bq, _ := bt.Int64s()
	if bt.DataType != ir.Int32 || bdq.AttrInt("axis", -1) != 0 {
		t.Fatalf("bias stored as %s axis %d", bt.DataType, bdq.AttrInt("axis", -1))
	}
	for c, want := range []float32{0.1, -0.2} {
		if bs[c] != xScale*ws[c] {
			t.Errorf("bias scale[%d] %g, want input scale × weight scale %g", c, bs[c], xScale*ws[c])
		}
		if got := float32(bq[c]) * bs[c]; math.Abs(float64(got-want)) > float64(bs[c]) {
			t.Errorf("bias[%d] dequantizes to %g, want %g", c, got, want)
		}
	}
	// Shape ops share their input's parameters: the Q after MaxPool reads the same
	// scale initializer as the Q before it.
	qBefore, qAfter := m.Graph.Nodes()[5], m.Graph.Nodes()[8]
	if qBefore.Input(1) != qAfter.Input(1) || qBefore.Input(2) != qAfter.Input(2) {
		t.Errorf("MaxPool's output Q does not share its input's scale/zero point")
	}
	if zp := constOf(qBefore.Input(2)); zp.DataType != ir.Uint8 || zp.Raw[0] != 0 {
		t.Errorf("post-ReLU zero point %v, want uint8 0", zp.Raw)
	}
	gemm := m.Graph.Nodes()[14]
	if gemm.Input(1).Producer().AttrInt("axis", -1) != 0 {
		t.Errorf("Gemm transB=1 weight axis %d, want 0", gemm.Input(1).Producer().AttrInt("axis", -1))
	}
	if m.Graph.Outputs[0].Name != "y" || m.Graph.Outputs[0].Producer() != gemm {
		t.Errorf("graph output must stay the Gemm's float output y")
	}
	if ctx.Log.Len() == 0 {
		t.Errorf("no change logged")
	}
	for _, v := range m.Graph.Initializers {
		if v.Name == "w" || v.Name == "b" || v.Name == "g" {
			t.Errorf("float initializer %s left behind", v.Name)
		}
	}
}

func TestQuantizeStaticSymmetricKeepsRelu(t *testing.T) {
	m := convNet(t)
	o := DefaultQuantizeOptions()
	o.ActivationType = ir.Int8
	if _, err := QuantizeStatic(nil, m, o, convNetRanges); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ops(m), "Conv,QuantizeLinear,DequantizeLinear,Relu,QuantizeLinear,DequantizeLinear,MaxPool") {
		t.Fatalf("symmetric: %s", ops(m))
	}
	for _, n := range m.Graph.Nodes() {
		if n.OpType == "QuantizeLinear" {
			zp := constOf(n.Input(2))
			if zp.DataType != ir.Int8 || zp.Raw[0] != 0 {
				t.Errorf("%s: zero point %s %v, want int8 0", n.Name, zp.DataType, zp.Raw)
			}
		}
	}
}

func TestQuantizeStaticExcludeAndOpTypes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*QuantizeOptions)
		reason string
		float  string
	}{
		{"exclude by op", func(o *QuantizeOptions) { o.Exclude = []string{"Gemm"} }, "excluded", "Gemm"},
		{"exclude by node", func(o *QuantizeOptions) { o.Exclude = []string{"Conv_c"} }, "excluded", "Conv"},
		{"op types", func(o *QuantizeOptions) { o.OpTypes = []string{"Conv"} }, "not in --op-types", "Gemm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := convNet(t)
			o := DefaultQuantizeOptions()
			tc.mutate(&o)
			rep, err := QuantizeStatic(nil, m, o, convNetRanges)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range rep.Skipped {
				if s.Op == tc.float && s.Reason == tc.reason {
					found = true
				}
			}
			if !found {
				t.Errorf("%s not reported as %q: %+v", tc.float, tc.reason, rep.Skipped)
			}
			for _, q := range rep.Quantized {
				if q.Op == tc.float {
					t.Errorf("%s quantized although it should stay float", tc.float)
				}
			}
			if err := m.Verify(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestQuantizeStaticMissingRange(t *testing.T) {
	m := convNet(t)
	if _, err := QuantizeStatic(nil, m, DefaultQuantizeOptions(), map[string]Range{"x": {0, 1}}); err == nil || !strings.Contains(err.Error(), "no calibration range") {
		t.Fatalf("missing ranges: err = %v", err)
	}
}

func TestCollectRangesWithCalibrator(t *testing.T) {
	m := convNet(t)
	p, _ := PlanQuantization(m, DefaultQuantizeOptions())
	cal := fakeCalibrator{"x": {0, 0.5, 1}, "c": {-2, 4}, "r": {0, 4}, "p": {0, 4}, "f": {0, 3}, "y": {1}}
	ranges, err := CollectRanges(m, p.CalibrationTensors(), cal, CalibrationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := ranges["f"]; r.Min != 0 || r.Max != 3 {
		t.Errorf("range of f %v", r)
	}
	if _, err := QuantizeStatic(nil, m, DefaultQuantizeOptions(), ranges); err != nil {
		t.Fatal(err)
	}
}

func matmulNet(t *testing.T, opset int64) *ir.Model {
	w := make([]float32, 64*4)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	return newBuilder(t, opset).Input("x", ir.Float, 2, 64).
		Floats("w", []int64{64, 4}, w...).
		Node("MatMul", "x,w", "y").
		Output("y").Model()
}

func TestQuantizeDynamic(t *testing.T) {
	m := matmulNet(t, 13)
	rep, err := QuantizeDynamic(&Context{}, m, DefaultQuantizeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(m); got != "DynamicQuantizeLinear,MatMulInteger,Cast,Mul,Mul" {
		t.Fatalf("ops %s", got)
	}
	if len(rep.Quantized) != 1 || m.Graph.Outputs[0].Name != "y" {
		t.Fatalf("report %+v, output %q", rep.Quantized, m.Graph.Outputs[0].Name)
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestQuantizeWeightsInt4(t *testing.T) {
	o := DefaultQuantizeOptions()
	o.WeightBits = 4
	if _, err := QuantizeWeights(nil, matmulNet(t, 17), o); err == nil || !strings.Contains(err.Error(), "opset") {
		t.Fatalf("int4 at opset 17 without upgrade: err = %v", err)
	}
	o.AllowOpsetUpgrade = true
	m := matmulNet(t, 17)
	rep, err := QuantizeWeights(nil, m, o)
	if err != nil {
		t.Fatal(err)
	}
	if v := opsetOf(m); v != 21 || m.IRVersion < 10 {
		t.Errorf("opset %d IR %d after upgrade", v, m.IRVersion)
	}
	dq := m.Graph.Nodes()[0]
	if dq.OpType != "DequantizeLinear" || dq.AttrInt("block_size", 0) != 32 || constOf(dq.Input(0)).DataType != ir.Int4 {
		t.Fatalf("%s block_size %d", ops(m), dq.AttrInt("block_size", 0))
	}
	if d := constOf(dq.Input(1)).Dims; d[0] != 2 || d[1] != 4 {
		t.Errorf("block scale dims %v, want [2 4]", d)
	}
	if len(rep.Notes) == 0 {
		t.Errorf("the opset upgrade is not reported")
	}
	// An operator that changed meaning before 21 blocks the upgrade.
	m = newBuilder(t, 17).Input("x", ir.Float, 2, 64).
		Floats("w", []int64{64, 4}, make([]float32, 256)...).
		Node("MatMul", "x,w", "y").
		Node("ReduceMean", "y", "z", ir.IntsAttr("axes", 1)).Output("z").Model()
	if _, err := QuantizeWeights(nil, m, o); err == nil || !strings.Contains(err.Error(), "ReduceMean-18") {
		t.Fatalf("upgrade over ReduceMean-18: err = %v", err)
	}
}

func TestQuantizeWeightsInt8(t *testing.T) {
	m := convNet(t)
	rep, err := QuantizeWeights(nil, m, DefaultQuantizeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := ops(m); got != "DequantizeLinear,Conv,Relu,MaxPool,Flatten,DequantizeLinear,Gemm" {
		t.Fatalf("ops %s", got)
	}
	if len(rep.Quantized) != 2 {
		t.Fatalf("quantized %+v", rep.Quantized)
	}
}

func TestFitQuantizationBudget(t *testing.T) {
	base := convNet(t)
	// The score loses 3 points while Conv_c is quantized and 1 while Gemm_y is.
	score := func(m *ir.Model) (float64, error) {
		s := 100.0
		for _, n := range m.Graph.Nodes() {
			if n.OpType == "Conv" && n.Input(1).Producer() != nil {
				s -= 3
			}
			if n.OpType == "Gemm" && n.Input(1).Producer() != nil {
				s -= 1
			}
		}
		return s, nil
	}
	for _, tc := range []struct {
		floor float64
		kept  string
		met   bool
	}{
		{95, "", true},
		{98, "Conv_c", true},
		{99.5, "Conv_c,Gemm_y", true},
		{101, "Conv_c,Gemm_y", false},
	} {
		m, res, err := FitQuantizationBudget(&Context{}, base, DefaultQuantizeOptions(), convNetRanges,
			Budget{Score: score, Meets: func(s float64) bool { return s >= tc.floor }})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(res.KeptFloat, ","); got != tc.kept || res.Met != tc.met {
			t.Errorf("floor %g: kept %q met %v, want %q %v", tc.floor, got, res.Met, tc.kept, tc.met)
		}
		if s, _ := score(m); s != res.Score {
			t.Errorf("floor %g: returned model scores %g, result says %g", tc.floor, s, res.Score)
		}
		if tc.kept != "" && (res.Sensitivity[0].Node != "Conv_c" || res.Sensitivity[0].Gain != 3) {
			t.Errorf("sensitivity %+v", res.Sensitivity)
		}
	}
	if len(base.Graph.Nodes()) != 5 {
		t.Errorf("the base model was changed")
	}
}

func TestShapeOpsFollowTheirInput(t *testing.T) {
	m := convNet(t)
	o := DefaultQuantizeOptions()
	o.Exclude = []string{"Conv"}
	rep, err := QuantizeStatic(nil, m, o, convNetRanges)
	if err != nil {
		t.Fatal(err)
	}
	// With the Conv float, its Relu is not folded and MaxPool/Flatten read a float tensor:
	// they stay float, and only the Gemm's input gets a Q/DQ pair.
	want := "Conv,Relu,MaxPool,Flatten,QuantizeLinear,DequantizeLinear,DequantizeLinear,Gemm"
	if got := ops(m); got != want {
		t.Fatalf("ops\n got %s\nwant %s", got, want)
	}
	reasons := map[string]string{}
	for _, s := range rep.Skipped {
		reasons[s.Op] = s.Reason
	}
	if !strings.Contains(reasons["MaxPool"], "input is not quantized") || !strings.Contains(reasons["Relu"], "not the output of a quantized op") {
		t.Errorf("skip reasons %v", reasons)
	}
}

func TestRangesWithServesEveryMethodFromOnePass(t *testing.T) {
	c := NewRangeCollector(CalibrationOptions{Method: Entropy})
	_ = c.Observe("x", []float32{-1, 0, 0.5, 2})
	for _, m := range []CalibrationMethod{MinMax, MovingAverageMinMax, Percentile, Entropy} {
		r, err := c.RangesWith(m)
		if err != nil || r["x"].Max <= 0 {
			t.Errorf("%s: %v %v", m, r, err)
		}
	}
	mm := NewRangeCollector(CalibrationOptions{})
	_ = mm.Observe("x", []float32{1})
	if _, err := mm.RangesWith(Entropy); err == nil {
		t.Errorf("a min-max collector cannot give entropy ranges")
	}
}

func TestQuantizeStaticOpCoverage(t *testing.T) {
	emb := make([]float32, 40)
	for i := range emb {
		emb[i] = float32(i)/10 - 2
	}
	m := newBuilder(t, 13).Input("x", ir.Float, 2, 4).Input("idx", ir.Int64, 2).
		Floats("emb", []int64{10, 4}, emb...).
		Node("Gather", "emb,idx", "g").
		Node("Add", "x,g", "a").
		Node("Softmax", "a", "s", ir.IntAttr("axis", -1)).
		Node("Concat", "s,x", "c", ir.IntAttr("axis", 0)).
		Node("MatMul", "c,c", "y").
		Output("y").Model()
	ranges := map[string]Range{"x": {-1, 1}, "g": {-2, 2}, "a": {-3, 3}, "s": {0, 1}, "c": {-1, 1}, "y": {-4, 4}}
	rep, err := QuantizeStatic(&Context{}, m, DefaultQuantizeOptions(), ranges)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Quantized) != 5 || len(rep.Skipped) != 0 {
		t.Fatalf("quantized %+v skipped %+v", rep.Quantized, rep.Skipped)
	}
	byOut := map[string]*ir.Node{}
	for _, n := range m.Graph.Nodes() {
		byOut[n.Output(0).Name] = n
	}
	// The embedding table is stored uint8 behind a DequantizeLinear; Gather's output Q
	// shares its parameters.
	gather := byOut["g"]
	tableDQ := gather.Input(0).Producer()
	if tableDQ == nil || tableDQ.OpType != "DequantizeLinear" || constOf(tableDQ.Input(0)).DataType != ir.Uint8 {
		t.Fatalf("Gather data not quantized: %s", ops(m))
	}
	if q := byOut["g_QuantizeLinear_Output"]; q.Input(1) != tableDQ.Input(1) {
		t.Errorf("Gather's output does not share the table's scale")
	}
	// Softmax's output has the fixed scale 1/256.
	if sc := floatsOf(t, byOut["s_QuantizeLinear_Output"].Input(1)); sc[0] != 1.0/256 {
		t.Errorf("Softmax output scale %g, want 1/256", sc[0])
	}
	// MatMul of two activations: both inputs read the same DequantizeLinear output.
	mm := byOut["y"]
	if mm.Input(0) != mm.Input(1) || mm.Input(0).Producer().OpType != "DequantizeLinear" {
		t.Errorf("MatMul inputs %s, %s", mm.Input(0).Name, mm.Input(1).Name)
	}
}

func TestEntropyDoesNotClipASpike(t *testing.T) {
	// Half the values sit on one spike (like the background pixels of a normalized image);
	// without a bound on clipped mass, KL divergence clips everything above the spike.
	data := make([]float32, 100000)
	for i := range data {
		if i%2 == 0 {
			data[i] = -0.81
		} else {
			data[i] = 2 * float32(i) / float32(len(data))
		}
	}
	c := NewRangeCollector(CalibrationOptions{Method: Entropy})
	_ = c.Observe("x", data)
	r := c.Ranges()["x"]
	clipped := 0
	for _, x := range data {
		if x > r.Max || x < r.Min {
			clipped++
		}
	}
	if frac := float64(clipped) / float64(len(data)); frac > DefaultEntropyMaxClipped {
		t.Errorf("entropy range %v clips %.1f%% of the values", r, 100*frac)
	}
}

func TestPrepareFusesMatMulBias(t *testing.T) {
	m := newBuilder(t, 13).InputOf("x", "float[N,3]").
		Floats("w", []int64{3, 2}, 1, 2, 3, 4, 5, 6).
		Floats("b", []int64{2}, 0.5, -0.5).
		Node("MatMul", "x,w", "h").
		Node("Add", "h,b", "y").
		Output("y").Model()
	changed, err := PrepareForQuantization(&Context{}, m)
	if err != nil || !changed {
		t.Fatalf("changed %v err %v", changed, err)
	}
	if got := ops(m); got != "Gemm" || m.Graph.Outputs[0].Name != "y" {
		t.Fatalf("ops %s, output %s", got, m.Graph.Outputs[0].Name)
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestQuantizeStaticFloatBias(t *testing.T) {
	m := convNet(t)
	o := DefaultQuantizeOptions()
	o.ActivationType, o.FloatBias = ir.Int8, true
	if _, err := QuantizeStatic(nil, m, o, convNetRanges); err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Graph.Nodes() {
		if n.OpType == "Conv" && (n.Input(2) == nil || n.Input(2).Name != "b" || constOf(n.Input(2)).DataType != ir.Float) {
			t.Fatalf("TensorRT layout: the Conv bias must stay the float initializer b, got %v", n.Input(2))
		}
	}
}
