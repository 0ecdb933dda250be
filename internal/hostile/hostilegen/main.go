// Command hostilegen writes the hostile inputs of internal/hostile to a folder, to try
// them on whittle (or on another tool) by hand:
//
//	go run ./internal/hostile/hostilegen -o /tmp/hostile            every case, one folder each
//	go run ./internal/hostile/hostilegen -o /tmp/nested -nested-if 1000,3000
//	go run ./internal/hostile/hostilegen -o /tmp/large -large-mb 2200
//
// Each case's folder holds model.onnx and whatever it refers to; -nested-if writes
// nested_if_DEPTH.onnx files (internal/hostile.NestedIf) instead, -large-mb a model whose
// weights (one MatMul initializer of that many MiB) are external data
// (internal/hostile.WriteLargeModel, the model of TestLargeModelThroughEveryCommand).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/hostile"
)

func main() {
	out := flag.String("o", "", "output folder (required)")
	nested := flag.String("nested-if", "", "comma-separated depths: write NestedIf models instead of the cases")
	largeMB := flag.Int64("large-mb", 0, "write a model of this many MiB of external weights instead of the cases")
	flag.Parse()
	if *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	var err error
	if *largeMB > 0 {
		if err = os.MkdirAll(*out, 0o755); err == nil {
			const k = 16384
			var path string
			path, _, err = hostile.WriteLargeModel(*out, k, *largeMB<<20/4/k)
			fmt.Println(path)
		}
	} else {
		err = run(*out, *nested)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostilegen:", err)
		os.Exit(1)
	}
}

func run(out, nested string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if nested != "" {
		for _, s := range strings.Split(nested, ",") {
			depth, err := strconv.Atoi(s)
			if err != nil || depth < 1 {
				return fmt.Errorf("depth %q is not a positive integer", s)
			}
			data, err := proto.Marshal(hostile.NestedIf(depth))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, "nested_if_"+s+".onnx"), data, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	outside := filepath.Join(out, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		return err
	}
	for _, c := range hostile.Cases() {
		dir := filepath.Join(out, c.Name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		if err := c.Write(dir, outside); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		fmt.Printf("%-22s whittle %s %s %s\n", c.Name, c.Command, filepath.Join(dir, hostile.ModelFile), strings.Join(c.Flags, " "))
	}
	return nil
}
