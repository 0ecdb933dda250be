//go:build !amd64 || noasm

package quant

var dwVariant = "go"

// dwVariants lists the depthwise row kernels this build can run.
func dwVariants() []string { return []string{"go"} }

func (d *depthwise) row(rows [][]uint8, colOff []int32, zx []uint8, ow int, out []int32) {
	d.rowGo(rows, colOff, zx, ow, 0, out)
}

func (d *depthwise) rowRequant(rows [][]uint8, colOff []int32, zx []uint8, ow int, y []uint8, ldy int) bool {
	return false
}

func (d *depthwise) rowKxK(rows [][]uint8, ow, step int, y []uint8, ldy int) bool { return false }

func (d *depthwise) kxkRuns() bool { return false }
