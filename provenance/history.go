package provenance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// Metadata keys whittle writes into the models it produces.
const (
	// MetaPasses holds a JSON list with one entry per pipeline ever applied to the model:
	// {"whittle_version", "pipeline": [{"pass", "params"}]}; every run appends to it.
	MetaPasses = "whittle.passes"
	// MetaChangeLog holds the last run's change log (see ChangeLog.MarshalCapped).
	MetaChangeLog = "whittle.changelog"
)

// Params are a step's parameters as written: key -> value text.
type Params map[string]string

// Float returns parameter key as a number, or def when absent.
func (p Params) Float(key string, def float64) (float64, error) {
	s, ok := p[key]
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("parameter %s=%q is not a number", key, s)
	}
	return f, nil
}

// Int returns parameter key as an integer, or def when absent.
func (p Params) Int(key string, def int64) (int64, error) {
	s, ok := p[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parameter %s=%q is not an integer", key, s)
	}
	return n, nil
}

// Bool returns parameter key as a boolean (true/false, 1/0, yes/no), or def when absent.
func (p Params) Bool(key string, def bool) (bool, error) {
	s, ok := p[key]
	if !ok {
		return def, nil
	}
	switch strings.ToLower(s) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("parameter %s=%q is not a boolean", key, s)
}

// String returns parameter key, or def when absent.
func (p Params) String(key, def string) string {
	if s, ok := p[key]; ok {
		return s
	}
	return def
}

// Step is one entry of a pipeline: a pass and its parameters.
type Step struct {
	Pass   string `json:"pass" yaml:"pass"`
	Params Params `json:"params,omitempty" yaml:"params,omitempty"`
}

// String renders the step in whittle's command-line syntax, parameters sorted by key:
// "prune:scope=global:sparsity=0.5". ParseSteps reads it back.
func (s Step) String() string {
	var b strings.Builder
	b.WriteString(s.Pass)
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, ":%s=%s", k, s.Params[k])
	}
	return b.String()
}

// Steps is a pipeline as recorded: steps run in order.
type Steps []Step

// String renders the steps in whittle's command-line syntax, separated by commas.
func (p Steps) String() string {
	parts := make([]string, len(p))
	for i, s := range p {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// ParseSteps reads "fold_constants,prune:sparsity=0.5:scope=global": steps separated by
// commas, each a pass name with ":key=value" parameters. A ":" field without "=", and a
// "," part that does not start with a pass name, belong to the value before them, so
// that values holding colons and commas (dataset specs such as "fashion-mnist:train:512"
// or "images:DIR,labels=FILE", preprocessing such as "mean=0.5,0.5,0.5") read back as
// Step.String wrote them. It checks the syntax
// only; package passes checks that the passes and parameters exist.
func ParseSteps(s string) (Steps, error) {
	var p Steps
	last := ""
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ":")
		var st *Step
		if last != "" && !passName.MatchString(strings.TrimSpace(fields[0])) {
			// A value holding a comma ("images:DIR,labels=FILE", "mean=0.5,0.5") goes on.
			st = &p[len(p)-1]
			st.Params[last] += "," + fields[0]
		} else {
			p = append(p, Step{Pass: strings.TrimSpace(fields[0])})
			st = &p[len(p)-1]
			last = ""
		}
		for _, kv := range fields[1:] {
			k, v, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if !ok && last != "" {
				st.Params[last] += ":" + strings.TrimSpace(kv)
				continue
			}
			if !ok || k == "" {
				return nil, fmt.Errorf("pass %q: parameter %q is not key=value", st.Pass, kv)
			}
			if st.Params == nil {
				st.Params = Params{}
			}
			if _, dup := st.Params[k]; dup {
				return nil, fmt.Errorf("pass %q: parameter %q given twice", st.Pass, k)
			}
			st.Params[k] = strings.TrimSpace(v)
			last = k
		}
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("empty pipeline %q", s)
	}
	return p, nil
}

// passName is the form of a pass name (snake_case).
var passName = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// Applied is one entry of a model's history: a pipeline and the whittle version that ran
// it.
type Applied struct {
	Version  string `json:"whittle_version"`
	Pipeline Steps  `json:"pipeline"`
}

// History returns the pipelines applied to m, oldest first, as whittle.passes records
// them; none when m has no such entry.
func History(m *ir.Model) ([]Applied, error) {
	raw, ok := m.MetadataValue(MetaPasses)
	if !ok {
		return nil, nil
	}
	return ParseHistory([]byte(raw))
}

// ParseHistory decodes the value of whittle.passes.
func ParseHistory(data []byte) ([]Applied, error) {
	var h []Applied
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("%s: %w", MetaPasses, err)
	}
	return h, nil
}

// Record appends a run of pipeline p by whittle version to m's history and stores log as
// the model's change log (capped at DefaultLogLimit). A history entry whittle did not
// write (or an older format) is kept as far as it parses.
func Record(m *ir.Model, version string, p Steps, log *ChangeLog) error {
	var history []Applied
	if old, ok := m.MetadataValue(MetaPasses); ok {
		_ = json.Unmarshal([]byte(old), &history)
	}
	history = append(history, Applied{Version: version, Pipeline: p})
	b, err := json.Marshal(history)
	if err != nil {
		return err
	}
	m.SetMetadata(MetaPasses, string(b))
	if log == nil {
		log = &ChangeLog{}
	}
	lb, err := log.MarshalCapped(DefaultLogLimit)
	if err != nil {
		return err
	}
	m.SetMetadata(MetaChangeLog, string(lb))
	return nil
}
