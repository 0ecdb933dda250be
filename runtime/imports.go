package runtime

// The operator families register their kernels from init; importing them here is what
// makes a Session find them.
import (
	_ "github.com/whittle-ml/whittle/runtime/ops/control"
	_ "github.com/whittle-ml/whittle/runtime/ops/elementwise"
	_ "github.com/whittle-ml/whittle/runtime/ops/fused"
	_ "github.com/whittle-ml/whittle/runtime/ops/loss"
	_ "github.com/whittle-ml/whittle/runtime/ops/misc"
	_ "github.com/whittle-ml/whittle/runtime/ops/ml"
	_ "github.com/whittle-ml/whittle/runtime/ops/nn"
	_ "github.com/whittle-ml/whittle/runtime/ops/quant"
	_ "github.com/whittle-ml/whittle/runtime/ops/reduce"
	_ "github.com/whittle-ml/whittle/runtime/ops/rnn"
	_ "github.com/whittle-ml/whittle/runtime/ops/seq2"
	_ "github.com/whittle-ml/whittle/runtime/ops/signal"
	_ "github.com/whittle-ml/whittle/runtime/ops/tensor"
	_ "github.com/whittle-ml/whittle/runtime/ops/training"
)
