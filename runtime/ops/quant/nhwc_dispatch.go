package quant

// maxBytes and add choose between the portable loops and the assembly ones (added where a
// profile shows they matter).

func maxBytes(dst []uint8, srcs [][]uint8, signed bool) { maxBytesGo(dst, srcs, signed) }

func (k *qadd) add(a, b, y []uint8) { k.addGo(a, b, y) }
