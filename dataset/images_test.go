package dataset

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestParseImagesSpec(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
		err  string
	}{
		{in: "images:data/val", want: Spec{Kind: KindImages, Path: "data/val"}},
		{in: "images:/x,labels=/x/val.txt,limit=10", want: Spec{Kind: KindImages, Path: "/x", Labels: "/x/val.txt", Limit: 10}},
		{in: "images:calib,sample=500", want: Spec{Kind: KindImages, Path: "calib", Sample: 500}},
		{in: "images:", err: "want images:DIR"},
		{in: "images:d,limit=0", err: "positive integer"},
		{in: "images:d,labels=", err: "needs a file"},
		{in: "images:d,shuffle", err: "unknown option"},
	}
	for _, tc := range tests {
		got, err := ParseSpec(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSpec(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}
}

// writeFlat writes n noise PNGs of w×h named img_K.png into dir.
func writeFlat(t *testing.T, dir string, n, w, h int) {
	for i := 0; i < n; i++ {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("img_%02d.png", i)), encodePNG(t, noiseImage(w, h, int64(i))))
	}
}

func TestImageFolderUnlabelled(t *testing.T) {
	dir := t.TempDir()
	writeFlat(t, dir, 5, 20, 10)
	d, err := OpenImages(dir, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 5 || d.Labels != nil || d.Classes != nil {
		t.Fatalf("len %d labels %v classes %v", d.Len(), d.Labels, d.Classes)
	}
	b, err := d.Batch(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(b.Inputs[0].Shape); got != "[3 3 10 20]" || b.Labels != nil {
		t.Fatalf("shape %s labels %v", got, b.Labels)
	}
	// ToTensor only: pixel (0,0) of image 1, red channel.
	want := float32(noiseImage(20, 10, 1).Pix[0]) / 255
	if b.Inputs[0].Float32[0] != want {
		t.Fatalf("first value %v, want %v", b.Inputs[0].Float32[0], want)
	}
}

func TestImageFolderLayouts(t *testing.T) {
	dir := t.TempDir()
	writeFlat(t, dir, 1, 3, 2)
	img := noiseImage(3, 2, 0)
	for _, tc := range []struct {
		pre   string
		shape string
		at    func(c, y, x int) int
	}{
		{"layout=nchw", "[1 3 2 3]", func(c, y, x int) int { return c*6 + y*3 + x }},
		{"layout=nhwc", "[1 2 3 3]", func(c, y, x int) int { return (y*3+x)*3 + c }},
		{"layout=nhwc,channels=bgr", "[1 2 3 3]", func(c, y, x int) int { return (y*3+x)*3 + 2 - c }},
	} {
		pre, err := ParsePreprocess(tc.pre + ",dtype=uint8")
		if err != nil {
			t.Fatal(err)
		}
		d, err := OpenImages(dir, ImageOptions{Preprocess: &pre})
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.Batch(0, 1)
		if err != nil {
			t.Fatal(err)
		}
		x := b.Inputs[0]
		if fmt.Sprint(x.Shape) != tc.shape || x.DType != Uint8 {
			t.Fatalf("%s: %s", tc.pre, &x)
		}
		for y := 0; y < 2; y++ {
			for xx := 0; xx < 3; xx++ {
				for c := 0; c < 3; c++ {
					if got, want := x.Uint8[tc.at(c, y, xx)], img.Pix[(y*3+xx)*4+c]; got != want {
						t.Fatalf("%s: channel %d at (%d,%d) = %d, want %d", tc.pre, c, xx, y, got, want)
					}
				}
			}
		}
	}
}

func TestImageFolderLabelFiles(t *testing.T) {
	dir := t.TempDir()
	writeFlat(t, dir, 4, 8, 8)
	tests := []struct {
		name, file, content string
		files               string
		labels, classes     string
		err                 string
	}{
		{name: "csv with header and indices", file: "labels.csv",
			content: "filename,label\nimg_02.png,7\n\"img_00.png\", 3\n",
			files:   "[img_02.png img_00.png]", labels: "[7 3]", classes: "[]"},
		{name: "txt with class names", file: "val.txt",
			content: "# comment\nimg_01.png dog\nimg_03.png cat\n\nimg_00.png dog\n",
			files:   "[img_01.png img_03.png img_00.png]", labels: "[1 0 1]", classes: "[cat dog]"},
		{name: "file names alone are unlabelled", file: "list.txt",
			content: "img_03.png\nimg_01.png\n",
			files:   "[img_03.png img_01.png]", labels: "[]", classes: "[]"},
		{name: "mixed", file: "bad.txt", content: "img_00.png 1\nimg_01.png\n", err: "some lines have a label"},
		{name: "negative", file: "neg.txt", content: "img_00.png -1\n", err: "negative label"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			labels := writeFile(t, filepath.Join(t.TempDir(), tc.file), []byte(tc.content))
			d, err := OpenImages(dir, ImageOptions{Labels: labels})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(d.Files); got != tc.files {
				t.Errorf("files %s, want %s", got, tc.files)
			}
			if got := fmt.Sprint(d.Labels); got != tc.labels {
				t.Errorf("labels %s, want %s", got, tc.labels)
			}
			if got := fmt.Sprint(d.Classes); got != tc.classes {
				t.Errorf("classes %s, want %s", got, tc.classes)
			}
			if _, err := d.Batch(0, d.Len()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestImageFolderLimitAndSample(t *testing.T) {
	dir := t.TempDir()
	for c := 0; c < 4; c++ {
		writeFlat(t, filepath.Join(dir, fmt.Sprintf("class%d", c)), 5, 4, 4)
	}
	d, err := Open("images:" + dir + ",sample=4")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(d.(*ImageFolder).Labels); got != "[0 1 2 3]" {
		t.Errorf("sample=4 labels %s, want one per class", got)
	}
	d, err = Open("images:" + dir + ",limit=3")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(d.(*ImageFolder).Labels); got != "[0 0 0]" {
		t.Errorf("limit=3 labels %s", got)
	}
}

func TestImageFolderErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "1.png"), encodePNG(t, noiseImage(10, 10, 1)))
	writeFile(t, filepath.Join(dir, "a", "2.png"), encodePNG(t, noiseImage(12, 10, 1)))
	writeFile(t, filepath.Join(dir, "a", "3.png"), []byte("\x89PNG not really"))
	d, err := OpenImages(dir, ImageOptions{NoReadAhead: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Batch(0, 2); err == nil || !strings.Contains(err.Error(), "a batch needs one size") {
		t.Errorf("mixed sizes: %v", err)
	}
	if _, err := d.Batch(2, 1); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "a", "3.png")) {
		t.Errorf("corrupt file: error %v does not name the file", err)
	}
	writeFile(t, filepath.Join(dir, "empty", "readme.txt"), []byte("x"))
	if _, err := OpenImages(dir, ImageOptions{}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty class folder: %v", err)
	}
	if _, err := OpenImages(t.TempDir(), ImageOptions{}); err == nil || !strings.Contains(err.Error(), "no image files") {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := OpenWith("fashion-mnist:test", Options{Preprocess: &Preprocess{}}); err == nil || !strings.Contains(err.Error(), "images:DIR specs only") {
		t.Errorf("preprocess on a non-image spec: %v", err)
	}
}

func TestImageFolderRefusesHugeImages(t *testing.T) {
	// A valid PNG header claiming 60000×60000 pixels, with no pixel data: refused from the
	// header, before anything is allocated.
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 60000)
	binary.BigEndian.PutUint32(ihdr[4:], 60000)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "huge.png"), b.Bytes())
	d, err := OpenImages(dir, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Batch(0, 1); err == nil || !strings.Contains(err.Error(), "60000x60000") {
		t.Fatalf("huge image: %v", err)
	}
}

// TestImageFolderReadAhead walks the folder in batches, with read-ahead, from several
// goroutines that each open their own dataset, and in an order that defeats read-ahead;
// run with -race.
func TestImageFolderReadAhead(t *testing.T) {
	dir := t.TempDir()
	writeFlat(t, dir, 11, 6, 5)
	plain, err := OpenImages(dir, ImageOptions{NoReadAhead: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.Batch(0, 11)
	if err != nil {
		t.Fatal(err)
	}
	per := len(want.Inputs[0].Float32) / 11
	check := func(d Dataset, starts []int, n int) error {
		for _, s := range starts {
			m := min(n, d.Len()-s)
			b, err := d.Batch(s, m)
			if err != nil {
				return err
			}
			if fmt.Sprint(b.Inputs[0].Float32) != fmt.Sprint(want.Inputs[0].Float32[s*per:(s+m)*per]) {
				return fmt.Errorf("rows %d..%d differ", s, s+m)
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := OpenImages(dir, ImageOptions{})
			if err == nil {
				err = Each(d, 3, func(int, Batch) error { return nil })
			}
			if err == nil {
				err = check(d, []int{0, 4, 8, 4, 0, 2, 5, 8, 10}, 2+g)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
