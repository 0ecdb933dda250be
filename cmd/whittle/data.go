package main

import (
	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/dataset"
)

// preprocessFlag declares --preprocess, which converts images:DIR data into model inputs.
func preprocessFlag(fs *pflag.FlagSet) *string {
	return fs.String("preprocess", "", "how images:DIR data becomes input `SPEC`: "+dataset.PreprocessHelp)
}

// openData opens a dataset spec, with the --preprocess spec applied to image folders.
func openData(spec, preprocess string) (dataset.Dataset, error) {
	return whittle.OpenData(spec, preprocess)
}
