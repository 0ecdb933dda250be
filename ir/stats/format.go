package stats

import "fmt"

// FormatBytes renders a byte size with binary units for reports: 512 -> "512 B",
// 1536 -> "1.5 KiB", 3<<20 -> "3.00 MiB", 5<<30 -> "5.00 GiB". Negative sizes print as
// plain bytes; callers that show signed differences format the magnitude.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// FormatCount renders a count (parameters, MACs) with decimal suffixes: 999 -> "999",
// 1234 -> "1.2k", 1234567 -> "1.23M", 2500000000 -> "2.50G".
func FormatCount(n int64) string { return formatCount(n, 1e3) }

// FormatCountFourDigits is FormatCount but prints counts below 10,000 in full (9408, not
// "9.4k"), as the pruning report does so that small layers' sizes stay exact.
func FormatCountFourDigits(n int64) string { return formatCount(n, 1e4) }

// formatCount uses the k suffix from kFrom on; M and G always from 1e6 and 1e9.
func formatCount(n, kFrom int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= kFrom:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
