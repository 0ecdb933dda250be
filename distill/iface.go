package distill

import (
	"fmt"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/checker"
)

// InterfaceError lists how a student's inputs and outputs differ from its teacher's.
type InterfaceError struct {
	Problems []string
}

func (e *InterfaceError) Error() string {
	return "the student's interface does not match the teacher's: " + strings.Join(e.Problems, "; ")
}

// LoadStudent reads a student model file and checks it: it must parse, verify and pass
// ONNX's checker. BatchNormalization statistics that the exporter tied to other
// initializers get their own (see untieBatchNormStats).
func LoadStudent(path string) (*ir.Model, error) {
	m, err := onnx.LoadModel(path)
	if err != nil {
		return nil, fmt.Errorf("student %s: %w", path, err)
	}
	if err := m.Verify(); err != nil {
		return nil, fmt.Errorf("student %s is not a valid model: %w", path, err)
	}
	if err := Check(m); err != nil {
		return nil, fmt.Errorf("student %s: %w", path, err)
	}
	if _, err := untieBatchNormStats(m); err != nil {
		return nil, fmt.Errorf("student %s: %w", path, err)
	}
	return m, nil
}

// Check runs ONNX's checker rules on m as it would be written.
func Check(m *ir.Model) error {
	p, err := onnx.FromIR(m)
	if err != nil {
		return err
	}
	return checker.AsError(checker.CheckModel(p, checker.Options{}))
}

// feedInputs are the graph inputs a caller supplies.
func feedInputs(m *ir.Model) []*ir.Value {
	var out []*ir.Value
	for _, v := range m.Graph.Inputs {
		if !v.IsConst() {
			out = append(out, v)
		}
	}
	return out
}

// CheckInterfaces checks that student can stand in for teacher: the same inputs (by name,
// element type and shape) and as many outputs, each of its teacher counterpart's element
// type and shape. A symbolic dimension (the batch) matches any size.
func CheckInterfaces(teacher, student *ir.Model) error {
	return checkInterfaces(teacher, student, true)
}

// checkInterfaces is CheckInterfaces; byName false matches inputs by position (blocks,
// whose input the user may have named differently).
func checkInterfaces(teacher, student *ir.Model, byName bool) error {
	var probs []string
	tin, sin := feedInputs(teacher), feedInputs(student)
	if byName {
		have := map[string]*ir.Value{}
		for _, v := range sin {
			have[v.Name] = v
		}
		for _, v := range tin {
			s := have[v.Name]
			if s == nil {
				probs = append(probs, fmt.Sprintf("no input %q (%s); the student's inputs are %s", v.Name, v.Type, names(sin)))
				continue
			}
			delete(have, v.Name)
			if why := typeMismatch(v.Type, s.Type); why != "" {
				probs = append(probs, fmt.Sprintf("input %q is %s, the teacher's is %s (%s)", v.Name, s.Type, v.Type, why))
			}
		}
		for _, s := range sin {
			if have[s.Name] != nil {
				probs = append(probs, fmt.Sprintf("input %q (%s) is not one of the teacher's (%s)", s.Name, s.Type, names(tin)))
			}
		}
	} else if len(tin) != len(sin) {
		probs = append(probs, fmt.Sprintf("%d inputs, the teacher has %d", len(sin), len(tin)))
	} else {
		for i := range tin {
			if why := typeMismatch(tin[i].Type, sin[i].Type); why != "" {
				probs = append(probs, fmt.Sprintf("input %d %q is %s, the teacher's %q is %s (%s)", i, sin[i].Name, sin[i].Type, tin[i].Name, tin[i].Type, why))
			}
		}
	}
	tout, sout := teacher.Graph.Outputs, student.Graph.Outputs
	if len(tout) != len(sout) {
		probs = append(probs, fmt.Sprintf("%d outputs (%s), the teacher has %d (%s)", len(sout), names(sout), len(tout), names(tout)))
	} else {
		for i := range tout {
			if why := typeMismatch(tout[i].Type, sout[i].Type); why != "" {
				probs = append(probs, fmt.Sprintf("output %d %q is %s, the teacher's %q is %s (%s)", i, sout[i].Name, sout[i].Type, tout[i].Name, tout[i].Type, why))
			}
		}
	}
	if len(probs) > 0 {
		return &InterfaceError{Problems: probs}
	}
	return nil
}

func names(vs []*ir.Value) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%q", v.Name)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// typeMismatch says why b cannot stand where a is, or "".
func typeMismatch(a, b *ir.Type) string {
	switch {
	case a == nil || b == nil:
		return ""
	case a.Kind != b.Kind:
		return "not a tensor"
	case a.Kind != ir.TensorKind:
		return ""
	case a.Elem != b.Elem:
		return fmt.Sprintf("element type %s, want %s", b.Elem, a.Elem)
	case !a.HasShape || !b.HasShape:
		return ""
	case len(a.Dims) != len(b.Dims):
		return fmt.Sprintf("rank %d, want %d", len(b.Dims), len(a.Dims))
	}
	for i := range a.Dims {
		if a.Dims[i].IsKnown() && b.Dims[i].IsKnown() && a.Dims[i].Value != b.Dims[i].Value {
			return fmt.Sprintf("dimension %d is %d, want %d", i, b.Dims[i].Value, a.Dims[i].Value)
		}
	}
	return ""
}
