package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/distill"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
	"github.com/whittle-ml/whittle/train"
)

func init() {
	register(&command{
		name: "distill",
		args: "TEACHER -o STUDENT --data SPEC [--student KIND] [--val SPEC] [--epochs N] [--batch B] [--lr LR] " +
			"[--temperature T] [--alpha A] [--seed S] [--max-accuracy-drop PP]",
		summary: "train a smaller student to behave like a model (knowledge distillation)",
		help: `
Makes a smaller student of TEACHER and trains it on the teacher's outputs with the loss
alpha·T²·KL(teacher/T ‖ student/T) + (1−alpha)·CE(labels) (the KD term alone when the
data has no labels), with the teacher run by whittle's runtime on every (augmented)
batch and its outputs cached by image. Students (--student):

  auto:macs=F | auto:params=F | auto:width=F
        the teacher channel-pruned (dependency-aware: residual ties, grouped convolutions,
        transformer MLP widths and attention heads; attention=heads removes whole heads)
        to a share of its MACs or parameters, or to a width, starting from the teacher's
        strongest channels
  lowrank:rank=R | lowrank:energy=E | lowrank:params=F
        Gemm/MatMul and 1x1 Conv weights factorised by truncated SVD into two thinner
        layers, at a rank, a kept energy, or the energy that meets a parameter budget
  FILE.onnx
        a student you designed and exported; it must take the teacher's inputs and give an
        output of the teacher's shape, which is checked before training
  block:FROM..TO=KIND[;FROM..TO=KIND...]   (or --student repeated)
        the single-entry single-exit region between tensors FROM and TO replaced by a
        smaller block (KIND auto:..., lowrank:... or FILE.onnx) trained to reproduce the
        teacher's TO from its FROM (--block-loss mse or cosine, --block-epochs), spliced in
        place, then --epochs of end-to-end KD (0 to skip)

The student is checked (ONNX rules, shape inference, a run); with --val its accuracy, its
top-1 agreement with the teacher and KL(teacher ‖ student) are measured, and with
--max-accuracy-drop a student that loses more top-1 points than allowed is not written
(exit 1, with the figures). STUDENT records the teacher's hash, the student kind, the
recipe and the results (metadata whittle.distill), and a change log that 'whittle diff
TEACHER STUDENT' explains. --labels-only trains the same student on labels alone, the
baseline that shows what the teacher adds. The same step runs in recipes:
'whittle optimize --recipe' with {pass: distill, params: {student: ..., data: ...}}.

Examples:
  whittle distill cnn.onnx -o small.onnx --data fashion-mnist:train --val fashion-mnist:test --student auto:macs=0.25 --epochs 10
  whittle distill mlp.onnx -o mlp_lr.onnx --data fashion-mnist:train --student lowrank:params=0.5 --optimizer adamw
  whittle distill cnn.onnx -o mine.onnx --data fashion-mnist:train --student my_student.onnx --max-accuracy-drop 1 --val fashion-mnist:test
  whittle distill vit.onnx -o vit_blk.onnx --data fashion-mnist:train --student 'block:/layers/layers.0/ln2/LayerNormalization_output_0../layers/layers.0/mlp/mlp.3/Add_output_0=auto:width=0.5'`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "output student model `FILE` (required)")
			students := fs.StringArray("student", nil, "student `KIND` (see above; default auto:macs=0.25); block students may repeat the flag")
			dataSpec := fs.String("data", "", "training data `SPEC` (required; labels optional)")
			val := fs.String("val", "", "validation data `SPEC`: accuracy, agreement, KL and the budget")
			epochs := fs.Int("epochs", 5, "epochs of knowledge distillation")
			batch := fs.Int("batch", 128, "batch size")
			lr := fs.Float64("lr", -1, "learning rate (default 0.05 with sgd, 0.002 with adamw)")
			optimizer := fs.String("optimizer", "sgd", "sgd (Nesterov momentum 0.9) or adamw")
			wd := fs.Float64("weight-decay", -1, "weight decay (default 5e-4 with sgd, 0.01 with adamw)")
			schedule := fs.String("schedule", "cosine", "learning-rate schedule: cosine, constant or step, with :warmup=STEPS ...")
			temperature := fs.Float64("temperature", 4, "softmax temperature T")
			alpha := fs.Float64("alpha", 0.9, "weight of the KD term; 1-alpha weighs cross-entropy on labels")
			seed := fs.Int64("seed", 1, "seed of data order, augmentation and dropout")
			augment := fs.String("augment", "flip", "training augmentation: none, flip, crop:P or crop:P,flip")
			labelsOnly := fs.Bool("labels-only", false, "train the student on labels alone (the baseline without a teacher)")
			blockEpochs := fs.Int("block-epochs", 3, "epochs of feature distillation per block")
			blockLoss := fs.String("block-loss", "mse", "block feature loss: mse or cosine")
			maxDrop := fs.Float64("max-accuracy-drop", -1, "refuse a student whose top-1 on --val is more than `PP` points below the teacher's")
			report := fs.String("report", "", "write what was done and measured as JSON to `FILE`")
			asJSON := jsonFlag(fs)
			threads := threadsFlag(fs)
			return func(e *env, args []string) error {
				if err := exactArgs(args, 1, "one TEACHER model"); err != nil {
					return err
				}
				if *out == "" {
					return usagef("-o STUDENT is required")
				}
				if *dataSpec == "" {
					return usagef("--data SPEC is required")
				}
				if *maxDrop >= 0 && *val == "" {
					return usagef("--max-accuracy-drop needs --val")
				}
				spec, err := joinStudents(*students)
				if err != nil {
					return usagef("--student: %v", err)
				}
				if _, err := distill.ParseAugment(*augment); err != nil {
					return usagef("--augment: %v", err)
				}
				p := passes.Params{
					"student": spec, "data": *dataSpec, "epochs": strconv.Itoa(*epochs), "batch": strconv.Itoa(*batch),
					"optimizer": *optimizer, "schedule": *schedule, "temperature": ftoa(*temperature),
					"alpha": ftoa(*alpha), "seed": strconv.FormatInt(*seed, 10), "augment": *augment,
					"block_epochs": strconv.Itoa(*blockEpochs), "block_loss": *blockLoss,
				}
				if *val != "" {
					p["val"] = *val
				}
				if *lr >= 0 {
					p["lr"] = ftoa(*lr)
				}
				if *wd >= 0 {
					p["weight_decay"] = ftoa(*wd)
				}
				if *labelsOnly {
					p["labels_only"] = "true"
				}
				if *maxDrop >= 0 {
					p["max_accuracy_drop"] = ftoa(*maxDrop)
				}
				if err := (passes.Pipeline{{Pass: "distill", Params: p}}).Check(); err != nil {
					return usagef("%v", err)
				}
				if err := e.startJSON(*asJSON, *out); err != nil {
					return err
				}
				defer threads()()
				return runDistill(e, args[0], *out, p, *report)
			}
		},
	})
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// joinStudents merges --student values: one spec, or several block specs into one.
func joinStudents(ss []string) (string, error) {
	if len(ss) == 0 {
		return "auto:macs=0.25", nil
	}
	var blocks []string
	for _, s := range ss {
		sp, err := distill.ParseSpec(s)
		if err != nil {
			return "", err
		}
		if len(ss) > 1 && sp.Kind != distill.KindBlock {
			return "", fmt.Errorf("only block students may be given more than once (%q)", s)
		}
		if sp.Kind == distill.KindBlock {
			blocks = append(blocks, strings.TrimPrefix(sp.String(), "block:"))
		}
	}
	if len(ss) == 1 {
		sp, _ := distill.ParseSpec(ss[0])
		return sp.String(), nil
	}
	return "block:" + strings.Join(blocks, ";"), nil
}

