package conformance

import (
	"reflect"
	goruntime "runtime"
	"strings"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

// familyOfFunc finds the runtime/ops package a kernel factory was defined in, from the
// function's symbol name (".../runtime/ops/<family>.init.func3").
func familyOfFunc(f kernel.Factory) string {
	fn := goruntime.FuncForPC(reflect.ValueOf(f).Pointer())
	if fn == nil {
		return "?"
	}
	name := fn.Name()
	const marker = "/runtime/ops/"
	i := strings.Index(name, marker)
	if i < 0 {
		return "?"
	}
	rest := name[i+len(marker):]
	if j := strings.IndexAny(rest, "./"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
