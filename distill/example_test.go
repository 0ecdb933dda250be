package distill_test

import (
	"fmt"

	"github.com/whittle-ml/whittle/distill"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
)

func ExampleParseSpec() {
	for _, s := range []string{"auto:macs=0.25", "lowrank:energy=0.9", "block:a..b=auto:width=0.5;c..d=small.onnx"} {
		spec, err := distill.ParseSpec(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(spec.Kind, spec.String())
	}
	// Output:
	// auto auto:macs=0.25
	// lowrank lowrank:energy=0.9
	// block block:a..b=auto:width=0.5;c..d=small.onnx
}

// An auto student of the Fashion-MNIST CNN with at most a quarter of its MACs, before
// training.
func ExampleBuild() {
	teacher, err := onnx.LoadModel("../testmodels/fashion_cnn_op17.onnx")
	if err != nil {
		fmt.Println(err)
		return
	}
	spec, _ := distill.ParseSpec("auto:macs=0.25")
	st, err := distill.Build(&passes.Context{}, teacher, spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("MACs %d -> %d, parameters %d -> %d\n", st.Teacher.MACs, st.After.MACs, st.Teacher.Params, st.After.Params)
	// Output:
	// MACs 26258176 -> 6491855, parameters 1207948 -> 297260
}