// distillJSON is what --report writes.
type distillJSON struct {
	Teacher string              `json:"teacher"`
	Output  string              `json:"output"`
	Version string              `json:"whittle_version"`
	Params  passes.Params       `json:"params"`
	Build   *distill.Student    `json:"build"`
	Phases  []distill.Phase     `json:"phases"`
	Val     *distill.Agreement  `json:"val,omitempty"`
	Prov    *distill.Provenance `json:"provenance,omitempty"`
}

func runDistill(e *env, in, out string, p passes.Params, reportPath string) error {
	m, err := loadModel(e, in)
	if err != nil {
		return err
	}
	d := &distill.Distiller{Context: context.Background(), Open: func(spec string) (dataset.Dataset, error) { return openData(spec, "") },
		Progress: distillProgress(e)}
	teacherSize := whittle.SizeOf(m)
	teacherMACs := distillMACs(m)
	opts := whittle.OptimizeOptions{Recipe: passes.Recipe{{{Pass: "distill", Params: p}}}, VerifyEach: true, Distiller: d}
	if _, err := whittle.Optimize(m, opts); err != nil {
		if d.Last != nil && d.Last.Val != nil {
			printDistillVal(e.textOut(out), d.Last.Val)
		}
		return fmt.Errorf("%s: %w (nothing written)", in, err)
	}
	res := d.Last
	// The guard rails: shape inference agrees with the student, and it runs (the
	// validation run, or one batch of the training data).
	if rep, err := infer.Model(m.Clone(), infer.Options{DataPropagation: true}); err != nil || len(rep.Problems) > 0 {
		return fmt.Errorf("%s: shape inference disagrees with the student (nothing written): %v %v", in, err, rep)
	}
	if res.Val == nil {
		if err := runOneBatch(m, p["data"]); err != nil {
			return fmt.Errorf("%s: the student does not run (nothing written): %w", in, err)
		}
	}
	if err := saveModel(e, out, m, whittle.SaveOptions{}); err != nil {
		return err
	}
	after := whittle.SizeOf(m)
	w := e.textOut(out)
	if e.jsonOut {
		w = io.Discard
	}
	fmt.Fprintf(w, "%s\n", res.Describe())
	fmt.Fprintf(w, "params   %8s -> %s\n", stats.FormatCount(teacherSize.Params), stats.FormatCount(after.Params))
	fmt.Fprintf(w, "MACs     %8s -> %s (batch 1)\n", stats.FormatCount(teacherMACs), stats.FormatCount(distillMACs(m)))
	fmt.Fprintf(w, "bytes    %8s -> %s\n", stats.FormatBytes(teacherSize.Bytes), stats.FormatBytes(after.Bytes))
	for _, ph := range res.Phases {
		fmt.Fprintf(w, "%-12s %d epochs in %.0fs\n", ph.Name, len(ph.Fit.Epochs), ph.Fit.Seconds)
	}
	if res.TeacherRuns+res.TeacherHits > 0 {
		fmt.Fprintf(w, "teacher  %d rows run, %d served from the cache\n", res.TeacherRuns, res.TeacherHits)
	}
	if res.Val != nil {
		printDistillVal(w, res.Val)
	}
	r := distillJSON{Teacher: in, Output: out, Version: whittle.Version(), Params: p, Build: res.Student, Phases: res.Phases, Val: res.Val}
	if raw, ok := m.MetadataValue(distill.MetaDistill); ok {
		var prov distill.Provenance
		if json.Unmarshal([]byte(raw), &prov) == nil {
			r.Prov = &prov
		}
	}
	if reportPath != "" {
		if err := writeJSONFile(reportPath, r); err != nil {
			return err
		}
	}
	if e.jsonOut {
		return printJSON(e, "distill", r)
	}
	return nil
}

