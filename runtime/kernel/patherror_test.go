package kernel

import (
	"errors"
	"fmt"
	"testing"
)

// A kernel that names its node in its own error is not named twice by the session's
// prefix (found by the hostile-input table: `node "n" (Tile): node "n" (Tile): ...`).
func TestPathErrorNamesTheNodeOnce(t *testing.T) {
	inner := errors.New("tiling axis 0 is too large")
	for _, tt := range []struct {
		err  error
		want string
	}{
		{WrapPath(`node "n" (Tile)`, fmt.Errorf(`node "n" (Tile): %w`, inner)), `node "n" (Tile): tiling axis 0 is too large`},
		{WrapPath(`node "n" (Tile)`, inner), `node "n" (Tile): tiling axis 0 is too large`},
		{WrapPath(`node "if" (If)`, WrapPath("then_branch", WrapPath(`node "n" (Tile)`, fmt.Errorf(`node "n" (Tile): %w`, inner)))),
			`node "if" (If): then_branch: node "n" (Tile): tiling axis 0 is too large`},
		{AtNode(`node "c" (Conv)`, fmt.Errorf(`node "c" (Conv): %w`, inner)), `node "c" (Conv): tiling axis 0 is too large`},
		{AtNode(`node "c" (Conv)`, inner), `node "c" (Conv): tiling axis 0 is too large`},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, inner) {
			t.Errorf("%q does not wrap the kernel's error", tt.err)
		}
	}
	if AtNode("x", nil) != nil {
		t.Error("AtNode(nil) is not nil")
	}
}
