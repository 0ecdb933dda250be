package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/onnx"
)

func init() {
	register(&command{
		name:    "convert",
		args:    "IN -o OUT [--external-data] [--size-threshold N]",
		summary: "re-serialize a model, moving large tensors to or from an external data file",
		help: `
Reads IN (with any external data it refers to) and writes OUT. With --external-data,
initializers of at least --size-threshold bytes go to a data file beside OUT (named
OUT's file name plus ".data" unless --location is given), each at a 4 KiB-aligned
offset, which is how models over 2 GiB are stored. Without it, all data is written
inline. OUT is written to a temporary file and renamed, so it is never left half
written; IN is never overwritten unless you name it as OUT.

Examples:
  whittle convert big.onnx -o big-ext.onnx --external-data
  whittle convert big-ext.onnx -o inline.onnx
  whittle convert model.onnx -o model-ext.onnx --external-data --size-threshold 0`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "output model `FILE` (required)")
			external := fs.Bool("external-data", false, "store large tensors in an external data file")
			threshold := fs.Int64("size-threshold", 1024, "smallest tensor, in `bytes`, stored externally")
			location := fs.String("location", "", "external data file name, relative to OUT's folder")
			align := fs.Int64("align", 4096, "alignment of external data offsets, in `bytes`")
			return func(e *env, args []string) error {
				if err := exactArgs(args, 1, "one input MODEL"); err != nil {
					return err
				}
				if *out == "" {
					return usagef("-o OUT is required")
				}
				if *threshold < 0 || *align < 1 {
					return usagef("--size-threshold must be >= 0 and --align >= 1")
				}
				p, err := onnx.ReadFile(args[0])
				if err != nil {
					return err
				}
				thr := *threshold
				if thr == 0 {
					// WriteOptions reads 0 as "default"; 1 byte sends every tensor with data.
					thr = 1
				}
				opts := onnx.WriteOptions{ExternalData: *external, Location: *location, SizeThreshold: thr, Align: *align}
				if err := onnx.WriteFile(*out, p, opts); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "wrote %s\n", *out)
				return nil
			}
		},
	})
}
