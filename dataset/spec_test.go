package dataset

import (
	"archive/zip"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    Spec
		str     string // String() of the result, when it differs from in
		wantErr string
	}{
		{in: "fashion-mnist:test", want: Spec{Kind: KindFashionMNIST, Split: "test"}},
		{in: "fashion-mnist:train:512", want: Spec{Kind: KindFashionMNIST, Split: "train", Limit: 512}},
		{in: "fashion-mnist:test@/custom/dir", want: Spec{Kind: KindFashionMNIST, Split: "test", Dir: "/custom/dir"}},
		{in: "fashion-mnist:train:8@/d:with:colons", want: Spec{Kind: KindFashionMNIST, Split: "train", Limit: 8, Dir: "/d:with:colons"}},
		{in: "fashion-mnist", want: Spec{Kind: KindFashionMNIST, Split: "test"}, str: "fashion-mnist:test"},
		{in: "fashion-mnist@/x", want: Spec{Kind: KindFashionMNIST, Split: "test", Dir: "/x"}, str: "fashion-mnist:test@/x"},
		{in: "testmodels/testdata/fashion_cnn", want: Spec{Kind: KindPBDir, Path: "testmodels/testdata/fashion_cnn"}},
		{in: "/data/batch.npz", want: Spec{Kind: KindNPZ, Path: "/data/batch.npz"}},
		{in: "x.NPY", want: Spec{Kind: KindNPY, Path: "x.NPY"}},
		{in: "fashion-mnist-copy", want: Spec{Kind: KindPBDir, Path: "fashion-mnist-copy"}},
		{in: "", wantErr: "empty"},
		{in: "fashion-mnist:valid", wantErr: "unknown split"},
		{in: "fashion-mnist:train:0", wantErr: "positive"},
		{in: "fashion-mnist:train:abc", wantErr: "positive"},
		{in: "fashion-mnist:train:1:2", wantErr: "want fashion-mnist"},
		{in: "fashion-mnist:test@", wantErr: "empty folder"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if got.String() != str {
				t.Errorf("String() = %q, want %q", got.String(), str)
			}
		})
	}
}

func TestOpenSpecs(t *testing.T) {
	dir := t.TempDir()
	writeFashionMNIST(t, dir, 30, 20)
	t.Setenv(FashionMNISTEnv, dir)
	npz := writeZip(t, filepath.Join(dir, "d.npz"), []zipEntry{
		{"input.npy", npyBytes(1, npyHeader("<f4", false, "(5, 1)"), make([]byte, 20)), zip.Deflate},
	})
	npy := writeFile(t, filepath.Join(dir, "d.npy"), npyBytes(1, npyHeader("<f4", false, "(6,)"), make([]byte, 24)))
	pbDir := filepath.Join(dir, "pb")
	writeSet(t, pbDir, 0, 7)

	for _, tt := range []struct {
		spec string
		len  int
	}{
		{"fashion-mnist:test", 20},
		{"fashion-mnist:train", 30},
		{"fashion-mnist:train:12", 12},
		{"fashion-mnist:test:3@" + dir, 3},
		{npz, 5},
		{npy, 6},
		{pbDir, 7},
	} {
		ds, err := Open(tt.spec)
		if err != nil {
			t.Errorf("%s: %v", tt.spec, err)
			continue
		}
		if ds.Len() != tt.len {
			t.Errorf("%s: Len = %d, want %d", tt.spec, ds.Len(), tt.len)
		}
		rows := 0
		if err := Each(ds, 4, func(_ int, b Batch) error { rows += b.Size(); return nil }); err != nil {
			t.Errorf("%s: %v", tt.spec, err)
		}
		if rows != tt.len {
			t.Errorf("%s: Each visited %d rows, want %d", tt.spec, rows, tt.len)
		}
	}

	for _, tt := range []struct{ spec, wantErr string }{
		{"fashion-mnist:test:21", "asks for 21 rows"},
		{"fashion-mnist:test@" + filepath.Join(dir, "nowhere"), "nowhere"},
		{filepath.Join(dir, "nowhere"), "no such file"},
		{filepath.Join(dir, "train-images-idx3-ubyte"), "not a folder"},
	} {
		if _, err := Open(tt.spec); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error = %v, want one containing %q", tt.spec, err, tt.wantErr)
		}
	}

	t.Setenv(FashionMNISTEnv, filepath.Join(dir, "nowhere"))
	if _, err := Open("fashion-mnist:test"); err == nil || !strings.Contains(err.Error(), FashionMNISTEnv) {
		t.Errorf("missing default folder: error = %v, want a hint naming %s", err, FashionMNISTEnv)
	}
}
