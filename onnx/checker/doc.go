// Package checker validates an ONNX model (onnxpb.ModelProto) against the ONNX IR
// specification and the standard operator schemas, in the manner of onnx.checker's C++
// check_model, but reporting every problem found rather than stopping at the first.
//
// CheckModel checks:
//   - the model: ir_version present and within [1, MaxIRVersion]; opset_import present
//     (IR >= 3) or absent (IR < 3), without duplicate domains or versions below 1 (the
//     default domain need not be imported unless a node uses it: onnx's own ML and
//     training test models import only their domain); metadata_props keys unique;
//     training_info graphs (the algorithm extends the inference graph) and bindings;
//   - graphs: a name; typed inputs and outputs in the main graph; single static
//     assignment (every value defined once by a graph input, an initializer or a node
//     output, no shadowing of outer-scope names); initializers listed as inputs for IR < 4;
//     every node input defined earlier in the graph or in an enclosing graph (node order
//     must be topological, and dependency cycles are reported as such); every graph
//     output produced; value_info names unique;
//   - nodes: op_type set; the domain imported; the operator known in ai.onnx and the other
//     documented domains at the imported opset and not deprecated there; input and output
//     counts and required (non-optional) positions; attributes known, of the right type
//     and present when required; model-local function calls;
//   - attributes: a name, a type (IR >= 2) and exactly the value field of that type;
//     ref_attr_name only inside functions and naming one of the function's attributes;
//     subgraphs (If, Loop, Scan bodies...) checked recursively with outer names visible;
//   - tensors: a valid data_type; one data field, the one the data type uses, holding as
//     many values (or raw_data bytes) as the dims require; dims non-negative and their
//     product within int64; external data with a safe, existing location; sparse tensors
//     with 1-D values and in-bounds, strictly increasing indices;
//   - functions: name and domain, unique (domain, name, overload), unique inputs, outputs
//     and attributes, opset imports consistent with the model's, and a body checked like
//     a graph whose defined names are the function inputs.
//
// Operator signatures come from package ir/opschema, which knows attributes and inputs
// of the newest version of each operator only: a node whose imported opset selects an
// older operator version is checked for existence and deprecation but not against the
// signature. ai.onnx.ml operators are not documented there, so that domain is treated like
// a custom domain (operators accepted unchecked). Shape and type inference is not done.
package checker
