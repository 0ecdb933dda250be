package distill

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/passes"
)

// Student is a student model before training, and how it was made.
type Student struct {
	Spec Spec
	// Model is the untrained student (left out of JSON reports: a whole model).
	Model *ir.Model `json:"-"`
	// Blocks are a block student's regions: each extracted from the teacher and its
	// student block. Model is the teacher with every student block spliced in.
	Blocks []*Block
	// Teacher and After measure the teacher and the student (MACs for batch 1).
	Teacher, After passes.ModelSummary
	// Prune and LowRank report how an auto or lowrank student was derived.
	Prune   *passes.PruneReport   `json:",omitempty"`
	LowRank *passes.LowRankReport `json:",omitempty"`
	// Search says how a budget (macs=, params=) was met: the setting found.
	Search string `json:",omitempty"`
}

// Block is one region of a block student.
type Block struct {
	Spec BlockSpec
	// Teacher is the region as a model of its own (input From, output To); Student the
	// block that replaces it (both left out of JSON reports).
	Teacher, Student *ir.Model `json:"-"`
	// TeacherMACs and StudentMACs are the blocks' MACs for batch 1.
	TeacherMACs, StudentMACs int64
	Prune                    *passes.PruneReport   `json:",omitempty"`
	LowRank                  *passes.LowRankReport `json:",omitempty"`
}

// BudgetError says a size budget cannot be met.
type BudgetError struct {
	What    string  // "MACs" or "parameters"
	Target  float64 // the share asked for
	Reached float64 // the smallest share reachable
	Why     string
}

func (e *BudgetError) Error() string {
	s := fmt.Sprintf("cannot reach %.4g of the teacher's %s: the smallest student this kind makes has %.4g", e.Target, e.What, e.Reached)
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s
}

// KindGiven marks a student handed over as a model (Options.StudentModel).
const KindGiven = "given"

// given wraps a student model handed over as it is, after checking its interface.
func given(teacher, m *ir.Model) (*Student, error) {
	if err := CheckInterfaces(teacher, m); err != nil {
		return nil, err
	}
	t := teacher.Clone()
	s := m.Clone()
	if _, err := untieBatchNormStats(s); err != nil {
		return nil, err
	}
	for _, x := range []*ir.Model{t, s} {
		if _, err := infer.Model(x, infer.Options{DataPropagation: true}); err != nil {
			return nil, err
		}
	}
	return &Student{Spec: Spec{Kind: KindGiven}, Model: s, Teacher: passes.Summarize(t), After: passes.Summarize(s)}, nil
}

// Build makes the untrained student spec describes from teacher, which is not changed.
// The rewrites are logged in ctx's change log. teacher should carry inferred types.
func Build(ctx *passes.Context, teacher *ir.Model, spec Spec) (*Student, error) {
	if ctx == nil {
		ctx = &passes.Context{}
	}
	t := teacher.Clone()
	if _, err := infer.Model(t, infer.Options{DataPropagation: true}); err != nil {
		return nil, fmt.Errorf("teacher: shape inference: %w", err)
	}
	st := &Student{Spec: spec, Teacher: passes.Summarize(t)}
	var err error
	switch spec.Kind {
	case KindAuto:
		st.Model, st.Prune, st.Search, err = autoStudent(ctx, t, spec)
	case KindLowRank:
		st.Model, st.LowRank, st.Search, err = lowRankStudent(ctx, t, spec)
	case KindFile:
		st.Model, err = LoadStudent(spec.File)
		if err == nil {
			err = CheckInterfaces(t, st.Model)
		}
	case KindBlock:
		err = buildBlocks(ctx, t, st)
	default:
		err = fmt.Errorf("unknown student kind %q", spec.Kind)
	}
	if err != nil {
		return nil, err
	}
	if _, err := infer.Model(st.Model, infer.Options{DataPropagation: true}); err != nil {
		return nil, fmt.Errorf("student: shape inference: %w", err)
	}
	st.After = passes.Summarize(st.Model)
	return st, nil
}
