package dataset_test

import (
	"fmt"

	"github.com/whittle-ml/whittle/dataset"
)

func ExampleParseSpec() {
	for _, s := range []string{"fashion-mnist:train:512", "fashion-mnist:test@/data/fmnist", "inputs.npz", "testmodels/testdata/fashion_cnn"} {
		spec, err := dataset.ParseSpec(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-32s kind=%v split=%q limit=%d dir=%q path=%q\n", s, spec.Kind, spec.Split, spec.Limit, spec.Dir, spec.Path)
	}
	// Output:
	// fashion-mnist:train:512          kind=fashion-mnist split="train" limit=512 dir="" path=""
	// fashion-mnist:test@/data/fmnist  kind=fashion-mnist split="test" limit=0 dir="/data/fmnist" path=""
	// inputs.npz                       kind=npz split="" limit=0 dir="" path="inputs.npz"
	// testmodels/testdata/fashion_cnn  kind=pb-dir split="" limit=0 dir="" path="testmodels/testdata/fashion_cnn"
}

func ExampleParsePreprocess() {
	p, err := dataset.ParsePreprocess("imagenet,layout=nhwc")
	if err != nil {
		fmt.Println(err)
		return
	}
	h, w := p.OutputSize(500, 375)
	fmt.Println(p)
	fmt.Printf("a 500x375 image becomes %dx%dx%d\n", h, w, p.Channels())
	// Output:
	// resize=256,crop=224,mean=0.485,0.456,0.406,std=0.229,0.224,0.225,layout=nhwc
	// a 500x375 image becomes 224x224x3
}
