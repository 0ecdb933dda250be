package distill

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
)

// buildBlocks extracts each block's region from t, makes its student block and splices
// every block into a copy of t (st.Model).
func buildBlocks(ctx *passes.Context, t *ir.Model, st *Student) error {
	owner := map[*ir.Node]string{}
	for _, bs := range st.Spec.Blocks {
		label := bs.From + ".." + bs.To
		r, err := passes.FindRegion(t, bs.From, bs.To)
		if err != nil {
			return err
		}
		for _, n := range r.Nodes {
			if o, ok := owner[n]; ok {
				return fmt.Errorf("blocks %s and %s overlap (both hold node %q)", o, label, n.Name)
			}
			owner[n] = label
		}
		b := &Block{Spec: bs, Teacher: r.Extract(t)}
		inner := &passes.Context{}
		switch bs.Student.Kind {
		case KindAuto:
			b.Student, b.Prune, _, err = autoStudent(inner, b.Teacher, bs.Student)
		case KindLowRank:
			b.Student, b.LowRank, _, err = lowRankStudent(inner, b.Teacher, bs.Student)
		case KindFile:
			b.Student, err = LoadStudent(bs.Student.File)
			if err == nil {
				err = checkInterfaces(b.Teacher, b.Student, false)
			}
		default:
			err = fmt.Errorf("a block's student must be auto, lowrank or a file, not %q", bs.Student.Kind)
		}
		if err != nil {
			return fmt.Errorf("block %s: %w", label, err)
		}
		b.TeacherMACs = passes.Summarize(b.Teacher).MACs
		b.StudentMACs = passes.Summarize(b.Student).MACs
		st.Blocks = append(st.Blocks, b)
	}
	m, err := Assemble(ctx, t, st.Blocks)
	if err != nil {
		return err
	}
	st.Model = m
	return nil
}

// Assemble returns a copy of teacher with every block's student spliced in its region.
func Assemble(ctx *passes.Context, teacher *ir.Model, blocks []*Block) (*ir.Model, error) {
	m := teacher.Clone()
	for _, b := range blocks {
		if err := passes.SpliceRegion(ctx, m, b.Spec.From, b.Spec.To, b.Student); err != nil {
			return nil, err
		}
	}
	return m, nil
}
