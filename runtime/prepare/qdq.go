package prepare

// qdqRules recognise quantized regions (DequantizeLinear → Conv/MatMul/Gemm →
// QuantizeLinear, QLinearConv, ConvInteger, ...) and replace them with integer kernels of
// the private domain. They run before the float rules; each lives in its own qdq*.go file.
var qdqRules []Rule
