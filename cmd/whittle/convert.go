package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
	"github.com/whittle-ml/whittle/passes"
)

func init() {
	register(&command{
		name:    "convert",
		args:    "IN -o OUT [--opset N] [--external-data] [--size-threshold N]",
		summary: "re-serialize a model (upgrading its opset), moving large tensors to or from an external data file",
		help: `
Reads IN (with any external data it refers to) and writes OUT. With --external-data,
initializers of at least --size-threshold bytes go to a data file beside OUT (named
OUT's file name plus ".data" unless --location is given), each at a 4 KiB-aligned
offset, which is how models over 2 GiB are stored. Without it, all data is written
inline. OUT is written to a temporary file and renamed, so it is never left half
written; IN is never overwritten unless you name it as OUT.

--opset N upgrades the model's default-domain (ai.onnx) opset to N with the
convert_opset pass: nodes whose operator changed between the versions are rewritten
(legacy broadcast attributes, attributes that became inputs, Softmax's axis semantics,
Upsample->Resize...). A node without a conversion rule makes the command fail, listing
them all, and nothing is written; downgrades are refused.

Examples:
  whittle convert big.onnx -o big-ext.onnx --external-data
  whittle convert big-ext.onnx -o inline.onnx
  whittle convert model.onnx -o model-ext.onnx --external-data --size-threshold 0
  whittle convert old-opset6.onnx -o opset17.onnx --opset 17
  curl -s URL | whittle convert - -o model.onnx --external-data`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "output model `FILE` (required)")
			external := fs.Bool("external-data", false, "store large tensors in an external data file")
			threshold := fs.Int64("size-threshold", 1024, "smallest tensor, in `bytes`, stored externally")
			location := fs.String("location", "", "external data file name, relative to OUT's folder")
			align := fs.Int64("align", 4096, "alignment of external data offsets, in `bytes`")
			opset := fs.Int64("opset", 0, "upgrade the default-domain opset to `N` (convert_opset pass)")
			asJSON := jsonFlag(fs)
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
				if *external && *out == "-" {
					return usagef("--external-data needs an output file, not -")
				}
				if args[0] != "-" {
					if err := guardExternalData(args[0], *out, *external, *location); err != nil {
						return err
					}
				}
				thr := *threshold
				if thr == 0 {
					// WriteOptions reads 0 as "default"; 1 byte sends every tensor with data.
					thr = 1
				}
				if err := e.startJSON(*asJSON, *out); err != nil {
					return err
				}
				opts := onnx.WriteOptions{ExternalData: *external, Location: *location, SizeThreshold: thr, Align: *align}
				doc := convertJSON{Input: args[0], Output: *out, ExternalData: *external}
				var err error
				if fs.Changed("opset") {
					err = convertOpset(e, args[0], *out, *opset, opts, &doc)
				} else {
					err = reserialize(e, args[0], *out, opts)
				}
				if err != nil || !e.jsonOut {
					return err
				}
				if fi, err := os.Stat(*out); err == nil {
					doc.Bytes = fi.Size()
				}
				return printJSON(e, "convert", doc)
			}
		},
	})
}

// convertJSON is the --json output of whittle convert (schema whittle.convert/1).
type convertJSON struct {
	Input        string `json:"input"`
	Output       string `json:"output"`
	ExternalData bool   `json:"external_data"`
	// Bytes is the size of the output file (without its external data).
	Bytes int64 `json:"bytes"`
	// OpsetFrom, OpsetTo and Changes are set by --opset.
	OpsetFrom int64 `json:"opset_from,omitempty"`
	OpsetTo   int64 `json:"opset_to,omitempty"`
	Changes   *int  `json:"changes,omitempty"`
}

// convertOpset loads IN into the IR, runs the convert_opset pass and saves OUT.
func convertOpset(e *env, in, out string, opset int64, opts whittle.SaveOptions, doc *convertJSON) error {
	pipeline, err := passes.ParsePipeline(fmt.Sprintf("convert_opset:opset=%d", opset))
	if err != nil {
		return usagef("--opset: %v", err)
	}
	m, err := loadModel(e, in)
	if err != nil {
		return err
	}
	from, _ := m.Opset("")
	res, err := whittle.Optimize(m, whittle.OptimizeOptions{Recipe: passes.Recipe{pipeline}})
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := saveModel(e, out, m, opts); err != nil {
		return err
	}
	fmt.Fprintf(e.textOut(out), "opset %d -> %d: %d changes\n", from, opset, len(res.Changes))
	n := len(res.Changes)
	doc.OpsetFrom, doc.OpsetTo, doc.Changes = from, opset, &n
	return nil
}

// reserialize copies IN to OUT at the protobuf level (no IR), either of them "-".
func reserialize(e *env, in, out string, opts onnx.WriteOptions) error {
	var p *onnxpb.ModelProto
	var err error
	if in == "-" {
		data, err := io.ReadAll(io.LimitReader(e.stdin, 2<<30))
		if err != nil {
			return err
		}
		if p, err = onnx.Decode(data); err != nil {
			return fmt.Errorf("<stdin>: %w", err)
		}
		if onnx.HasExternalData(p) {
			if err := onnx.LoadExternalData(p, "."); err != nil {
				return fmt.Errorf("<stdin>: %w", err)
			}
		}
	} else if p, err = onnx.ReadFile(in); err != nil {
		return err
	}
	if out == "-" {
		data, err := onnx.Encode(p)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(data)
		return err
	}
	if err := onnx.WriteFile(out, p, opts); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s\n", out)
	return nil
}

// guardExternalData refuses to write OUT's external data file over a data file that IN
// refers to (unless OUT is IN itself): IN would be left pointing at bytes laid out anew.
func guardExternalData(in, out string, external bool, location string) error {
	if !external {
		return nil
	}
	if location == "" {
		location = filepath.Base(out) + ".data"
	}
	target := filepath.Join(filepath.Dir(out), location)
	p, err := onnx.ReadFileWithOptions(in, onnx.ReadOptions{SkipExternalData: true})
	if err != nil {
		return err
	}
	if sameFile(in, out) {
		return nil
	}
	for _, loc := range onnx.ExternalDataFiles(p) {
		if sameFile(filepath.Join(filepath.Dir(in), loc), target) {
			return fmt.Errorf("writing %s would overwrite %s, which %s reads its tensors from; choose another --location or output folder", target, loc, in)
		}
	}
	return nil
}

// sameFile reports whether two paths name the same existing file.
func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
