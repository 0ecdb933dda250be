package distill

import (
	"context"
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
)

// Agreement measures a student against its teacher on the same data: accuracy of both
// (when the data has labels), how often their top-1 classes agree, and the mean
// KL(teacher ‖ student) of their softmax outputs, all from whittle's runtime.
type Agreement struct {
	Rows int `json:"rows"`
	// Labelled says the accuracies are meaningful.
	Labelled        bool    `json:"labelled"`
	TeacherCorrect  int     `json:"teacher_correct"`
	StudentCorrect  int     `json:"student_correct"`
	TeacherAccuracy float64 `json:"teacher_accuracy"`
	StudentAccuracy float64 `json:"student_accuracy"`
	// Agree is the share of rows (percent) whose top-1 class is the same.
	Agree float64 `json:"top1_agreement"`
	// KL is the mean KL(teacher ‖ student) per row, in nats, at temperature 1.
	KL float64 `json:"kl"`
}

// Drop returns the accuracy lost by the student, in percentage points.
func (a *Agreement) Drop() float64 { return a.TeacherAccuracy - a.StudentAccuracy }

// Compare runs teacher and student over ds in batches and measures their agreement on
// their first outputs (class scores [N, classes]).
func Compare(ctx context.Context, teacher, student *ir.Model, ds dataset.Dataset, batch int) (*Agreement, error) {
	ts, err := runtime.NewSession(teacher, runtime.Options{})
	if err != nil {
		return nil, fmt.Errorf("teacher: %w", err)
	}
	ss, err := runtime.NewSession(student, runtime.Options{})
	if err != nil {
		return nil, fmt.Errorf("student: %w", err)
	}
	tout, sout := teacher.Graph.Outputs[0].Name, student.Graph.Outputs[0].Name
	a := &Agreement{}
	agree := 0
	var kl float64
	lt, ls := []float64{}, []float64{}
	err = dataset.Each(ds, batch, func(start int, b dataset.Batch) error {
		tf, err := datafeed.BatchFeeds(teacher, b)
		if err != nil {
			return err
		}
		sf, err := datafeed.BatchFeeds(student, b)
		if err != nil {
			return err
		}
		tr, err := ts.Run(ctx, tf)
		if err != nil {
			return fmt.Errorf("teacher: %w", err)
		}
		sr, err := ss.Run(ctx, sf)
		if err != nil {
			return fmt.Errorf("student: %w", err)
		}
		tl, err := asFloat32(tr[tout])
		if err != nil {
			return fmt.Errorf("teacher output %q: %w", tout, err)
		}
		sl, err := asFloat32(sr[sout])
		if err != nil {
			return fmt.Errorf("student output %q: %w", sout, err)
		}
		rows := b.Size()
		if tl.NumElements() != sl.NumElements() || rows == 0 || tl.NumElements()%rows != 0 {
			return fmt.Errorf("teacher output %v and student output %v do not match for %d rows", tl.Shape, sl.Shape, rows)
		}
		c := tl.NumElements() / rows
		td, sd := tl.Float32s(), sl.Float32s()
		if cap(lt) < c {
			lt, ls = make([]float64, c), make([]float64, c)
		}
		lt, ls = lt[:c], ls[:c]
		for r := 0; r < rows; r++ {
			trow, srow := td[r*c:(r+1)*c], sd[r*c:(r+1)*c]
			ta, sa := argmax(trow), argmax(srow)
			if ta == sa {
				agree++
			}
			if b.Labels != nil {
				a.Labelled = true
				if int64(ta) == b.Labels[r] {
					a.TeacherCorrect++
				}
				if int64(sa) == b.Labels[r] {
					a.StudentCorrect++
				}
			}
			logSoftmax64(trow, 1, lt)
			logSoftmax64(srow, 1, ls)
			for i := range lt {
				kl += math.Exp(lt[i]) * (lt[i] - ls[i])
			}
		}
		a.Rows += rows
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	if a.Rows == 0 {
		return nil, fmt.Errorf("no validation rows")
	}
	n := float64(a.Rows)
	a.Agree = 100 * float64(agree) / n
	a.KL = kl / n
	if a.Labelled {
		a.TeacherAccuracy = 100 * float64(a.TeacherCorrect) / n
		a.StudentAccuracy = 100 * float64(a.StudentCorrect) / n
	}
	return a, nil
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
