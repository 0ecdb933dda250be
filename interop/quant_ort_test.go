package interop

import (
	"fmt"
	"math"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// integerOps are what ORT's optimizer turns QDQ groups of Conv/MatMul/Gemm into.
var integerOps = map[string]bool{
	"QLinearConv": true, "QLinearMatMul": true, "QGemm": true, "MatMulIntegerToFloat": true,
	"DynamicQuantizeMatMul": true, "MatMulInteger": true, "ConvInteger": true, "QLinearConvTranspose": true,
}

// floatComputeOps are the float versions left when a group is not fused.
var floatComputeOps = map[string]bool{
	"Conv": true, "FusedConv": true, "ConvTranspose": true, "MatMul": true, "FusedMatMul": true,
	"Gemm": true, "FusedGemm": true, "NhwcFusedConv": true,
}

type quantInteropCase struct {
	name   string
	qpath  string
	report *passes.QuantizeReport
	inputs map[string]*kernel.Tensor
	// logOnly: the outputs' agreement is logged, not required (random-weight models whose
	// logits are numerically degenerate: MobileNetV2's span 1e-9).
	logOnly bool
}

// quantizedCompute counts the Conv/ConvTranspose/MatMul/Gemm nodes a report quantized.
func quantizedCompute(rep *passes.QuantizeReport) int {
	n := 0
	for _, q := range rep.Quantized {
		switch q.Op {
		case "Conv", "ConvTranspose", "MatMul", "Gemm":
			n++
		}
	}
	return n
}

// firstRows returns the inputs of the first rows of a dataset, keyed by m's input names.
func firstRows(t testing.TB, m *ir.Model, ds dataset.Dataset, rows int) map[string]*kernel.Tensor {
	t.Helper()
	b, err := ds.Batch(0, min(rows, ds.Len()))
	if err != nil {
		t.Fatal(err)
	}
	feeds, err := datafeed.BatchFeeds(m, b)
	if err != nil {
		t.Fatal(err)
	}
	return feeds
}

// outputStep is one uint8 step of an output's observed range: (max - min) / 255. The
// outputs of these models are float (the last Gemm/MatMul is not requantized), so this
// is the resolution an 8-bit quantization of the output would have.
func outputStep(t *kernel.Tensor) float64 {
	xs, _ := floats(t)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return (hi - lo) / 255
}

// TestQuantizedModelsFuseInORT quantizes the trained Fashion-MNIST models (static, and
// dynamic for the MLP and the transformer) and checks them in ONNX Runtime (see
// checkQuantizedInORT).
func TestQuantizedModelsFuseInORT(t *testing.T) {
	ortpeer.Require(t)
	dir := t.TempDir()
	var cases []quantInteropCase
	opts := passes.DefaultQuantizeOptions()
	models := fashionModels(t)
	calib := openData(t, "fashion-mnist:train:128")
	test := openData(t, "fashion-mnist:test:32")
	for _, name := range sortedKeys(models) {
		path := models[name]
		modes := []quantMode{quantStatic}
		if strings.Contains(name, "vit") || strings.Contains(name, "mlp") {
			modes = append(modes, quantDynamic)
		}
		for _, mode := range modes {
			q, float, rep := quantizeModel(t, path, dir, mode, opts, calib, passes.MinMax)
			cases = append(cases, quantInteropCase{name: name + "/" + string(mode), qpath: q, report: rep, inputs: firstRows(t, float, test, 32)})
		}
	}
	checkQuantizedInORT(t, dir, cases)
}

// TestQuantizedTorchvisionFuseInORT does the same for ResNet-18 and MobileNetV2 (random
// weights) calibrated on random images; with random weights their logits carry no
// signal (MobileNetV2's span about 1e-9), so output agreement is only logged for them.
func TestQuantizedTorchvisionFuseInORT(t *testing.T) {
	if testing.Short() {
		t.Skip("long: calibrates ImageNet-sized models")
	}
	ortpeer.Require(t)
	dir := t.TempDir()
	var cases []quantInteropCase
	// EfficientNet-B0: SiLU and squeeze-and-excitation (QMulLookup, per-channel QMul), 5×5
	// depthwise convolutions.
	for _, arch := range []string{"resnet18", "mobilenet_v2", "efficientnet_b0"} {
		path := torchvisionModel(t, arch, 13)
		m, _ := session(t, path)
		ds := randomCalibration(t, m, 4)
		q, float, rep := quantizeModel(t, path, dir, quantStatic, passes.DefaultQuantizeOptions(), ds, passes.MinMax)
		cases = append(cases, quantInteropCase{name: arch + "_op13/static", qpath: q, report: rep, inputs: firstRows(t, float, ds, 2), logOnly: true})
	}
	checkQuantizedInORT(t, dir, cases)
}

// checkQuantizedInORT loads every quantized model in ONNX Runtime and requires
//  1. ORT's optimized graph (saved through Job.OptimizedModel) to hold an integer node
//     (QLinearConv, QLinearMatMul, QGemm, MatMulIntegerToFloat, DynamicQuantizeMatMul...)
//     for every Conv, MatMul and Gemm whittle quantized, and no more float ones than
//     whittle left float;
//  2. ORT without graph optimizations — the QDQ operators as the ONNX specification
//     defines them — to agree with whittle's runtime within one 8-bit step of the output
//     range (in practice they agree to float rounding);
//  3. ORT's fused integer kernels to agree with whittle within maxFusedSteps steps: they
//     requantize with their own rounding (QLinearMul, QLinearSoftmax's lookup table), so a
//     deep transformer can differ from the reference by a few steps. Where ORT's fused run
//     also differs that much from ORT's own QDQ run, the difference is ORT's and is only
//     logged: on x86 CPUs without VNNI (AVX2 only) MLAS multiplies u8×s8 with vpmaddubsw,
//     whose int16 pair sums saturate on weights that use the full 8 bits (whittle's AVX2
//     kernel widens those to int16 and stays exact).
func checkQuantizedInORT(t *testing.T, dir string, cases []quantInteropCase) {
	t.Helper()
	var jobs []ortpeer.Job
	for i, c := range cases {
		jobs = append(jobs,
			ortpeer.Job{Model: c.qpath, Inputs: c.inputs, OptimizedModel: filepath.Join(dir, fmt.Sprintf("ort_opt_%d.onnx", i)), Threads: 1},
			ortpeer.Job{Model: c.qpath, Inputs: c.inputs, GraphOptimization: "disabled", Threads: 1})
	}
	results, err := ortpeer.Run(jobs)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		fused, plain := results[2*i], results[2*i+1]
		if fused.Err != nil || plain.Err != nil {
			t.Errorf("%s: ONNX Runtime rejects the quantized model: %v %v", c.name, fused.Err, plain.Err)
			continue
		}
		opt, err := onnx.ReadFile(jobs[2*i].OptimizedModel)
		if err != nil {
			t.Errorf("%s: read ORT's optimized model: %v", c.name, err)
			continue
		}
		hist := map[string]int{}
		ints, floatsLeft := 0, 0
		for _, n := range opt.GetGraph().GetNode() {
			hist[n.GetOpType()]++
			if integerOps[n.GetOpType()] {
				ints++
			}
			if floatComputeOps[n.GetOpType()] {
				floatsLeft++
			}
		}
		want := quantizedCompute(c.report)
		unquantized := 0
		for _, s := range c.report.Skipped {
			if floatComputeOps[s.Op] {
				unquantized++
			}
		}
		if want == 0 {
			t.Errorf("%s: whittle quantized no Conv/MatMul/Gemm", c.name)
		}
		if ints < want {
			t.Errorf("%s: ORT's optimized graph has %d integer nodes for %d quantized Conv/MatMul/Gemm (ops: %s)", c.name, ints, want, histString(hist))
		}
		if floatsLeft > unquantized {
			t.Errorf("%s: ORT's optimized graph keeps %d float Conv/MatMul/Gemm, whittle left %d float (ops: %s)", c.name, floatsLeft, unquantized, histString(hist))
		}
		// A dynamically quantized graph multiplies in integers even as written
		// (MatMulInteger/ConvInteger), so without VNNI ORT's plain run saturates as well.
		saturates := ortSaturatesU8S8() && hasIntegerMatMul(t, c.qpath)
		_, s := session(t, c.qpath)
		got := runWhittle(t, s, c.inputs)
		for k := range got {
			dPlain, err1 := maxAbsDiff(got[k], plain.Outputs[k])
			dFused, err2 := maxAbsDiff(got[k], fused.Outputs[k])
			if err1 != nil || err2 != nil {
				t.Errorf("%s: output %d: %v %v", c.name, k, err1, err2)
				continue
			}
			step := outputStep(plain.Outputs[k])
			if saturates && (dPlain > step || dFused > maxFusedSteps*step) {
				t.Logf("%s: output %s: whittle and ORT differ by %.2f steps (QDQ as written) and %.2f (fused): ORT's u8s8 integer products saturate on this CPU (no VNNI), not checked",
					c.name, plain.Names[k], dPlain/step, dFused/step)
				continue
			}
			if dPlain > step && !c.logOnly {
				t.Errorf("%s: output %s: whittle and ORT (QDQ as specified) differ by %.4g, more than one 8-bit step %.4g", c.name, plain.Names[k], dPlain, step)
			}
			dOwn, err := maxAbsDiff(fused.Outputs[k], plain.Outputs[k])
			if err != nil {
				t.Errorf("%s: output %d: %v", c.name, k, err)
				continue
			}
			switch {
			case dFused > maxFusedSteps*step && dOwn > maxFusedSteps*step:
				t.Logf("%s: output %s: ORT's fused kernels differ from ORT's own QDQ run by %.2f steps (and from whittle by %.2f): ORT's arithmetic (u8s8 saturation on CPUs without VNNI), not checked",
					c.name, fused.Names[k], dOwn/step, dFused/step)
			case dFused > maxFusedSteps*step && !c.logOnly:
				t.Errorf("%s: output %s: whittle and ORT's fused kernels differ by %.4g = %.2f steps (> %d)", c.name, fused.Names[k], dFused, dFused/step, maxFusedSteps)
			}
			t.Logf("%-30s %2d quantized Conv/MatMul/Gemm -> %2d integer nodes in ORT; max |whittle - ORT| %.2g (QDQ), %.2g = %.2f steps (fused); ORT ops: %s",
				c.name, want, ints, dPlain, dFused, dFused/step, histString(hist))
		}
	}
}

