package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/passes"
)

func init() {
	register(&command{
		name:    "calibrate",
		args:    "MODEL --data SPEC [--shard K/N] -o STATS.json [--method M]",
		summary: "gather static quantization's calibration statistics, for one shard of the data",
		help: `
Runs the calibration of 'whittle quantize' alone and writes its statistics (minima,
maxima and, for --method percentile or entropy, histograms) to a JSON file. With
--shard K/N it covers only shard K of N of the data, so that N machines (a Kubernetes
Indexed Job, a Slurm array) calibrate in parallel; 'whittle quantize --stats GLOB' then
merges the N files exactly and quantizes to the same bytes as one run over all the
data. A shard holds whole calibration batches (batch j goes to shard j mod N + 1), so
give every shard and the single run the same --batch-size. --method ema depends on the
order of batches and cannot be sharded.

The model is prepared as 'whittle quantize' prepares it (optimize unless
--optimize=false, opset upgrade, preparation for quantization); the statistics name the
model by a digest of its file, and quantize refuses statistics of another model.

Examples:
  whittle calibrate resnet18.onnx --data images:calib --preprocess imagenet --method entropy --shard 2/4 -o stats-2.json
  whittle quantize resnet18.onnx -o resnet18.int8.onnx --stats 'stats-*.json'`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "statistics `FILE` to write (required)")
			data := fs.String("data", "", "calibration data `SPEC` (all shards together)")
			preprocess := preprocessFlag(fs)
			method := fs.String("method", "minmax", "calibration method: minmax, percentile, entropy")
			batch := fs.Int("batch-size", 0, "rows per calibration run (the same for every shard and for quantize)")
			shard := fs.String("shard", "1/1", "the shard `K/N` of the data to calibrate on")
			optimize := fs.Bool("optimize", true, "run the lossless optimize pipeline first, as quantize does")
			asJSON := jsonFlag(fs)
			return func(e *env, args []string) error {
				if err := exactArgs(args, 1, "one MODEL"); err != nil {
					return err
				}
				if *out == "" || *data == "" {
					return usagef("--data SPEC and -o FILE are required")
				}
				k, n, err := dataset.ParseShard(*shard)
				if err != nil {
					return usagef("--shard: %v", err)
				}
				digest, err := fileDigest(args[0])
				if err != nil {
					return err
				}
				m, err := loadModel(e, args[0])
				if err != nil {
					return err
				}
				bar, finish := e.progressFunc()
				stats, err := whittle.Calibrate(m, whittle.QuantizeOptions{Calibration: *data, Preprocess: *preprocess,
					Method: passes.CalibrationMethod(*method), BatchSize: *batch, SkipOptimize: !*optimize, Progress: bar}, whittle.Shard{K: k, N: n})
				finish()
				if err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
				stats.Model = digest
				body, err := withSchema("calibration-stats", stats)
				if err != nil {
					return err
				}
				if err := writeFileAtomic(*out, body); err != nil {
					return err
				}
				if *asJSON {
					return printJSON(e, "calibrate", struct {
						Model   string `json:"model"`
						Output  string `json:"output"`
						Shard   int    `json:"shard"`
						Shards  int    `json:"shards"`
						Rows    int    `json:"rows"`
						Tensors int    `json:"tensors"`
						Method  string `json:"method"`
					}{args[0], *out, k, n, stats.Rows, len(stats.Tensors), string(stats.Method)})
				}
				fmt.Fprintf(e.stdout, "shard %d/%d: %d rows, %d tensors (%s)\n", k, n, stats.Rows, len(stats.Tensors), stats.Method)
				fmt.Fprintf(e.stderr, "wrote %s\n", *out)
				return nil
			}
		},
	})
}

// fileDigest names a model file by the first 16 hex digits of its SHA-256.
func fileDigest(path string) (string, error) {
	if path == "-" {
		return "", usagef("calibration statistics need the model in a file, not '-'")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// loadStats reads the statistics files matching pattern, checks they were gathered on
// model, and merges them.
func loadStats(pattern, model string) (*passes.CalibrationStats, error) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, usagef("--stats %q: %v", pattern, err)
	}
	if len(files) == 0 {
		return nil, usagef("--stats %q matches no file", pattern)
	}
	sort.Strings(files)
	digest, err := fileDigest(model)
	if err != nil {
		return nil, err
	}
	var parts []*passes.CalibrationStats
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var s passes.CalibrationStats
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if s.Model != digest {
			return nil, fmt.Errorf("%s: statistics of another model (digest %s; %s is %s)", f, s.Model, model, digest)
		}
		parts = append(parts, &s)
	}
	merged, err := passes.MergeCalibrationStats(parts)
	if err != nil {
		return nil, fmt.Errorf("--stats %s: %w", pattern, err)
	}
	return merged, nil
}
