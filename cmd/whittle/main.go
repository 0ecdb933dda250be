// Command whittle makes ONNX models smaller and faster: it inspects, checks, converts, runs,
// optimizes, prunes, quantizes and compares them. Run "whittle help" for the commands.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}