// maxFusedSteps bounds the difference between whittle's QDQ arithmetic and ORT's fused
// integer kernels, in 8-bit steps of the output range.
const maxFusedSteps = 4

func maxAbsDiff(a, b *kernel.Tensor) (float64, error) {
	x, ok1 := floats(a)
	y, ok2 := floats(b)
	if !ok1 || !ok2 || len(x) != len(y) {
		return 0, fmt.Errorf("cannot compare %s with %s", a, b)
	}
	d := 0.0
	for i := range x {
		d = math.Max(d, math.Abs(x[i]-y[i]))
	}
	return d, nil
}

func histString(h map[string]int) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if h[keys[i]] != h[keys[j]] {
			return h[keys[i]] > h[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, h[k])
	}
	return strings.Join(parts, " ")
}

// TestWeightOnlyInt4InORT stores the trained models' MatMul/Gemm weights as int4 blocks
// (DequantizeLinear-21 block_size, the opset import raised to 21) and requires ONNX
// Runtime to load them and, without graph optimizations, agree with whittle's runtime
// (both dequantize the same int4 weights, so they differ only by float rounding). ORT's
// optimizer turns DQ + MatMul into MatMulNBits, which by default also quantizes the
// activations to int8 (accuracy level 4); that difference is only logged.
func TestWeightOnlyInt4InORT(t *testing.T) {
	ortpeer.Require(t)
	dir := t.TempDir()
	test := openData(t, "fashion-mnist:test:16")
	models := fashionModels(t)
	var jobs []ortpeer.Job
	var names []string
	for _, name := range sortedKeys(models) {
		if !strings.HasSuffix(name, "op17") {
			continue
		}
		m, err := onnx.LoadModel(models[name])
		if err != nil {
			t.Fatal(err)
		}
		o := passes.DefaultQuantizeOptions()
		o.WeightBits, o.AllowOpsetUpgrade = 4, true
		rep, err := passes.QuantizeWeights(nil, m, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v, _ := m.Opset(""); v != 21 || len(rep.Quantized) == 0 {
			t.Fatalf("%s: opset %d, %d nodes quantized", name, v, len(rep.Quantized))
		}
		path := filepath.Join(dir, name+".w4.onnx")
		if err := onnx.SaveModel(path, m, onnx.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		in := firstRows(t, m, test, 16)
		jobs = append(jobs, ortpeer.Job{Model: path, Inputs: in, GraphOptimization: "disabled"},
			ortpeer.Job{Model: path, Inputs: in, OptimizedModel: filepath.Join(dir, name+".w4.ort.onnx")})
		names = append(names, name)
	}
	results, err := ortpeer.Run(jobs)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		plain, fused := results[2*i], results[2*i+1]
		if plain.Err != nil || fused.Err != nil {
			t.Errorf("%s: ONNX Runtime rejects the int4 model: %v %v", name, plain.Err, fused.Err)
			continue
		}
		_, s := session(t, jobs[2*i].Model)
		got := runWhittle(t, s, jobs[2*i].Inputs)
		e, err := maxRelErr(got[0], plain.Outputs[0])
		if err != nil || e > tolerance {
			t.Errorf("%s: whittle vs ORT max relative error %.3g (%v)", name, e, err)
		}
		ef, _ := maxRelErr(got[0], fused.Outputs[0])
		hist := map[string]int{}
		if opt, err := onnx.ReadFile(jobs[2*i+1].OptimizedModel); err == nil {
			for _, n := range opt.GetGraph().GetNode() {
				hist[n.GetOpType()]++
			}
		}
		t.Logf("%s int4: whittle vs ORT max rel err %.2g (plain), %.2g (optimized); ORT ops: %s", name, e, ef, histString(hist))
	}
}

// ortSaturatesU8S8 reports whether ONNX Runtime's MLAS multiplies u8×s8 with vpmaddubsw
// here (x86 without AVX-VNNI or AVX512-VNNI), whose int16 pair sums saturate on 8-bit
// weights.
func ortSaturatesU8S8() bool {
	return (goruntime.GOARCH == "amd64" || goruntime.GOARCH == "386") && !cpu.X86.HasAVX512VNNI && !cpu.X86.HasAVXVNNI
}

// hasIntegerMatMul reports whether the model at path multiplies in integers as written.
func hasIntegerMatMul(t *testing.T, path string) bool {
	t.Helper()
	m, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.GetGraph().GetNode() {
		switch n.GetOpType() {
		case "MatMulInteger", "ConvInteger", "QLinearMatMul", "QLinearConv":
			return true
		}
	}
	return false
}
