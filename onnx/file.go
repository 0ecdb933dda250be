package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// ReadOptions adjusts ReadFileWithOptions. The zero value is what ReadFile does.
type ReadOptions struct {
	// SkipExternalData leaves tensors stored in external files as references
	// (data_location EXTERNAL) instead of loading their bytes.
	SkipExternalData bool
	// ExternalDataDir is the folder external data locations are relative to; empty means
	// the folder of the model file, as ONNX specifies.
	ExternalDataDir string
}

// ReadFile reads the ONNX model at path and loads any external data it refers to (see
// LoadExternalData for the checks applied). Errors name the file.
func ReadFile(path string) (*onnxpb.ModelProto, error) {
	return ReadFileWithOptions(path, ReadOptions{})
}

// ReadFileWithOptions is ReadFile with options.
func ReadFileWithOptions(path string, opts ReadOptions) (*onnxpb.ModelProto, error) {
	m, err := readModelFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if opts.SkipExternalData || !HasExternalData(m) {
		return m, nil
	}
	dir := opts.ExternalDataDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	if err := LoadExternalData(m, dir); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return m, nil
}

// readModelFile decodes the model file at path. A regular file is memory-mapped rather
// than read, so the file's bytes do not sit on the heap beside the decoded model: decoding
// copies every field out of the mapping (see Decode), which is unmapped before returning.
func readModelFile(path string) (*onnxpb.ModelProto, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if fi.IsDir() {
		return nil, errors.New("is a folder, not a model file")
	}
	if fi.Mode().IsRegular() && fi.Size() == 0 {
		return nil, errors.New("empty file (not an ONNX model)")
	}
	if fi.Mode().IsRegular() {
		if data, unmap, err := mapFile(f, fi.Size()); err == nil {
			defer unmap()
			return decodeMapped(data)
		}
		// Mapping can fail (some file systems, 32-bit address space); reading still works.
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

// decodeMapped decodes a memory-mapped file. If the file is truncated by someone else
// while mapped, touching the lost pages raises SIGBUS; SetPanicOnFault turns that into a
// recoverable panic here instead of a crash of the whole program.
func decodeMapped(data []byte) (m *onnxpb.ModelProto, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			m, err = nil, errors.New("decode model: the file changed while it was being read")
		}
	}()
	return Decode(data)
}

// WriteOptions adjusts WriteFile. The zero value writes one self-contained file.
type WriteOptions struct {
	// ExternalData stores the raw data of large initializers in a separate data file next
	// to the model, as ONNX's save_as_external_data does; needed past 2 GiB.
	ExternalData bool
	// Location is the data file's name, in the model's folder; empty means the model's
	// file name plus ".data".
	Location string
	// SizeThreshold is the smallest raw_data, in bytes, that goes to the data file;
	// 0 means 1024. Smaller tensors stay in the model.
	SizeThreshold int64
	// Align makes every tensor's offset in the data file a multiple of it, so the data can
	// be memory-mapped; 0 means 4096, 1 packs the tensors without gaps.
	Align int64
}

const (
	defaultSizeThreshold = 1024
	defaultAlign         = 4096
)

// WriteFile writes m to path, replacing any file there atomically: the model (and its
// data file) are written to temporary files in the same folder and renamed into place
// only when complete, the data file first. m is not modified.
//
// Without opts.ExternalData a model whose encoding exceeds 2 GiB is refused with an
// error wrapping ErrModelTooLarge. With it, every initializer (of any graph, including
// subgraphs) whose raw_data holds at least opts.SizeThreshold bytes is stored in the data
// file at an offset aligned to opts.Align; attribute and sparse tensors stay inline, as
// with onnx's default. A model that still refers to external data cannot be written with
// opts.ExternalData (the old and new data could overwrite each other): load it first.
func WriteFile(path string, m *onnxpb.ModelProto, opts WriteOptions) error {
	if m == nil {
		return fmt.Errorf("write %s: nil model", path)
	}
	if !opts.ExternalData {
		data, err := Encode(m)
		if err != nil {
			if errors.Is(err, ErrModelTooLarge) {
				return fmt.Errorf("write %s: %w; write it with external data (--external-data)", path, err)
			}
			return fmt.Errorf("write %s: %w", path, err)
		}
		return WriteFileAtomic(path, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		})
	}
	return writeWithExternalData(path, m, opts)
}

// externalTensor is one tensor placed in the data file.
type externalTensor struct {
	data   []byte
	offset int64
}

