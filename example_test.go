package whittle_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/compare"
	"github.com/whittle-ml/whittle/irdiff"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
)

// Load → prune → quantize → save: the README's "Using whittle from Go" (a test checks
// that the README shows exactly the lines between the markers).
func Example() {
	out := filepath.Join(os.TempDir(), "fashion_cnn.int8.onnx")
	defer os.Remove(out)
	check := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	// README begin
	m, err := whittle.LoadFile("testmodels/fashion_cnn_op17.onnx", whittle.LoadOptions{})
	check(err)
	_, err = whittle.Prune(m, whittle.PruneOptions{Sparsity: 0.5, Scope: "global"})
	check(err)
	q, err := whittle.Quantize(m, whittle.QuantizeOptions{Calibration: "testmodels/testdata/fashion_cnn"})
	check(err)
	check(whittle.SaveFile(out, m, whittle.SaveOptions{}))
	fmt.Printf("%s quantization: %d nodes quantized, history %s\n", q.Mode, len(q.Report.Quantized), q.Step.Pass)
	// README end

	// Output: static quantization: 15 nodes quantized, history quantize_static
}

// Load, run the default lossless pipeline, save: what 'whittle optimize' does.
func ExampleOptimize() {
	m, err := whittle.LoadFile("testmodels/fashion_cnn_op17.onnx", whittle.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := whittle.Optimize(m, whittle.OptimizeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	out := filepath.Join(os.TempDir(), "fashion_cnn.opt.onnx")
	defer os.Remove(out)
	if err := whittle.SaveFile(out, m, whittle.SaveOptions{}); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("nodes %d -> %d, recorded %s\n", res.Before.Nodes, res.After.Nodes, res.Applied.Applied[0][3])
	// Output: nodes 26 -> 25, recorded fuse_bn_into_conv
}

// A pipeline of one's own, from the command-line syntax.
func ExampleOptimize_pipeline() {
	m, err := whittle.LoadFile("testmodels/fashion_vit_op17.onnx", whittle.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	p, err := passes.ParsePipeline("fold_constants,eliminate_dead")
	if err != nil {
		log.Fatal(err)
	}
	res, err := whittle.Optimize(m, whittle.OptimizeOptions{Recipe: passes.Recipe{p}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d changes; nodes %d -> %d\n", len(res.Changes), res.Before.Nodes, res.After.Nodes)
	// Output: 227 changes; nodes 141 -> 97
}

// Remove a quarter of the CNN's output channels: the model really shrinks.
func ExamplePrune() {
	m, err := whittle.LoadFile("testmodels/fashion_cnn_op17.onnx", whittle.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := whittle.Prune(m, whittle.PruneOptions{Pattern: "channel", Sparsity: 0.25})
	if err != nil {
		log.Fatal(err)
	}
	r := res.Report
	fmt.Printf("params %d -> %d, MACs %d -> %d\n", r.Before.Params, r.After.Params, r.Before.MACs, r.After.MACs)
	// Output: params 1207948 -> 681324, MACs 26258176 -> 14813760
}

// Static quantization calibrated on a dataset spec (here a folder of .pb tensors; a
// Fashion-MNIST split such as "fashion-mnist:train:512", .npy/.npz files and image
// folders work alike), with the entropy method.
func ExampleQuantize() {
	m, err := whittle.LoadFile("testmodels/fashion_cnn_op17.onnx", whittle.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := whittle.Quantize(m, whittle.QuantizeOptions{
		Calibration: "testmodels/testdata/fashion_cnn",
		Method:      passes.Entropy,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("calibrated %d tensors on %d rows\n", res.CalibratedTensors, res.CalibrationRows)
	fmt.Println("recorded:", res.Step)
	// Output:
	// calibrated 24 tensors on 8 rows
	// recorded: quantize_static:calibration=testmodels/testdata/fashion_cnn:method=entropy
}

// How far the quantized model's outputs are from the float model's, on the same data.
func ExampleCompare() {
	float, err := whittle.LoadFile("testmodels/fashion_cnn_op17.onnx", whittle.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	quant := float.Clone()
	if _, err := whittle.Quantize(quant, whittle.QuantizeOptions{Calibration: "testmodels/testdata/fashion_cnn"}); err != nil {
		log.Fatal(err)
	}
	res, err := whittle.Compare(float, quant, whittle.CompareOptions{
		Data:    "testmodels/testdata/fashion_cnn",
		Options: compare.Options{Tol: compare.Tolerance{MinSQNR: 20, HasMinSQNR: true}},
	})
	if err != nil {
		log.Fatal(err)
	}
	s := res.Outputs[0]
	fmt.Printf("%s on %d rows: top-1 agreement %.0f%%, SQNR above 20 dB: %v\n", s.Name, res.Rows, 100*s.Top1Agreement(), !res.Failed())
	// Output: logits on 8 rows: top-1 agreement 100%, SQNR above 20 dB: true
}

// What optimizing changed, each difference explained by the pass that made it.
func ExampleDiff() {
	a, err := whittle.LoadFile("testmodels/fashion_cnn_op17.onnx", whittle.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	b := a.Clone()
	if _, err := whittle.Optimize(b, whittle.OptimizeOptions{}); err != nil {
		log.Fatal(err)
	}
	d, err := whittle.Diff(a, b, irdiff.Options{})
	if err != nil {
		log.Fatal(err)
	}
	removed := map[string]int{}
	for _, n := range d.Graph.Nodes {
		if n.Status == irdiff.Removed && len(n.By) > 0 {
			removed[n.By[0]]++
		}
	}
	fmt.Println("equal:", d.Equal, "nodes removed by fuse_bn_into_conv:", removed["fuse_bn_into_conv"])
	// Output: equal: false nodes removed by fuse_bn_into_conv: 1
}

// Run a model with whittle's runtime on rows of a dataset and read its predictions.
func Example_session() {
	m, err := whittle.LoadFile("testmodels/fashion_cnn_op17.onnx", whittle.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	data, err := whittle.OpenData("testmodels/testdata/fashion_cnn", "")
	if err != nil {
		log.Fatal(err)
	}
	batch, err := data.Batch(0, 4)
	if err != nil {
		log.Fatal(err)
	}
	feeds, err := datafeed.BatchFeeds(m, batch)
	if err != nil {
		log.Fatal(err)
	}
	out, err := sess.Run(context.Background(), feeds)
	if err != nil {
		log.Fatal(err)
	}
	logits := out["logits"].Data.([]float32) // [4, 10]
	for row := 0; row < 4; row++ {
		best := 0
		for c := range 10 {
			if logits[row*10+c] > logits[row*10+best] {
				best = c
			}
		}
		fmt.Print(best, " ")
	}
	fmt.Println()
	// Output: 9 2 1 1
}
