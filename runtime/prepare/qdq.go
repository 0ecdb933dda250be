package prepare

// qdqRules recognise quantized regions (DequantizeLinear → Conv/MatMul/Gemm →
// QuantizeLinear, QLinearConv, ConvInteger, ...) and replace them with integer kernels of
// the private domain. They run before the float rules; each lives in its own qdq*.go file,
// but for fuseQLookupMul (fuse_qlookup_mul.go), which merges two of the integer kernels.
var qdqRules = []Rule{qdqRegions, fuseQLookupMul}

// Names of the integer operators the QDQ rules create; their kernels are in
// runtime/ops/quant (nhwc_ops.go), which documents their inputs and attributes. 8-bit
// values pass between them in NHWC layout.
const (
	OpQConvNHWC              = "QConvNHWC"
	OpQAdd                   = "QAdd"
	OpQMaxPoolNHWC           = "QMaxPoolNHWC"
	OpQGlobalAveragePoolNHWC = "QGlobalAveragePoolNHWC"
	OpQuantizeNHWC           = "QuantizeNHWC"
	OpQToNHWC                = "QToNHWC"
	OpQToNCHW                = "QToNCHW"
	OpQLookup                = "QLookup"
	OpQMulLookup             = "QMulLookup"
	OpQMul                   = "QMul"
	OpQConcat                = "QConcat"
)
