package distill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/train"
)

// MetaDistill is the metadata key of a student's provenance: the teacher's hash, the
// student spec, the recipe and the results.
const MetaDistill = "whittle.distill"

// Distiller is the distill step of a pipeline (passes.Distiller): it replaces the model
// by its trained student. Put one in passes.Context.Distiller to run recipes such as
// prune → distill → quantize.
type Distiller struct {
	// Context bounds the training (context.Background when nil).
	Context context.Context
	// Open opens data specs (dataset.Open when nil).
	Open func(spec string) (dataset.Dataset, error)
	// Progress is told about every step and epoch.
	Progress func(phase string, ev train.Event)
	// Last is the outcome of the last Distill call, also when it failed a budget.
	Last *Result
}

// Provenance is what MetaDistill holds.
type Provenance struct {
	TeacherSHA256 string            `json:"teacher_sha256"`
	Student       string            `json:"student"`
	Recipe        map[string]string `json:"recipe"`
	Teacher       ModelSize         `json:"teacher"`
	Result        ModelSize         `json:"result"`
	Search        string            `json:"search,omitempty"`
	Phases        []PhaseSummary    `json:"phases"`
	Val           *Agreement        `json:"val,omitempty"`
}

// ModelSize is a model's parameters and MACs (batch 1).
type ModelSize struct {
	Params int64 `json:"params"`
	MACs   int64 `json:"macs"`
}

// PhaseSummary is one training phase in the provenance.
type PhaseSummary struct {
	Name      string  `json:"name"`
	Epochs    int     `json:"epochs"`
	FinalLoss float64 `json:"final_loss"`
}

// Distill implements passes.Distiller.
func (d *Distiller) Distill(pctx *passes.Context, m *ir.Model, p passes.Params) error {
	open := d.Open
	if open == nil {
		open = dataset.Open
	}
	o, err := OptionsFromParams(p, open)
	if err != nil {
		return err
	}
	o.Progress = d.Progress
	ctx := d.Context
	if ctx == nil {
		ctx = context.Background()
	}
	var teacher *ir.Model
	switch tspec := p.String("teacher", "self"); tspec {
	case "", "self":
		teacher = m.Clone()
	default:
		if _, ok := p["student"]; ok {
			return fmt.Errorf("distill: student= applies to teacher=self; with teacher=%s the model itself is the student", tspec)
		}
		if tspec == "original" {
			if pctx.Original == nil {
				return fmt.Errorf("distill: teacher=original but the pipeline kept no original model")
			}
			teacher = pctx.Original
		} else if teacher, err = onnx.LoadModel(tspec); err != nil {
			return fmt.Errorf("distill: teacher %s: %w", tspec, err)
		}
		o.StudentModel = m
	}
	res, err := Run(ctx, pctx, teacher, o)
	d.Last = res
	if err != nil {
		return err
	}
	student := o.Student.String()
	if o.StudentModel != nil {
		student = "the model itself (teacher=" + p.String("teacher", "") + ")"
	}
	prov := Provenance{Student: student, Recipe: map[string]string{}, Val: res.Val,
		Teacher: ModelSize{res.Student.Teacher.Params, res.Student.Teacher.MACs}, Search: res.Student.Search}
	if prov.TeacherSHA256, err = ModelSHA256(teacher); err != nil {
		return err
	}
	for k, v := range p {
		prov.Recipe[k] = v
	}
	after := passes.Summarize(res.Model)
	prov.Result = ModelSize{after.Params, after.MACs}
	for _, ph := range res.Phases {
		// No wall-clock time here: the provenance is part of the model, and the same
		// run must write the same bytes.
		s := PhaseSummary{Name: ph.Name, Epochs: len(ph.Fit.Epochs)}
		if n := len(ph.Fit.Epochs); n > 0 {
			s.FinalLoss = ph.Fit.Epochs[n-1].Loss
		}
		prov.Phases = append(prov.Phases, s)
	}
	b, err := json.Marshal(prov)
	if err != nil {
		return err
	}
	res.Model.SetMetadata(MetaDistill, string(b))
	*m = *res.Model
	return nil
}

// ModelSHA256 hashes m as it would be written.
func ModelSHA256(m *ir.Model) (string, error) {
	p, err := onnx.FromIR(m)
	if err != nil {
		return "", err
	}
	raw, err := onnx.Encode(p)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

var _ passes.Distiller = (*Distiller)(nil)

// Describe renders a result for a terminal.
func (r *Result) Describe() string {
	s := fmt.Sprintf("student: %s", r.Student.Spec)
	if r.Student.Search != "" {
		s += " (" + r.Student.Search + ")"
	}
	return s
}
