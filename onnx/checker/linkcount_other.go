//go:build !unix

package checker

import "io/fs"

// linkCount is unknown on this platform: hard links are not detected.
func linkCount(fs.FileInfo) (uint64, bool) { return 0, false }
