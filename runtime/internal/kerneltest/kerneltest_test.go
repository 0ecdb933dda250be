package kerneltest

import (
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// The package registers a throwaway operator so that it tests itself without an operator
// family (which would import it back).
func init() {
	kernel.Register(kernel.KernelDef{Domain: "", Op: "KernelTestNegate", SinceVersion: 1, Types: []ir.DataType{ir.Float},
		New: func(info *kernel.NodeInfo) (kernel.Kernel, error) {
			if info.Node.AttrInt("fail", 0) != 0 {
				return nil, errFactory
			}
			nOut := len(info.Node.Outputs())
			return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
				x := in[0].Float32s()
				out := kernel.New(ir.Float, in[0].Shape...)
				for i, v := range x {
					out.Float32s()[i] = -v
				}
				outs := make([]*kernel.Tensor, nOut)
				outs[0] = out
				return outs, nil
			}), nil
		}})
}

type factoryError struct{}

func (factoryError) Error() string { return "factory refused" }

var errFactory = factoryError{}

func TestRun(t *testing.T) {
	x := kernel.FromFloat32([]int64{2}, []float32{1, -2})
	outs, err := Run("KernelTestNegate", 1, nil, 2, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].Float32s()[0] != -1 || outs[0].Float32s()[1] != 2 {
		t.Errorf("Run = %v", outs)
	}
}

func TestRunErrors(t *testing.T) {
	x := kernel.FromFloat32([]int64{1}, []float32{1})
	if _, err := Run("KernelTestNegate", 1, []*ir.Attr{ir.IntAttr("fail", 1)}, 1, x); err != errFactory {
		t.Errorf("factory error = %v, want %v", err, errFactory)
	}
	i := kernel.FromInt64([]int64{1}, []int64{1})
	if _, err := Run("KernelTestNegate", 1, nil, 1, i); err == nil || !strings.Contains(err.Error(), "no kernel") {
		t.Errorf("lookup of an unregistered type: err = %v", err)
	}
}
