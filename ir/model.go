package ir

// Model is a whole ONNX model.
type Model struct {
	IRVersion       int64
	OpsetImports    []OpsetID
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Graph           *Graph
	Functions       []*Function
	Metadata        []StringPair
	TrainingInfo    []*TrainingInfo
}

// Opset returns the version of domain the model imports ("" and "ai.onnx" are the same).
func (m *Model) Opset(domain string) (int64, bool) {
	return findOpset(m.OpsetImports, domain)
}

func findOpset(imports []OpsetID, domain string) (int64, bool) {
	domain = CanonicalDomain(domain)
	for _, o := range imports {
		if CanonicalDomain(o.Domain) == domain {
			return o.Version, true
		}
	}
	return 0, false
}

// SetOpset sets (or adds) the imported version of domain.
func (m *Model) SetOpset(domain string, version int64) {
	for i, o := range m.OpsetImports {
		if o.Domain == domain {
			m.OpsetImports[i].Version = version
			return
		}
	}
	m.OpsetImports = append(m.OpsetImports, OpsetID{domain, version})
}

// MetadataValue returns the metadata_props value of key.
func (m *Model) MetadataValue(key string) (string, bool) {
	for _, p := range m.Metadata {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// SetMetadata sets (or adds) a metadata_props entry.
func (m *Model) SetMetadata(key, value string) {
	for i, p := range m.Metadata {
		if p.Key == key {
			m.Metadata[i].Value = value
			return
		}
	}
	m.Metadata = append(m.Metadata, StringPair{key, value})
}

// Function is a model-local function: an operator of its domain defined by a body.
type Function struct {
	Name     string
	Domain   string
	Overload string
	// Body holds the function's nodes; its Inputs and Outputs are the formal parameters
	// (usually untyped). Its initializers are always empty.
	Body *Graph
	// AttrNames are attributes without defaults; AttrDefaults are those with one.
	AttrNames    []string
	AttrDefaults []*Attr
	OpsetImports []OpsetID
	DocString    string
	Metadata     []StringPair
}

// Opset returns the version of domain the function imports.
func (f *Function) Opset(domain string) (int64, bool) { return findOpset(f.OpsetImports, domain) }

// TrainingInfo is a TrainingInfoProto: graphs that initialize and update the model's state.
// Its graphs can read the main graph's initializers, so they are subgraphs of it.
type TrainingInfo struct {
	Initialization        *Graph
	Algorithm             *Graph
	InitializationBinding []StringPair
	UpdateBinding         []StringPair
}

// Graphs returns the model's main graph and every graph nested in it (attribute subgraphs,
// recursively), then function bodies and training graphs, parents before children.
func (m *Model) Graphs() []*Graph {
	var out []*Graph
	var walk func(g *Graph)
	walk = func(g *Graph) {
		if g == nil {
			return
		}
		out = append(out, g)
		for _, n := range g.Nodes() {
			for _, s := range n.Subgraphs() {
				walk(s)
			}
		}
	}
	walk(m.Graph)
	for _, f := range m.Functions {
		walk(f.Body)
	}
	for _, ti := range m.TrainingInfo {
		walk(ti.Initialization)
		walk(ti.Algorithm)
	}
	return out
}

// The default ONNX operator set is named "" in the IR; files and tools also call it
// "ai.onnx". These helpers are the one place that alias is resolved.

// IsDefaultDomain reports whether domain names the default ONNX operator set ("" or
// "ai.onnx").
func IsDefaultDomain(domain string) bool { return domain == "" || domain == "ai.onnx" }

// CanonicalDomain maps the alias "ai.onnx" to "", the IR's name for the default operator
// set; other domains are returned as they are.
func CanonicalDomain(domain string) string {
	if domain == "ai.onnx" {
		return ""
	}
	return domain
}

// DomainName is domain as people write it: "ai.onnx" for the default operator set.
func DomainName(domain string) string {
	if domain == "" {
		return "ai.onnx"
	}
	return domain
}

// QualifiedOp names an operator as histograms and messages do: the bare op type in the
// default domain, "domain::op" in any other.
func QualifiedOp(domain, op string) string {
	if IsDefaultDomain(domain) {
		return op
	}
	return domain + "::" + op
}
