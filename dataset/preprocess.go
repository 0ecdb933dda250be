package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Layout is the order of a batch of images' dimensions.
type Layout int

// The layouts image models take.
const (
	NCHW Layout = iota // PyTorch: [batch, channels, height, width]
	NHWC               // TensorFlow: [batch, height, width, channels]
)

func (l Layout) String() string {
	if l == NHWC {
		return "nhwc"
	}
	return "nchw"
}

// Interpolation is the resampling filter of a resize.
type Interpolation int

// The filters of PIL's Image.resize that torchvision's Resize passes on.
const (
	Bilinear Interpolation = iota // torchvision's default
	Bicubic
	Nearest
)

var interpolationNames = map[string]Interpolation{"bilinear": Bilinear, "bicubic": Bicubic, "nearest": Nearest}

func (i Interpolation) String() string {
	for name, v := range interpolationNames {
		if v == i {
			return name
		}
	}
	return fmt.Sprintf("Interpolation(%d)", int(i))
}

// Preprocess turns decoded RGB images into a model input the way torchvision's
//
//	Compose([Resize(R), CenterCrop(C), ToTensor(), Normalize(mean, std)])
//
// does on PIL images: Resize scales the shorter side to R (the longer one to
// int(R·long/short)) with PIL's antialiased filter, CenterCrop takes the middle C×C (its
// offset rounded half to even, zero-padded when the image is smaller), ToTensor divides
// by 255 and Normalize subtracts the mean and divides by the standard deviation, each in
// float32. The pixels come out identical to torchvision's for images both decode alike.
type Preprocess struct {
	// ResizeShort scales the shorter side to this many pixels; 0 leaves it. ResizeH and
	// ResizeW, when both set, resize to exactly that size instead.
	ResizeShort      int
	ResizeH, ResizeW int
	// CropH×CropW is the centre crop; 0 means no crop.
	CropH, CropW int
	// Interpolation is the resize filter (bilinear by default).
	Interpolation Interpolation
	// Divide is what pixels are divided by before Normalize (ToTensor's 255); 1 keeps 0..255.
	Divide float32
	// Mean and Std normalize each channel; empty means 0 and 1.
	Mean, Std []float32
	// Layout of the batch: NCHW (default) or NHWC.
	Layout Layout
	// BGR swaps the channels (models converted from Caffe or OpenCV pipelines).
	BGR bool
	// Gray makes one channel with PIL's convert("L") luma.
	Gray bool
	// Uint8 emits the pixels as uint8, unscaled and unnormalized (models that take bytes).
	Uint8 bool
}

// Presets are the named preprocessing specs ParsePreprocess accepts.
var Presets = map[string]string{
	// torchvision's classification models (ResNet, MobileNet, EfficientNet...).
	"imagenet": "resize=256,crop=224,mean=0.485,0.456,0.406,std=0.229,0.224,0.225,layout=nchw",
	// Only ToTensor: pixels scaled to [0,1], images must already share one size.
	"none": "",
}

// PreprocessHelp is a one-line summary of the syntax, for command-line flag help.
const PreprocessHelp = "imagenet, or resize=N|HxW,crop=N|HxW,mean=R,G,B,std=R,G,B,scale=1/255,layout=nchw|nhwc,interpolation=bilinear|bicubic|nearest,channels=rgb|bgr|gray,dtype=float32|uint8 (a preset followed by overrides works too)"

// DefaultPreprocess is ToTensor alone.
func DefaultPreprocess() Preprocess { return Preprocess{Divide: 255} }

// ParsePreprocess parses a preprocessing spec: comma-separated key=value pairs, where
// mean and std take one value per channel (the values after "mean=" up to the next key),
// optionally starting with a preset name whose settings the later pairs override.
func ParsePreprocess(s string) (Preprocess, error) {
	p := DefaultPreprocess()
	if strings.TrimSpace(s) == "" {
		return p, nil
	}
	items := strings.Split(s, ",")
	if preset, ok := Presets[strings.ToLower(strings.TrimSpace(items[0]))]; ok {
		var err error
		if p, err = ParsePreprocess(preset); err != nil {
			return p, err
		}
		items = items[1:]
	}
	// Group the items into key → values; an item without "=" continues the previous key.
	type pair struct {
		key    string
		values []string
	}
	var pairs []pair
	for _, it := range items {
		it = strings.TrimSpace(it)
		if k, v, ok := strings.Cut(it, "="); ok {
			pairs = append(pairs, pair{strings.ToLower(strings.TrimSpace(k)), []string{strings.TrimSpace(v)}})
			continue
		}
		if len(pairs) == 0 {
			return p, fmt.Errorf("preprocess %q: %q is neither a preset (imagenet, none) nor key=value", s, it)
		}
		last := &pairs[len(pairs)-1]
		last.values = append(last.values, it)
	}
	for _, kv := range pairs {
		if err := p.set(kv.key, kv.values); err != nil {
			return p, fmt.Errorf("preprocess %q: %w", s, err)
		}
	}
	if len(p.Mean) != len(p.Std) && len(p.Mean) > 0 && len(p.Std) > 0 {
		return p, fmt.Errorf("preprocess %q: %d mean values but %d std values", s, len(p.Mean), len(p.Std))
	}
	return p, nil
}

