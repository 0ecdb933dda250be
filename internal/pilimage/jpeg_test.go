package pilimage

import "testing"

func TestYCbCrToRGBFixedPoint(t *testing.T) {
	// R = Y + 1.402(Cr-128), G = Y - 0.34414(Cb-128) - 0.71414(Cr-128), B = Y + 1.772(Cb-128),
	// rounded and clamped; the cases are away from rounding edges, where the tables agree.
	tests := []struct {
		y, cb, cr int
		r, g, b   uint8
	}{
		{128, 128, 128, 128, 128, 128},
		{100, 90, 200, 201, 62, 33},
		{250, 250, 250, 255, 121, 255},
	}
	for _, tc := range tests {
		r, g, b := yccToRGB(int32(tc.y), int32(tc.cb), int32(tc.cr))
		if r != tc.r || g != tc.g || b != tc.b {
			t.Errorf("yccToRGB(%d, %d, %d) = %d %d %d, want %d %d %d", tc.y, tc.cb, tc.cr, r, g, b, tc.r, tc.g, tc.b)
		}
	}
}
