package dataset

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// SpecKind tells which reader a Spec uses.
type SpecKind int

// The kinds of dataset a spec can name.
const (
	KindFashionMNIST SpecKind = iota + 1 // fashion-mnist:SPLIT[:N][@DIR]
	KindPBDir                            // a folder of .pb files or test_data_set_N folders
	KindNPZ                              // FILE.npz
	KindNPY                              // FILE.npy
	KindImages                           // images:DIR[,labels=FILE][,limit=N][,sample=N]
)

func (k SpecKind) String() string {
	switch k {
	case KindFashionMNIST:
		return "fashion-mnist"
	case KindPBDir:
		return "pb-dir"
	case KindNPZ:
		return "npz"
	case KindNPY:
		return "npy"
	case KindImages:
		return "images"
	}
	return fmt.Sprintf("SpecKind(%d)", int(k))
}

// Spec is a parsed dataset spec; see the package documentation for the syntax.
type Spec struct {
	Kind SpecKind
	// Split is "train" or "test" (Fashion-MNIST only).
	Split string
	// Limit keeps only the first Limit rows; 0 keeps all (Fashion-MNIST and images).
	Limit int
	// Sample keeps Sample rows evenly spaced over the dataset (images only).
	Sample int
	// Labels is the label file of an image folder, or "".
	Labels string
	// Dir is the Fashion-MNIST folder given after "@", or "" for FashionMNISTDir().
	Dir string
	// Path is the file or folder of the other kinds.
	Path string
}

const fashionPrefix = "fashion-mnist"

// SpecHelp is a one-line summary of the syntax, for command-line flag help.
const SpecHelp = "fashion-mnist:test|train[:N][@DIR], images:DIR[,labels=FILE][,limit=N][,sample=N], a folder of .pb files or test_data_set_N folders, FILE.npz or FILE.npy"

const imagesPrefix = "images:"

// ParseSpec parses a dataset spec. It does not touch the file system; Open does.
func ParseSpec(s string) (Spec, error) {
	if s == "" {
		return Spec{}, fmt.Errorf("dataset spec is empty (want %s)", SpecHelp)
	}
	if s == fashionPrefix || strings.HasPrefix(s, fashionPrefix+":") || strings.HasPrefix(s, fashionPrefix+"@") {
		return parseFashionSpec(s)
	}
	if strings.HasPrefix(s, imagesPrefix) {
		return parseImagesSpec(s)
	}
	switch lower := strings.ToLower(s); {
	case strings.HasSuffix(lower, ".npz"):
		return Spec{Kind: KindNPZ, Path: s}, nil
	case strings.HasSuffix(lower, ".npy"):
		return Spec{Kind: KindNPY, Path: s}, nil
	}
	return Spec{Kind: KindPBDir, Path: s}, nil
}

func parseFashionSpec(s string) (Spec, error) {
	spec := Spec{Kind: KindFashionMNIST, Split: "test"}
	rest := strings.TrimPrefix(s, fashionPrefix)
	if before, dir, ok := strings.Cut(rest, "@"); ok {
		if dir == "" {
			return Spec{}, fmt.Errorf("dataset spec %q: empty folder after @", s)
		}
		spec.Dir, rest = dir, before
	}
	if rest == "" {
		return spec, nil
	}
	parts := strings.Split(strings.TrimPrefix(rest, ":"), ":")
	if len(parts) > 2 {
		return Spec{}, fmt.Errorf("dataset spec %q: want fashion-mnist:SPLIT[:N][@DIR]", s)
	}
	if parts[0] != "train" && parts[0] != "test" {
		return Spec{}, fmt.Errorf("dataset spec %q: unknown split %q (want train or test)", s, parts[0])
	}
	spec.Split = parts[0]
	if len(parts) == 2 {
		n, err := strconv.Atoi(parts[1])
		if err != nil || n <= 0 {
			return Spec{}, fmt.Errorf("dataset spec %q: row count %q must be a positive integer", s, parts[1])
		}
		spec.Limit = n
	}
	return spec, nil
}

