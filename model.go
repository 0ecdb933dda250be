package whittle

import (
	"fmt"
	"io"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// LoadOptions tune LoadFile and Load.
type LoadOptions struct {
	// SkipVerify loads a model that fails the IR's verification (to inspect or repair
	// it); by default such a model is an error wrapping ErrInvalidModel.
	SkipVerify bool
	// ExternalDataDir is the folder external data is read from: by default the model
	// file's folder, or the current folder for Load.
	ExternalDataDir string
}

// maxStreamBytes bounds a model read from a stream: protobuf cannot encode more (larger
// models keep their weights in external data files).
const maxStreamBytes = 2 << 30

// LoadFile reads the ONNX model at path, with any external data it refers to, into the
// IR and verifies it.
func LoadFile(path string, opts LoadOptions) (*ir.Model, error) {
	p, err := onnx.ReadFileWithOptions(path, onnx.ReadOptions{ExternalDataDir: opts.ExternalDataDir})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	return toIR(path, p, opts)
}

// Load reads an ONNX model from r (at most 2 GiB: protobuf's limit) and verifies it.
// External data is read from opts.ExternalDataDir, or the current folder.
func Load(r io.Reader, opts LoadOptions) (*ir.Model, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxStreamBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if len(data) > maxStreamBytes {
		return nil, fmt.Errorf("%w: a model read from a stream is limited to 2 GiB (store the weights as external data)", ErrInvalidModel)
	}
	p, err := onnx.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	if onnx.HasExternalData(p) {
		dir := opts.ExternalDataDir
		if dir == "" {
			dir = "."
		}
		if err := onnx.LoadExternalData(p, dir); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
		}
	}
	return toIR("<stdin>", p, opts)
}

func toIR(name string, p *onnxpb.ModelProto, opts LoadOptions) (*ir.Model, error) {
	m, err := onnx.ToIR(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidModel, name, err)
	}
	if !opts.SkipVerify {
		if err := m.Verify(); err != nil {
			return nil, fmt.Errorf("%w: %s (run 'whittle check' for every problem):\n%w", ErrInvalidModel, name, err)
		}
	}
	return m, nil
}

// SaveOptions tune SaveFile: inline data (the default) or external data files.
type SaveOptions = onnx.WriteOptions

// SaveFile writes m to path atomically: to a temporary file in the same folder, renamed
// into place when complete, so that a failure never leaves a half-written file.
func SaveFile(path string, m *ir.Model, opts SaveOptions) error {
	return onnx.SaveModel(path, m, opts)
}

// Save writes m to w with its data inline (a stream has no folder for external data).
func Save(w io.Writer, m *ir.Model) error {
	data, err := Encode(m)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// Encode returns m's ONNX encoding, data inline: the bytes Save writes and SaveFile
// writes without external data.
func Encode(m *ir.Model) ([]byte, error) {
	p, err := onnx.FromIR(m)
	if err != nil {
		return nil, err
	}
	return onnx.Encode(p)
}
