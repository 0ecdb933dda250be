package loss

import "github.com/whittle-ml/whittle/ir"

// floatTypes are the element types of the scores input that the kernels accept.
var floatTypes = []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16}
