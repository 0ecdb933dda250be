package dataset

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
)

// noiseImage is a w×h image of smooth gradients plus noise, so that resizing has edges
// and ramps to get right.
func noiseImage(w, h int, seed int64) *image.NRGBA {
	r := rand.New(rand.NewSource(seed))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(x*255/max(w-1, 1)) ^ uint8(r.Intn(32)),
				G: uint8(y * 255 / max(h-1, 1)),
				B: uint8(r.Intn(256)),
				A: 255,
			})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t.(*testing.T), to, data)
}

// imageClass is one class folder of the fixture, and whether its files decode exactly as
// PIL decodes them (lossless formats) or within JPEG's IDCT rounding.
type imageClass struct {
	name     string
	lossless bool
}

// writeImageFolder builds an ImageFolder-style tree of real files: Go-encoded PNG and JPEG
// images, and the JPEG/WebP/BMP/TIFF test files of the Go distribution and x/image.
func writeImageFolder(t *testing.T, dir string) []imageClass {
	t.Helper()
	gosrc, ximg := testenv.GoImageTestdata(t), testenv.XImageTestdata(t)
	// class a: JPEGs, every chroma subsampling libjpeg-turbo upsamples.
	for _, name := range []string{"video-001.q50.420.jpeg", "video-001.q50.422.jpeg", "video-001.q50.444.jpeg",
		"video-001.q50.440.jpeg", "video-001.q50.420.progressive.jpeg", "video-005.gray.q50.jpeg", "video-001.jpeg"} {
		copyFile(t, filepath.Join(gosrc, name), filepath.Join(dir, "a_jpeg", name))
	}
	copyFile(t, filepath.Join(ximg, "go-turns-two-280x360.jpeg"), filepath.Join(dir, "a_jpeg", "sub", "gopher.jpeg"))
	writeFile(t, filepath.Join(dir, "a_jpeg", "noise.JPG"), encodeJPEG(t, noiseImage(301, 203, 1), 90))
	// class b: PNGs of odd sizes, smaller than the crop, grey, paletted and with alpha.
	writeFile(t, filepath.Join(dir, "b_png", "noise_301x203.png"), encodePNG(t, noiseImage(301, 203, 2)))
	writeFile(t, filepath.Join(dir, "b_png", "noise_97x131.png"), encodePNG(t, noiseImage(97, 131, 3)))
	writeFile(t, filepath.Join(dir, "b_png", "noise_640x480.png"), encodePNG(t, noiseImage(640, 480, 4)))
	gray := image.NewGray(image.Rect(0, 0, 260, 300))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 7)
	}
	writeFile(t, filepath.Join(dir, "b_png", "gray.png"), encodePNG(t, gray))
	alpha := noiseImage(230, 250, 5)
	for i := 3; i < len(alpha.Pix); i += 4 {
		alpha.Pix[i] = uint8(i)
	}
	writeFile(t, filepath.Join(dir, "b_png", "alpha.png"), encodePNG(t, alpha))
	for _, name := range []string{"testpattern.png", "video-001.png", "colormap.png"} {
		copyFile(t, filepath.Join(ximg, name), filepath.Join(dir, "b_png", name))
	}
	// class c: lossless WebP, BMP and TIFF decode exactly too.
	for _, name := range []string{"tux.lossless.webp", "blue-purple-pink.lossless.webp", "gopher-doc.with-alpha.lossless.webp",
		"video-001.bmp", "bmp_8bpp.bmp", "video-001.tiff"} {
		copyFile(t, filepath.Join(ximg, name), filepath.Join(dir, "c_lossless", name))
	}
	// class d: lossy WebP, with libwebp's fancy upsampling.
	for _, name := range []string{"video-001.lossy.webp", "blue-purple-pink.lossy.webp", "yellow_rose.lossy.webp", "yellow_rose.lossy-with-alpha.webp"} {
		copyFile(t, filepath.Join(ximg, name), filepath.Join(dir, "d_webp", name))
	}
	// Not images: ignored, as ImageFolder ignores them.
	writeFile(t, filepath.Join(dir, "b_png", "notes.txt"), []byte("not an image"))
	return []imageClass{{"a_jpeg", false}, {"b_png", true}, {"c_lossless", true}, {"d_webp", true}}
}
