package passes

import (
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestFuseConsecutiveTransposes(t *testing.T) {
	tests := []struct {
		name     string
		build    func(b *builder) *ir.Model
		wantOps  string
		wantPerm []int64 // of the remaining Transpose, when one remains
	}{
		{
			name: "two transposes compose",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3, 4).Node("Transpose", "X", "A", ir.IntsAttr("perm", 1, 0, 2)).
					Node("Transpose", "A", "B", ir.IntsAttr("perm", 0, 2, 1)).Node("Abs", "B", "Y").Output("Y").Model()
			},
			// out[i] = in[p1[p2[i]]]: [1,0,2]∘[0,2,1] = [1, 2, 0] (shape 3,4,2).
			wantOps: "Transpose,Abs", wantPerm: []int64{1, 2, 0},
		},
		{
			name: "inverse transposes vanish",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3, 4).Node("Transpose", "X", "A", ir.IntsAttr("perm", 1, 2, 0)).
					Node("Transpose", "A", "B", ir.IntsAttr("perm", 2, 0, 1)).Node("Abs", "B", "Y").Output("Y").Model()
			},
			wantOps: "Abs",
		},
		{
			name: "default perms (reverse twice) vanish",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3).Node("Transpose", "X", "A").Node("Transpose", "A", "B").
					Node("Abs", "B", "Y").Output("Y").Model()
			},
			wantOps: "Abs",
		},
		{
			name: "first transpose with another reader stays",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3).Node("Transpose", "X", "A", ir.IntsAttr("perm", 1, 0)).
					Node("Transpose", "A", "B", ir.IntsAttr("perm", 1, 0)).Node("Abs", "B", "Y").Output("Y", "A").Model()
			},
			wantOps: "Transpose,Abs", wantPerm: []int64{1, 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 13))
			runPasses(t, m, "fuse_consecutive_transposes")
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops = %q, want %q\n%s", got, tc.wantOps, ir.Format(m))
			}
			if tc.wantPerm != nil {
				if p := m.Graph.Nodes()[0].AttrInts("perm", nil); !reflect.DeepEqual(p, tc.wantPerm) {
					t.Errorf("perm = %v, want %v", p, tc.wantPerm)
				}
			}
		})
	}
}
