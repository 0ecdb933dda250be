// Package conformance runs the ONNX backend test cases (the node, pytorch-converted and
// simple suites shipped with the onnx package) through whittle's runtime and judges the
// results: outputs must match in kind, element type and shape, floats within rtol 1e-3 and
// atol 1e-7 (NaN equal to NaN), everything else exactly.
//
// A case is a folder holding model.onnx and test_data_set_N/{input,output}_K.pb. RunCase
// runs one, RunDirs many; each yields a Result whose Status is PASS, FAIL or SKIP, SKIP
// meaning the model uses an operator that has no kernel yet. `whittle test` and the
// report generator (go run ./conformance/report) are built on them, and the tests of this
// package run each suite with one subtest per case:
//
//	go test ./conformance -run 'TestNode/test_conv' -v
package conformance
