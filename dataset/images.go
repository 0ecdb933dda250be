package dataset

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/whittle-ml/whittle/internal/pilimage"
)

// ImageExtensions are the file name endings an image folder reads (compared in lower case),
// torchvision's IMG_EXTENSIONS less the PGM/PPM ones PIL reads through other plug-ins.
var ImageExtensions = []string{".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}

// maxImageFileBytes bounds one image file read into memory.
const maxImageFileBytes = 256 << 20

// ImageOptions say how OpenImages lists, labels and converts the images of a folder.
type ImageOptions struct {
	// Labels names a CSV or text file of "path,label" or "path label" lines (paths relative
	// to the folder); labels are class indices or class names. Empty: class sub-folders
	// label the images, or, without them, the images are unlabelled.
	Labels string
	// Limit keeps the first Limit images; Sample keeps Sample images evenly spaced over the
	// list (every class of a sorted folder is then represented). 0 keeps all.
	Limit, Sample int
	// Preprocess converts decoded images; nil means DefaultPreprocess.
	Preprocess *Preprocess
	// NoReadAhead turns off decoding the next batch in the background.
	NoReadAhead bool
}

// ImageFolder is a Dataset of image files, decoded (as PIL decodes them) and preprocessed
// one batch at a time, so memory holds at most two batches whatever the folder's size.
// After serving rows [start, start+n) it decodes [start+n, start+2n) on another goroutine,
// so that decoding overlaps the model's run on the batch just returned.
type ImageFolder struct {
	// Dir is the folder; Files are the images in order, relative to Dir or absolute.
	Dir   string
	Files []string
	// Labels holds one class index per file, or is nil for unlabelled images.
	Labels []int64
	// Classes names the class of each index when labels come from sub-folders or names.
	Classes []string
	Pre     Preprocess

	readAhead bool
	mu        sync.Mutex
	pending   *pendingBatch
}

type pendingBatch struct {
	start, n int
	done     chan struct{}
	batch    Batch
	err      error
}

// OpenImages lists the images of dir as torchvision's ImageFolder does: class names are
// the sub-folders, sorted, and each class's files are those under its folder (recursively)
// with an image extension, sorted by folder then name. A folder with images and no class
// sub-folders is read unlabelled, in name order; o.Labels names the files and their labels
// explicitly instead.
func OpenImages(dir string, o ImageOptions) (*ImageFolder, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("images %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("images %s: not a folder", dir)
	}
	d := &ImageFolder{Dir: dir, Pre: DefaultPreprocess(), readAhead: !o.NoReadAhead}
	if o.Preprocess != nil {
		d.Pre = *o.Preprocess
	}
	if o.Labels != "" {
		err = d.readLabelFile(o.Labels)
	} else {
		err = d.listFolder()
	}
	if err != nil {
		return nil, err
	}
	if len(d.Files) == 0 {
		return nil, fmt.Errorf("images %s: no image files (%s)", dir, strings.Join(ImageExtensions, " "))
	}
	switch {
	case o.Sample > 0 && o.Sample < len(d.Files):
		keep := make([]int, o.Sample)
		for i := range keep {
			keep[i] = i * len(d.Files) / o.Sample
		}
		d.keep(keep)
	case o.Limit > 0 && o.Limit < len(d.Files):
		keep := make([]int, o.Limit)
		for i := range keep {
			keep[i] = i
		}
		d.keep(keep)
	}
	return d, nil
}

func (d *ImageFolder) keep(rows []int) {
	files := make([]string, len(rows))
	var labels []int64
	if d.Labels != nil {
		labels = make([]int64, len(rows))
	}
	for i, r := range rows {
		files[i] = d.Files[r]
		if labels != nil {
			labels[i] = d.Labels[r]
		}
	}
	d.Files, d.Labels = files, labels
}

func isImageFile(name string) bool {
	lower := strings.ToLower(name)
	for _, ext := range ImageExtensions {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

func (d *ImageFolder) listFolder() error {
	entries, err := os.ReadDir(d.Dir)
	if err != nil {
		return fmt.Errorf("images %s: %w", d.Dir, err)
	}
	var top []string
	for _, e := range entries {
		if e.IsDir() || isDirLink(filepath.Join(d.Dir, e.Name())) {
			d.Classes = append(d.Classes, e.Name())
		} else if isImageFile(e.Name()) {
			top = append(top, e.Name())
		}
	}
	sort.Strings(d.Classes)
	var empty []string
	for label, class := range d.Classes {
		files, err := imagesUnder(d.Dir, class)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			empty = append(empty, class)
		}
		for _, f := range files {
			d.Files = append(d.Files, f)
			d.Labels = append(d.Labels, int64(label))
		}
	}
	if len(d.Files) == 0 {
		// No class folder holds an image: the folder's own images, unlabelled.
		sort.Strings(top)
		d.Files, d.Labels, d.Classes = top, nil, nil
		return nil
	}
	if len(empty) > 0 {
		return fmt.Errorf("images %s: class folder(s) %s hold no image files (%s)", d.Dir, strings.Join(empty, ", "), strings.Join(ImageExtensions, " "))
	}
	return nil
}

func isDirLink(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// imagesUnder lists the image files below root/class in the order of torchvision's
// make_dataset: sorted(os.walk(...)) visits folders in path order, each folder's files
// sorted by name.
func imagesUnder(root, class string) ([]string, error) {
	type entry struct{ dir, name string }
	var found []entry
	err := filepath.WalkDir(filepath.Join(root, class), func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && isImageFile(e.Name()) {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			found = append(found, entry{filepath.Dir(rel), e.Name()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("images %s: %w", root, err)
	}
	slices.SortFunc(found, func(a, b entry) int {
		if c := strings.Compare(a.dir, b.dir); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]string, len(found))
	for i, e := range found {
		out[i] = filepath.Join(e.dir, e.name)
	}
	return out, nil
}

// readLabelFile reads "path,label" (CSV) or "path label" (whitespace) lines; blank lines
// and lines starting with # are skipped, and so is a first line that names no file (a
// header). A line with a path alone leaves the images unlabelled, which every line must
// then do. Integer labels are class indices; other labels are class names, numbered in
// sorted order.
func (d *ImageFolder) readLabelFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("labels %s: %w", path, err)
	}
	defer f.Close()
	type row struct {
		file, label string
		line        int
	}
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	csv := strings.EqualFold(filepath.Ext(path), ".csv")
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var fields []string
		if csv || strings.Contains(line, ",") {
			fields = strings.Split(line, ",")
			for i := range fields {
				fields[i] = strings.Trim(strings.TrimSpace(fields[i]), `"`)
			}
		} else {
			fields = strings.Fields(line)
		}
		r := row{file: fields[0], line: n}
		if len(fields) > 1 {
			r.label = fields[1]
		}
		if len(rows) == 0 && !fileExists(d.resolve(r.file)) && !isInt(r.label) {
			continue // a header
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("labels %s: %w", path, err)
	}
	labelled := len(rows) > 0 && rows[0].label != ""
	names := map[string]bool{}
	for _, r := range rows {
		if (r.label != "") != labelled {
			return fmt.Errorf("labels %s:%d: some lines have a label and some do not", path, r.line)
		}
		if labelled && !isInt(r.label) {
			names[r.label] = true
		}
	}
	if len(names) > 0 {
		for name := range names {
			d.Classes = append(d.Classes, name)
		}
		sort.Strings(d.Classes)
	}
	for _, r := range rows {
		d.Files = append(d.Files, r.file)
		if !labelled {
			continue
		}
		var label int64
		if isInt(r.label) {
			label, _ = strconv.ParseInt(r.label, 10, 64)
			if label < 0 {
				return fmt.Errorf("labels %s:%d: negative label %d", path, r.line, label)
			}
		} else {
			label = int64(sort.SearchStrings(d.Classes, r.label))
		}
		d.Labels = append(d.Labels, label)
	}
	return nil
}

func isInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

func (d *ImageFolder) resolve(file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(d.Dir, file)
}

// Len returns the number of images.
func (d *ImageFolder) Len() int { return len(d.Files) }

// Batch decodes and preprocesses images [start, start+n) into one tensor, [n,C,H,W] or
// [n,H,W,C], and starts decoding the next n in the background.
func (d *ImageFolder) Batch(start, n int) (Batch, error) {
	if err := checkRange(start, n, d.Len()); err != nil {
		return Batch{}, err
	}
	d.mu.Lock()
	p := d.pending
	d.pending = nil
	d.mu.Unlock()
	var b Batch
	var err error
	if p != nil {
		// Wait even for a batch nobody wants, so that at most one is ever in flight.
		<-p.done
	}
	if p != nil && p.start == start && p.n == n {
		b, err = p.batch, p.err
	} else {
		b, err = d.load(start, n)
	}
	if err == nil && d.readAhead && start+n < d.Len() {
		next := &pendingBatch{start: start + n, n: min(n, d.Len()-start-n), done: make(chan struct{})}
		d.mu.Lock()
		d.pending = next
		d.mu.Unlock()
		go func() {
			defer close(next.done)
			next.batch, next.err = d.load(next.start, next.n)
		}()
	}
	return b, err
}

// load decodes rows [start, start+n).
func (d *ImageFolder) load(start, n int) (Batch, error) {
	channels := d.Pre.Channels()
	var out Tensor
	var per, oh, ow int
	for i := 0; i < n; i++ {
		file := d.Files[start+i]
		img, err := d.decode(file)
		if err != nil {
			return Batch{}, err
		}
		h, w := d.Pre.OutputSize(img.w, img.h)
		if i == 0 {
			oh, ow, per = h, w, channels*h*w
			out.Shape = []int64{int64(n), int64(channels), int64(h), int64(w)}
			if d.Pre.Layout == NHWC {
				out.Shape = []int64{int64(n), int64(h), int64(w), int64(channels)}
			}
			if d.Pre.Uint8 {
				out.DType, out.Uint8 = Uint8, make([]uint8, n*per)
			} else {
				out.DType, out.Float32 = Float32, make([]float32, n*per)
			}
		} else if h != oh || w != ow {
			return Batch{}, fmt.Errorf("image %s is %dx%d after preprocessing, %s is %dx%d: a batch needs one size (add crop=N or resize=HxW to --preprocess)",
				d.resolve(file), w, h, d.resolve(d.Files[start]), ow, oh)
		}
		if d.Pre.Uint8 {
			d.Pre.apply(img, nil, out.Uint8[i*per:(i+1)*per])
		} else {
			d.Pre.apply(img, out.Float32[i*per:(i+1)*per], nil)
		}
	}
	b := Batch{Inputs: []Tensor{out}}
	if d.Labels != nil {
		b.Labels = d.Labels[start : start+n : start+n]
	}
	return b, nil
}

// decode reads one image file into RGB.
func (d *ImageFolder) decode(file string) (rgbImage, error) {
	path := d.resolve(file)
	fi, err := os.Stat(path)
	if err != nil {
		return rgbImage{}, fmt.Errorf("image %s: %w", path, err)
	}
	if fi.Size() > maxImageFileBytes {
		return rgbImage{}, fmt.Errorf("image %s: %d bytes, more than the %d MiB allowed", path, fi.Size(), maxImageFileBytes>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return rgbImage{}, fmt.Errorf("image %s: %w", path, err)
	}
	w, h, pix, err := pilimage.DecodeRGB(data)
	if err != nil {
		return rgbImage{}, fmt.Errorf("image %s: %w", path, err)
	}
	return rgbImage{w, h, pix}, nil
}
