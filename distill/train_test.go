package distill

import (
	"context"
	"errors"
	"testing"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/train/data"
	"github.com/whittle-ml/whittle/train/optim"
)

// Tiny budgets: a few hundred rows and one or two epochs, enough to see that training
// moves the student toward its teacher and that every loss path runs.

func fashion(t *testing.T, spec string) dataset.Dataset {
	t.Helper()
	ds, err := dataset.Open(spec)
	if err != nil {
		testSkipData(t, err)
	}
	return ds
}

// unlabelled hides a dataset's labels (calibration-style data).
type unlabelled struct{ dataset.Dataset }

func (u unlabelled) Batch(start, n int) (dataset.Batch, error) {
	b, err := u.Dataset.Batch(start, n)
	b.Labels = nil
	return b, err
}

func tinyOptions(t *testing.T, student string) Options {
	o := DefaultOptions()
	o.Student = mustSpec(t, student)
	o.Data = fashion(t, "fashion-mnist:train:512")
	o.Val = fashion(t, "fashion-mnist:test:300")
	o.Epochs, o.Batch = 2, 64
	return o
}

func TestRunMovesTheStudentTowardTheTeacher(t *testing.T) {
	teacher := testModel(t, "fashion_mlp_op17.onnx")
	for _, tc := range []struct {
		name string
		opts func(o *Options)
	}{
		{"kd with labels", func(o *Options) { o.Optimizer = "adamw" }},
		{"pure kd without labels, sgd", func(o *Options) { o.Data, o.LR = unlabelled{o.Data}, 0.01 }},
		{"no augmentation, constant schedule", func(o *Options) {
			o.Optimizer, o.Augment, o.Schedule = "adamw", mustAugment("none"), optim.Constant{}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tinyOptions(t, "lowrank:rank=8")
			tc.opts(&o)
			ctx := &passes.Context{}
			res, err := Run(context.Background(), ctx, teacher, o)
			if err != nil {
				t.Fatal(err)
			}
			before, err := Compare(context.Background(), teacher, res.Student.Model, o.Val, 100)
			if err != nil {
				t.Fatal(err)
			}
			after := res.Val
			if after == nil || after.KL >= before.KL || after.Agree <= before.Agree {
				t.Errorf("training did not move the student toward the teacher: before %+v, after %+v", before, after)
			}
			ep := res.Phases[0].Fit.Epochs
			if len(ep) != 2 || ep[1].Loss >= ep[0].Loss {
				t.Errorf("KD loss did not fall: %+v", ep)
			}
			if res.TeacherRuns == 0 {
				t.Error("the teacher never ran")
			}
			trained := 0
			for _, c := range ctx.Log.Changes {
				if c.Detail == "values (trained)" {
					trained++
				}
			}
			if trained == 0 {
				t.Error("no trained weight logged")
			}
		})
	}
}

func mustAugment(s string) data.Augment {
	a, _ := ParseAugment(s)
	return a
}

func TestRunLabelsOnlyNeedsNoTeacher(t *testing.T) {
	o := tinyOptions(t, "lowrank:rank=8")
	o.LabelsOnly, o.Epochs = true, 1
	res, err := Run(context.Background(), nil, testModel(t, "fashion_mlp_op17.onnx"), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.TeacherRuns != 0 || res.TeacherHits != 0 {
		t.Errorf("the teacher ran %d times for a labels-only student", res.TeacherRuns)
	}
	o.Data = unlabelled{o.Data}
	if _, err := Run(context.Background(), nil, testModel(t, "fashion_mlp_op17.onnx"), o); err == nil {
		t.Error("labels-only training on unlabelled data did not fail")
	}
}

func TestRunAccuracyBudget(t *testing.T) {
	o := tinyOptions(t, "auto:width=0.25")
	o.Epochs, o.MaxAccuracyDrop = 1, 0.5
	o.Data = fashion(t, "fashion-mnist:train:128")
	res, err := Run(context.Background(), nil, testModel(t, "fashion_mlp_op17.onnx"), o)
	var ae *AccuracyError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want an AccuracyError", err)
	}
	if res == nil || res.Val == nil || ae.Val.Drop() <= 0.5 {
		t.Errorf("budget error without figures: %+v", ae)
	}
}

// A block student: the CNN's first residual block at half width, trained on the teacher's
// features for two short epochs, then spliced with no end-to-end phase.
func TestRunBlockStudent(t *testing.T) {
	teacher := testModel(t, "fashion_cnn_op17.onnx")
	o := tinyOptions(t, "block:/features/features.3/MaxPool_output_0../features/features.4/Relu_1_output_0=auto:width=0.5")
	o.Data = fashion(t, "fashion-mnist:train:256")
	o.Epochs, o.BlockEpochs = 0, 2
	ctx := &passes.Context{}
	res, err := Run(context.Background(), ctx, teacher, o)
	if err != nil {
		t.Fatal(err)
	}
	ep := res.Phases[0].Fit.Epochs
	if len(res.Phases) != 1 || len(ep) != 2 || ep[1].Loss >= ep[0].Loss {
		t.Fatalf("feature loss did not fall: %+v", res.Phases)
	}
	if err := CheckInterfaces(teacher, res.Model); err != nil {
		t.Fatal(err)
	}
	if res.Val.Agree < 50 {
		t.Errorf("spliced student agrees with the teacher on %.1f%% of rows", res.Val.Agree)
	}
	// The log explains the splice and the trained block weights by name.
	var kinds []string
	for _, c := range ctx.Log.Changes {
		kinds = append(kinds, string(c.Kind)+" "+c.Value)
	}
	if len(kinds) == 0 {
		t.Error("nothing logged")
	}
}

// The distill step without a distiller is an error, not a silent no-op.
func TestDistillStepNeedsADistiller(t *testing.T) {
	m := testModel(t, "fashion_mlp_op17.onnx")
	_, err := passes.Run(&passes.Context{}, m, passes.Pipeline{{Pass: "distill", Params: passes.Params{"data": "x"}}})
	if err == nil {
		t.Fatal("no error")
	}
}
