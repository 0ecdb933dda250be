package passes

import "github.com/whittle-ml/whittle/ir"

func init() {
	Register(Info{
		Name: "dedup_initializers",
		Doc: "make readers of initializers with identical type, shape and bytes read the first of them " +
			"and drop the copies",
		New:        noParams("dedup_initializers", dedupInitializers),
		FixedPoint: true,
	})
}

// dedupInitializers works graph by graph. Initializers that are graph inputs (overridable
// defaults), graph outputs, named by training bindings or not loaded are left alone.
func dedupInitializers(ctx *Context, m *ir.Model) (bool, error) {
	r := newRewriter(ctx, m)
	keep := trainingNames(m)
	for _, g := range workGraphs(m) {
		seen := map[string]*ir.Value{}
		for _, v := range append([]*ir.Value(nil), g.Initializers...) {
			t := constOf(v)
			if t == nil || v.IsGraphOutput() || keep[v.Name] {
				continue
			}
			key := tensorHash(t)
			first, dup := seen[key]
			if !dup {
				seen[key] = v
				continue
			}
			if !sameData(first.Const, t) || len(v.Uses()) == 0 {
				continue
			}
			r.replaceAllUses(v, first)
			if err := r.removeInitializer(v); err != nil {
				return r.changed, err
			}
		}
	}
	return r.changed, nil
}
