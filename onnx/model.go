package onnx

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// LoadModel reads an ONNX file, with its external data, into the IR.
func LoadModel(path string) (*ir.Model, error) {
	p, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ToIR(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// SaveModel writes a model to path atomically (see WriteFile for the options).
func SaveModel(path string, m *ir.Model, opts WriteOptions) error {
	p, err := FromIR(m)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFile(path, p, opts)
}