func (p *Preprocess) set(key string, values []string) error {
	one := func() (string, error) {
		if len(values) != 1 || values[0] == "" {
			return "", fmt.Errorf("%s takes one value, got %q", key, strings.Join(values, ","))
		}
		return strings.ToLower(values[0]), nil
	}
	switch key {
	case "resize":
		v, err := one()
		if err != nil {
			return err
		}
		h, w, square, err := parseSize(v)
		if err != nil {
			return fmt.Errorf("resize: %w", err)
		}
		p.ResizeShort, p.ResizeH, p.ResizeW = 0, 0, 0
		if square {
			p.ResizeShort = h
		} else {
			p.ResizeH, p.ResizeW = h, w
		}
	case "crop":
		v, err := one()
		if err != nil {
			return err
		}
		h, w, _, err := parseSize(v)
		if err != nil {
			return fmt.Errorf("crop: %w", err)
		}
		p.CropH, p.CropW = h, w
	case "mean", "std":
		var out []float32
		for _, v := range values {
			f, err := strconv.ParseFloat(v, 32)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%s: %q is not a number", key, v)
			}
			if key == "std" && f == 0 {
				return fmt.Errorf("std: a channel's standard deviation is 0")
			}
			out = append(out, float32(f))
		}
		if len(out) != 1 && len(out) != 3 {
			return fmt.Errorf("%s: want 1 or 3 values, got %d", key, len(out))
		}
		if key == "mean" {
			p.Mean = out
		} else {
			p.Std = out
		}
	case "scale":
		v, err := one()
		if err != nil {
			return err
		}
		// "1/255" divides exactly as ToTensor does; a decimal scale divides by its inverse.
		if num, den, ok := strings.Cut(v, "/"); ok && strings.TrimSpace(num) == "1" {
			d, err := strconv.ParseFloat(strings.TrimSpace(den), 32)
			if err != nil || d <= 0 {
				return fmt.Errorf("scale: %q: want 1/N with N > 0", v)
			}
			p.Divide = float32(d)
			break
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) {
			return fmt.Errorf("scale: %q: want a positive number or 1/N", v)
		}
		p.Divide = float32(1 / f)
	case "layout":
		v, err := one()
		if err != nil {
			return err
		}
		switch v {
		case "nchw":
			p.Layout = NCHW
		case "nhwc":
			p.Layout = NHWC
		default:
			return fmt.Errorf("layout: %q: want nchw or nhwc", v)
		}
	case "interpolation", "interp":
		v, err := one()
		if err != nil {
			return err
		}
		i, ok := interpolationNames[v]
		if !ok {
			return fmt.Errorf("interpolation: %q: want bilinear, bicubic or nearest", v)
		}
		p.Interpolation = i
	case "channels":
		v, err := one()
		if err != nil {
			return err
		}
		switch v {
		case "rgb":
			p.BGR, p.Gray = false, false
		case "bgr":
			p.BGR, p.Gray = true, false
		case "gray", "grey", "l":
			p.BGR, p.Gray = false, true
		default:
			return fmt.Errorf("channels: %q: want rgb, bgr or gray", v)
		}
	case "dtype":
		v, err := one()
		if err != nil {
			return err
		}
		switch v {
		case "float32", "float":
			p.Uint8 = false
		case "uint8":
			p.Uint8 = true
		default:
			return fmt.Errorf("dtype: %q: want float32 or uint8", v)
		}
	default:
		return fmt.Errorf("unknown key %q (want resize, crop, mean, std, scale, layout, interpolation, channels, dtype)", key)
	}
	return nil
}

// parseSize reads "N" (square is true) or "HxW".
func parseSize(v string) (h, w int, square bool, err error) {
	hs, ws, pair := strings.Cut(v, "x")
	h, err = strconv.Atoi(hs)
	if err == nil && pair {
		w, err = strconv.Atoi(ws)
	} else {
		w = h
	}
	if err != nil || h <= 0 || w <= 0 || h > 1<<14 || w > 1<<14 {
		return 0, 0, false, fmt.Errorf("%q: want N or HxW with sides in 1..16384", v)
	}
	return h, w, !pair, nil
}

// String formats p in the syntax ParsePreprocess reads.
func (p Preprocess) String() string {
	var parts []string
	switch {
	case p.ResizeShort > 0:
		parts = append(parts, fmt.Sprintf("resize=%d", p.ResizeShort))
	case p.ResizeH > 0:
		parts = append(parts, fmt.Sprintf("resize=%dx%d", p.ResizeH, p.ResizeW))
	}
	if p.CropH > 0 {
		if p.CropH == p.CropW {
			parts = append(parts, fmt.Sprintf("crop=%d", p.CropH))
		} else {
			parts = append(parts, fmt.Sprintf("crop=%dx%d", p.CropH, p.CropW))
		}
	}
	if p.Interpolation != Bilinear {
		parts = append(parts, "interpolation="+p.Interpolation.String())
	}
	floats := func(v []float32) string {
		s := make([]string, len(v))
		for i, f := range v {
			s[i] = strconv.FormatFloat(float64(f), 'g', -1, 32)
		}
		return strings.Join(s, ",")
	}
	if len(p.Mean) > 0 {
		parts = append(parts, "mean="+floats(p.Mean))
	}
	if len(p.Std) > 0 {
		parts = append(parts, "std="+floats(p.Std))
	}
	if p.Divide != 255 && !p.Uint8 {
		parts = append(parts, "scale=1/"+strconv.FormatFloat(float64(p.Divide), 'g', -1, 32))
	}
	parts = append(parts, "layout="+p.Layout.String())
	switch {
	case p.Gray:
		parts = append(parts, "channels=gray")
	case p.BGR:
		parts = append(parts, "channels=bgr")
	}
	if p.Uint8 {
		parts = append(parts, "dtype=uint8")
	}
	return strings.Join(parts, ",")
}

