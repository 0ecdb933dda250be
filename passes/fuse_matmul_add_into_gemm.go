package passes

import "github.com/whittle-ml/whittle/ir"

func init() {
	Register(Info{
		Name: "fuse_matmul_add_into_gemm",
		Doc: "turn a MatMul of two 2-D operands followed by an Add of a bias that broadcasts to its " +
			"output ([N], [1,N], [M,1], [M,N], scalar) into one Gemm",
		New:        noParams("fuse_matmul_add_into_gemm", fuseMatMulAddIntoGemm),
		FixedPoint: true,
	})
}

// gemmTypes are the element types Gemm accepts in every opset whittle writes it for.
var gemmTypes = map[ir.DataType]bool{ir.Float: true, ir.Double: true, ir.Float16: true}

func fuseMatMulAddIntoGemm(ctx *Context, m *ir.Model) (bool, error) {
	if opsetOf(m) < 7 {
		return false, nil // Gemm broadcasts C unidirectionally from opset 7 on
	}
	ctx.ensureTypes(m)
	r := newRewriter(ctx, m)
	for _, g := range workGraphs(m) {
		for _, mm := range g.Nodes() {
			add, bias, ok := matchMatMulAdd(mm)
			if !ok {
				continue
			}
			gemm := r.newNode(g, add, "", "Gemm", []*ir.Value{mm.Input(0), mm.Input(1), bias}, []string{nodeLabel(add) + "_gemm"})
			if mm.Name != "" {
				gemm.Name = ir.NodeNames(g).Fresh(mm.Name + "_gemm")
			}
			gemm.Output(0).Type = add.Output(0).Type.Clone()
			if !r.replaceValue(add.Output(0), gemm.Output(0)) {
				continue // unreachable: a fresh node output can always stand in
			}
			if err := r.removeNode(add); err != nil {
				return r.changed, err
			}
			if err := r.removeNode(mm); err != nil {
				return r.changed, err
			}
		}
	}
	return r.changed, nil
}

// matchMatMulAdd recognises MatMul(A[M,K], B[K,N]) whose only reader is Add(·, C) with
// C of a static shape broadcasting to [M,N] in one direction.
func matchMatMulAdd(mm *ir.Node) (add *ir.Node, bias *ir.Value, ok bool) {
	if !isOp(mm, "MatMul") || rankOf(mm.Input(0)) != 2 || rankOf(mm.Input(1)) != 2 {
		return nil, nil, false
	}
	dt := elemOf(mm.Input(0))
	if !gemmTypes[dt] || elemOf(mm.Input(1)) != dt {
		return nil, nil, false
	}
	add, idx, ok := onlyUse(mm.Output(0))
	if !ok || !isOp(add, "Add") || len(add.Inputs()) != 2 {
		return nil, nil, false
	}
	bias = add.Input(1 - idx)
	if bias == nil || elemOf(bias) != dt {
		return nil, nil, false
	}
	bdims, okB := staticDims(bias)
	if !okB || len(bdims) > 2 {
		return nil, nil, false
	}
	// Unidirectional: every bias dimension (right-aligned) is 1 or the output's. M may be
	// symbolic (a dynamic batch): then only a bias row of 1 broadcasts along it.
	t := mm.Output(0).Type
	if t == nil || t.Rank() != 2 {
		return nil, nil, false
	}
	off := 2 - len(bdims)
	for i, d := range bdims {
		od := t.Dims[off+i]
		if d != 1 && !(od.IsKnown() && od.Value == d) {
			return nil, nil, false
		}
	}
	return add, bias, true
}
