// Package irtest builds small models for tests: values are referred to by name, nodes are
// written as op, comma-separated inputs and outputs, and the result is verified before a
// test uses it. It is the one test graph builder of the project's packages (ir/infer,
// passes, irdiff, runtime and the library share it).
//
//	m := irtest.New(t, 17).
//		Input("X", ir.Float, 1, 4).
//		Floats("W", []int64{4, 2}, 1, 2, 3, 4, 5, 6, 7, 8).
//		Node("MatMul", "X,W", "Y").
//		Output("Y").
//		Model()
package irtest
