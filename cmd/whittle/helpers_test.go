package main

import (
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
)

func testenvONNXTests(t *testing.T) string { return testenv.ONNXTestsDir(t) }
