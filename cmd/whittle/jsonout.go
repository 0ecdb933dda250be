package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/pflag"
)

// jsonSchemaVersion is the version of every command's --json output (docs/json.md). It
// changes only when a field is removed, renamed or changes meaning; new fields may appear
// in the same version.
const jsonSchemaVersion = 1

// schemaName names the schema of a command's JSON output, "whittle.COMMAND/1" (the form
// 'whittle diff --format json' has used from the start).
func schemaName(command string) string {
	return fmt.Sprintf("whittle.%s/%d", command, jsonSchemaVersion)
}

// jsonFlag declares --json.
func jsonFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("json", false, "print JSON instead of text (schema in docs/json.md)")
}

// printJSON writes v, a struct, to stdout as indented JSON whose first field is
// "schema": "whittle.COMMAND/1".
func printJSON(e *env, command string, v any) error {
	b, err := withSchema(command, v)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(b)
	return err
}

// withSchema marshals v with the schema field first.
func withSchema(command string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("json output of %s is not an object", command)
	}
	head, _ := json.Marshal(schemaName(command))
	var raw bytes.Buffer
	raw.WriteString(`{"schema":`)
	raw.Write(head)
	if string(body) != "{}" {
		raw.WriteByte(',')
	}
	raw.Write(body[1:])
	var out bytes.Buffer
	if err := json.Indent(&out, raw.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// startJSON turns on --json for a command that writes a model to out: its text summary is
// silenced, and stdout must be free for the JSON.
func (e *env) startJSON(on bool, out string) error {
	if !on {
		return nil
	}
	if out == "-" {
		return usagef("--json prints to stdout, which -o - already carries the model on")
	}
	e.jsonOut = true
	return nil
}
