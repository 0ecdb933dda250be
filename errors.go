package whittle

import (
	"errors"
	"fmt"

	"github.com/whittle-ml/whittle/runtime"
)

// Errors a caller may branch on, tested with errors.Is. Every error the workflows return
// also names the file, node or option concerned.
var (
	// ErrInvalidModel: the model cannot be read, or it fails verification (use
	// 'whittle check' or onnx/checker for every problem).
	ErrInvalidModel = errors.New("invalid model")
	// ErrUnsupportedOp: the model uses an operator (or an operator version or element
	// type) that whittle's runtime or a pass cannot handle; errors.As to
	// *runtime.MissingKernelError gives the node and op when the runtime is the cause.
	ErrUnsupportedOp = errors.New("unsupported operator")
	// ErrBudgetMissed: quantization could not meet the accuracy budget; the result
	// still describes the search.
	ErrBudgetMissed = errors.New("the accuracy budget could not be met")
	// ErrOptions: the options contradict each other or name something that does not
	// exist (a pass, a dataset spec's format, a method).
	ErrOptions = errors.New("invalid options")
)

// optionsErrorf returns an error wrapping ErrOptions.
func optionsErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrOptions, fmt.Sprintf(format, args...))
}

// classify wraps err with ErrUnsupportedOp when a missing kernel caused it.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var mk *runtime.MissingKernelError
	if errors.As(err, &mk) && !errors.Is(err, ErrUnsupportedOp) {
		return fmt.Errorf("%w: %w", ErrUnsupportedOp, err)
	}
	return err
}