func writeWithExternalData(path string, m *onnxpb.ModelProto, opts WriteOptions) (err error) {
	location := opts.Location
	if location == "" {
		location = filepath.Base(path) + ".data"
	}
	if location != filepath.Base(location) || location == "." || location == ".." || filepath.IsAbs(location) {
		return fmt.Errorf("write %s: external data location %q must be a file name in the model's folder", path, location)
	}
	if location == filepath.Base(path) {
		return fmt.Errorf("write %s: external data location %q is the model file itself", path, location)
	}
	threshold, align := opts.SizeThreshold, opts.Align
	if threshold == 0 {
		threshold = defaultSizeThreshold
	}
	if align == 0 {
		align = defaultAlign
	}
	if threshold < 0 || align < 0 {
		return fmt.Errorf("write %s: negative SizeThreshold (%d) or Align (%d)", path, threshold, align)
	}

	// The copy shares every raw_data slice with m, so it costs only the message structure;
	// its tensors can then be pointed at the data file without touching m.
	out := cloneSharingBytes(m.ProtoReflect()).Interface().(*onnxpb.ModelProto)
	var placed []externalTensor
	var end int64
	err = forEachTensor(out, func(v tensorVisit) error {
		t := v.tensor
		if usesExternalData(t) {
			return fmt.Errorf("tensor %q (%s) still refers to external data; load it before writing with external data", t.GetName(), v.where())
		}
		if v.kind != kindInitializer || int64(len(t.RawData)) < threshold {
			return nil
		}
		offset := (end + align - 1) / align * align
		length := int64(len(t.RawData))
		placed = append(placed, externalTensor{data: t.RawData, offset: offset})
		end = offset + length
		t.RawData = nil
		t.ExternalData = []*onnxpb.StringStringEntryProto{
			{Key: proto.String(keyLocation), Value: proto.String(location)},
			{Key: proto.String(keyOffset), Value: proto.String(strconv.FormatInt(offset, 10))},
			{Key: proto.String(keyLength), Value: proto.String(strconv.FormatInt(length, 10))},
		}
		t.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	model, err := Encode(out)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if len(placed) == 0 {
		return WriteFileAtomic(path, func(w io.Writer) error {
			_, err := w.Write(model)
			return err
		})
	}

	dataPath := filepath.Join(filepath.Dir(path), location)
	dataFile, err := createPending(dataPath)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			dataFile.abort()
		}
	}()
	if err := writeDataFile(dataFile.file, placed); err != nil {
		return fmt.Errorf("write %s: %w", dataPath, err)
	}
	if err := dataFile.close(); err != nil {
		return err
	}
	modelFile, err := createPending(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			modelFile.abort()
		}
	}()
	if _, err := modelFile.file.Write(model); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := modelFile.close(); err != nil {
		return err
	}
	// The data file goes first: a model whose data file is missing is worse than a new
	// data file that an old model does not use yet.
	return commit(dataFile, modelFile)
}

// writeDataFile writes each tensor's bytes at its offset, zero-filling the gaps.
func writeDataFile(w io.Writer, placed []externalTensor) error {
	var pos int64
	var zeros []byte
	for _, p := range placed {
		if gap := p.offset - pos; gap > 0 {
			if int64(len(zeros)) < gap {
				zeros = make([]byte, gap)
			}
			if _, err := w.Write(zeros[:gap]); err != nil {
				return err
			}
		}
		if _, err := w.Write(p.data); err != nil {
			return err
		}
		pos = p.offset + int64(len(p.data))
	}
	return nil
}

// cloneSharingBytes deep-copies a message except for bytes fields and lists of scalars,
// which the copy shares with src. proto.Clone would copy every raw_data, gigabytes for a
// large model; sharing is safe as long as neither side changes those bytes in place
// (replacing a field, as WriteFile does, is fine).
func cloneSharingBytes(src protoreflect.Message) protoreflect.Message {
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			srcMap, dstMap := v.Map(), dst.Mutable(fd).Map()
			srcMap.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if fd.MapValue().Message() != nil {
					mv = protoreflect.ValueOfMessage(cloneSharingBytes(mv.Message()))
				}
				dstMap.Set(k, mv)
				return true
			})
		case fd.IsList() && fd.Message() != nil:
			srcList, dstList := v.List(), dst.Mutable(fd).List()
			for i := range srcList.Len() {
				dstList.Append(protoreflect.ValueOfMessage(cloneSharingBytes(srcList.Get(i).Message())))
			}
		case fd.Message() != nil:
			dst.Set(fd, protoreflect.ValueOfMessage(cloneSharingBytes(v.Message())))
		default:
			// Scalars, bytes and lists of scalars: Set stores the same slice.
			dst.Set(fd, v)
		}
		return true
	})
	if unknown := src.GetUnknown(); len(unknown) > 0 {
		dst.SetUnknown(append(protoreflect.RawFields(nil), unknown...))
	}
	return dst
}