// distillMACs is m's MACs for batch 1.
func distillMACs(m *ir.Model) int64 { return passes.Summarize(m).MACs }

func printDistillVal(w io.Writer, a *distill.Agreement) {
	if a.Labelled {
		fmt.Fprintf(w, "top-1    teacher %.2f%% (%d/%d), student %.2f%% (%d/%d), %+.2f points\n",
			a.TeacherAccuracy, a.TeacherCorrect, a.Rows, a.StudentAccuracy, a.StudentCorrect, a.Rows, -a.Drop())
	}
	fmt.Fprintf(w, "agree    %.2f%% top-1 agreement with the teacher, KL(teacher ‖ student) %.4f\n", a.Agree, a.KL)
}

// distillProgress prints a line per epoch (and a bar per epoch on a terminal); the lines
// go to stderr when stdout carries JSON.
func distillProgress(e *env) func(string, train.Event) {
	var bar *progress
	return func(phase string, ev train.Event) {
		switch ev.Kind {
		case train.StepDone:
			if bar == nil {
				bar = newProgress(e, ev.Steps, fmt.Sprintf("%s epoch %d/%d", phase, ev.Epoch, ev.Epochs))
			}
			bar.Add(1)
		case train.EpochDone:
			line := fmt.Sprintf("%-8s epoch %d/%d  loss %.4f", phase, ev.Epoch, ev.Epochs, ev.Loss)
			if ev.Accuracy > 0 {
				line += fmt.Sprintf("  train %.2f%%", ev.Accuracy)
			}
			if ev.Val != nil {
				line += fmt.Sprintf("  val %.2f%%", ev.Val.Accuracy)
			}
			line += fmt.Sprintf("  %.0f samples/s", ev.SamplesPerSec)
			switch {
			case e.jsonOut:
				if bar != nil {
					bar.Finish()
				}
				fmt.Fprintln(e.stderr, line)
			case bar != nil:
				bar.Println(line)
				bar.Finish()
			default:
				fmt.Fprintln(e.stdout, line)
			}
			bar = nil
		}
	}
}

// runOneBatch runs m on the first rows of a data spec.
func runOneBatch(m *ir.Model, spec string) error {
	ds, err := openData(spec, "")
	if err != nil {
		return err
	}
	b, err := ds.Batch(0, min(8, ds.Len()))
	if err != nil {
		return err
	}
	feeds, err := datafeed.BatchFeeds(m, b)
	if err != nil {
		return err
	}
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return err
	}
	_, err = sess.Run(context.Background(), feeds)
	return err
}
