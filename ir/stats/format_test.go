package stats

import "testing"

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{-5, "-5 B"},
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1<<20 - 1, "1024.0 KiB"},
		{1 << 20, "1.00 MiB"},
		{3<<20 + 1<<19, "3.50 MiB"},
		{1 << 30, "1.00 GiB"},
		{5 << 40, "5120.00 GiB"},
	}
	for _, tt := range tests {
		if got := FormatBytes(tt.n); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFormatCount(t *testing.T) {
	tests := []struct {
		n                int64
		want, fourDigits string
	}{
		{-7, "-7", "-7"},
		{0, "0", "0"},
		{999, "999", "999"},
		{1000, "1.0k", "1000"},
		{9408, "9.4k", "9408"},
		{10000, "10.0k", "10.0k"},
		{999999, "1000.0k", "1000.0k"},
		{1000000, "1.00M", "1.00M"},
		{1234567, "1.23M", "1.23M"},
		{2500000000, "2.50G", "2.50G"},
	}
	for _, tt := range tests {
		if got := FormatCount(tt.n); got != tt.want {
			t.Errorf("FormatCount(%d) = %q, want %q", tt.n, got, tt.want)
		}
		if got := FormatCountFourDigits(tt.n); got != tt.fourDigits {
			t.Errorf("FormatCountFourDigits(%d) = %q, want %q", tt.n, got, tt.fourDigits)
		}
	}
}