// parseImagesSpec reads images:DIR followed by comma-separated options.
func parseImagesSpec(s string) (Spec, error) {
	parts := strings.Split(strings.TrimPrefix(s, imagesPrefix), ",")
	spec := Spec{Kind: KindImages, Path: parts[0]}
	if spec.Path == "" {
		return Spec{}, fmt.Errorf("dataset spec %q: want images:DIR", s)
	}
	for _, opt := range parts[1:] {
		key, value, _ := strings.Cut(opt, "=")
		switch key {
		case "labels":
			if value == "" {
				return Spec{}, fmt.Errorf("dataset spec %q: labels= needs a file", s)
			}
			spec.Labels = value
		case "limit", "sample":
			n, err := strconv.Atoi(value)
			if err != nil || n <= 0 {
				return Spec{}, fmt.Errorf("dataset spec %q: %s=%q must be a positive integer", s, key, value)
			}
			if key == "limit" {
				spec.Limit = n
			} else {
				spec.Sample = n
			}
		default:
			return Spec{}, fmt.Errorf("dataset spec %q: unknown option %q (want labels=FILE, limit=N or sample=N)", s, opt)
		}
	}
	return spec, nil
}

// String formats the spec back into the syntax ParseSpec reads.
func (s Spec) String() string {
	if s.Kind == KindImages {
		out := imagesPrefix + s.Path
		if s.Labels != "" {
			out += ",labels=" + s.Labels
		}
		if s.Limit > 0 {
			out += ",limit=" + strconv.Itoa(s.Limit)
		}
		if s.Sample > 0 {
			out += ",sample=" + strconv.Itoa(s.Sample)
		}
		return out
	}
	if s.Kind != KindFashionMNIST {
		return s.Path
	}
	out := fashionPrefix + ":" + s.Split
	if s.Limit > 0 {
		out += ":" + strconv.Itoa(s.Limit)
	}
	if s.Dir != "" {
		out += "@" + s.Dir
	}
	return out
}

// Options are what opening a dataset needs besides its spec.
type Options struct {
	// Preprocess converts the images of an images: spec; nil means DefaultPreprocess.
	// Other kinds refuse it, since their tensors are already model inputs.
	Preprocess *Preprocess
}

// Open opens the dataset the spec names.
func (s Spec) Open() (Dataset, error) { return s.OpenWith(Options{}) }

// OpenWith opens the dataset the spec names with the given options.
func (s Spec) OpenWith(o Options) (Dataset, error) {
	if o.Preprocess != nil && s.Kind != KindImages {
		return nil, fmt.Errorf("dataset %s: preprocessing applies to images:DIR specs only", s)
	}
	switch s.Kind {
	case KindImages:
		return OpenImages(s.Path, ImageOptions{Labels: s.Labels, Limit: s.Limit, Sample: s.Sample, Preprocess: o.Preprocess})
	case KindFashionMNIST:
		dir := s.Dir
		if dir == "" {
			dir = FashionMNISTDir()
		}
		ds, err := FashionMNIST(dir, s.Split)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && s.Dir == "" {
				err = fmt.Errorf("%w (apt-get install dataset-fashion-mnist, set %s, or add @DIR)", err, FashionMNISTEnv)
			}
			return nil, err
		}
		if s.Limit > 0 {
			if s.Limit > ds.Len() {
				return nil, fmt.Errorf("dataset %s: asks for %d rows, the split has %d", s, s.Limit, ds.Len())
			}
			return Head(ds, s.Limit), nil
		}
		return ds, nil
	case KindNPZ:
		return OpenNPZ(s.Path)
	case KindNPY:
		return OpenNPY(s.Path)
	case KindPBDir:
		fi, err := os.Stat(s.Path)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", s.Path, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("dataset %s: not a folder, .npz or .npy file (want %s)", s.Path, SpecHelp)
		}
		return OpenPBDir(s.Path)
	}
	return nil, fmt.Errorf("dataset spec: unknown kind %v", s.Kind)
}

// Open parses spec and opens the dataset it names.
func Open(spec string) (Dataset, error) { return OpenWith(spec, Options{}) }

// OpenWith parses spec and opens the dataset it names with the given options.
func OpenWith(spec string, o Options) (Dataset, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	return s.OpenWith(o)
}
