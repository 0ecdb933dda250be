package opschema_test

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir/opschema"
)

func ExampleLookup() {
	s, ok := opschema.Lookup("", "Conv", 17)
	if !ok {
		return
	}
	group, _ := s.Attribute("group")
	fmt.Println(s.Name, s.SinceVersion, s.Versions, s.MinInputs, s.MaxInputs)
	fmt.Println(group.Name, opschema.AttrTypeName(group.Type), group.Default)
	// Output:
	// Conv 11 [1 11 22] 2 3
	// group INT 1
}