// Channels returns the number of channels p emits.
func (p *Preprocess) Channels() int {
	if p.Gray {
		return 1
	}
	return 3
}

// OutputSize returns the height and width p makes of a w×h image.
func (p *Preprocess) OutputSize(w, h int) (oh, ow int) {
	if p.CropH > 0 {
		return p.CropH, p.CropW
	}
	nw, nh := p.resizedSize(w, h)
	return nh, nw
}

// resizedSize is torchvision's _compute_resized_output_size for a PIL image.
func (p *Preprocess) resizedSize(w, h int) (nw, nh int) {
	switch {
	case p.ResizeH > 0:
		return p.ResizeW, p.ResizeH
	case p.ResizeShort > 0:
		short, long := w, h
		if w > h {
			short, long = h, w
		}
		// Python's int(size * long / short): true division, then truncation.
		newLong := int(float64(p.ResizeShort*long) / float64(short))
		if w <= h {
			return p.ResizeShort, newLong
		}
		return newLong, p.ResizeShort
	}
	return w, h
}

// rgbImage is interleaved 8-bit RGB.
type rgbImage struct {
	w, h int
	pix  []uint8
}

// apply resizes and crops img and writes the normalized pixels of one image into dst (a
// float32 or uint8 slice of Channels()·OutputSize elements) in p's layout.
func (p *Preprocess) apply(img rgbImage, f32 []float32, u8 []uint8) {
	nw, nh := p.resizedSize(img.w, img.h)
	if nw != img.w || nh != img.h {
		img = resize(img, nw, nh, p.Interpolation)
	}
	if p.CropH > 0 {
		img = centerCrop(img, p.CropW, p.CropH)
	}
	channels := p.Channels()
	var mean, std [3]float32
	for c := 0; c < 3; c++ {
		mean[c], std[c] = 0, 1
		if len(p.Mean) > 0 {
			mean[c] = p.Mean[min(c, len(p.Mean)-1)]
		}
		if len(p.Std) > 0 {
			std[c] = p.Std[min(c, len(p.Std)-1)]
		}
	}
	plane := img.w * img.h
	for i := 0; i < plane; i++ {
		px := img.pix[3*i : 3*i+3 : 3*i+3]
		for c := 0; c < channels; c++ {
			var v uint8
			switch {
			case p.Gray:
				// PIL's convert("L"): ITU-R 601-2 luma in 16-bit fixed point.
				v = uint8((uint32(px[0])*19595 + uint32(px[1])*38470 + uint32(px[2])*7471 + 0x8000) >> 16)
			case p.BGR:
				v = px[2-c]
			default:
				v = px[c]
			}
			at := c*plane + i
			if p.Layout == NHWC {
				at = i*channels + c
			}
			if u8 != nil {
				u8[at] = v
				continue
			}
			// ToTensor then Normalize, each rounded to float32 as torch computes them.
			x := float32(v) / p.Divide
			f32[at] = (x - mean[c]) / std[c]
		}
	}
}

// centerCrop is torchvision's center_crop: zero padding (left/top getting the smaller half)
// when the image is smaller than the crop, then an offset of round((size-crop)/2), which
// Python rounds half to even.
func centerCrop(img rgbImage, cw, ch int) rgbImage {
	if cw > img.w || ch > img.h {
		padL, padT := max(cw-img.w, 0)/2, max(ch-img.h, 0)/2
		pw, ph := max(cw, img.w), max(ch, img.h)
		padded := rgbImage{w: pw, h: ph, pix: make([]uint8, 3*pw*ph)}
		for y := 0; y < img.h; y++ {
			copy(padded.pix[3*((y+padT)*pw+padL):], img.pix[3*y*img.w:3*(y+1)*img.w])
		}
		img = padded
		if img.w == cw && img.h == ch {
			return img
		}
	}
	top := int(math.RoundToEven(float64(img.h-ch) / 2))
	left := int(math.RoundToEven(float64(img.w-cw) / 2))
	out := rgbImage{w: cw, h: ch, pix: make([]uint8, 3*cw*ch)}
	for y := 0; y < ch; y++ {
		src := 3 * ((y+top)*img.w + left)
		copy(out.pix[3*y*cw:3*(y+1)*cw], img.pix[src:src+3*cw])
	}
	return out
}
