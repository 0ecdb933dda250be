// Package runtime runs ONNX models held as ir.Models: whittle's reference runtime, used to
// validate passes, calibrate quantization and compare models.
//
// A Session is built once from a model: it resolves every node to a Kernel from the
// registry (keyed by domain, op, opset version range and element type), so that an
// operator the runtime lacks is reported before anything runs; it plans the order of
// execution and the last use of every value, so that buffers return to a pool as soon as
// they are dead and are reused by later runs. Run then executes the plan with no graph
// walking and no map lookups. A Session is safe for concurrent Run calls.
//
// The kernels in this package are straightforward Go: they are the oracles that faster
// (assembly, fused, int8) kernels are tested against.
package runtime
