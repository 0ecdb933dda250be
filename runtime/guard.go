package runtime

import "github.com/whittle-ml/whittle/runtime/kernel"

// InternalError reports a kernel that panicked (see kernel.InternalError).
type InternalError = kernel.InternalError
