package tensor

import (
	"unsafe"
)

// view returns data, a typed element slice, as a slice of the same memory whose element
// type depends only on the element size: []uint8, []uint16, []uint32, []uint64,
// [][2]uint64 (complex128) or []string. Data-movement kernels are written once over these.
func view(data any) any {
	switch d := data.(type) {
	case []uint8:
		return d
	case []int8:
		return unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	case []bool:
		return unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	case []uint16:
		return d
	case []int16:
		return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	case []uint32:
		return d
	case []int32:
		return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	case []float32:
		return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	case []uint64:
		return d
	case []int64:
		return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	case []float64:
		return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	case []complex64:
		return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	case []complex128:
		return unsafe.Slice((*[2]uint64)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	case []string:
		return d
	}
	return nil
}

// take sets dst[i] = src[idx[i]] for every i; dst and src hold the same element type.
func take(dst, src any, idx []int) {
	switch d := view(dst).(type) {
	case []uint8:
		takeT(d, view(src).([]uint8), idx)
	case []uint16:
		takeT(d, view(src).([]uint16), idx)
	case []uint32:
		takeT(d, view(src).([]uint32), idx)
	case []uint64:
		takeT(d, view(src).([]uint64), idx)
	case [][2]uint64:
		takeT(d, view(src).([][2]uint64), idx)
	case []string:
		takeT(d, src.([]string), idx)
	}
}

func takeT[T any](dst, src []T, idx []int) {
	for i, j := range idx {
		dst[i] = src[j]
	}
}

// copyAt copies n elements from src[sOff:] to dst[dOff:].
func copyAt(dst any, dOff int, src any, sOff, n int) {
	switch d := view(dst).(type) {
	case []uint8:
		copy(d[dOff:dOff+n], view(src).([]uint8)[sOff:])
	case []uint16:
		copy(d[dOff:dOff+n], view(src).([]uint16)[sOff:])
	case []uint32:
		copy(d[dOff:dOff+n], view(src).([]uint32)[sOff:])
	case []uint64:
		copy(d[dOff:dOff+n], view(src).([]uint64)[sOff:])
	case [][2]uint64:
		copy(d[dOff:dOff+n], view(src).([][2]uint64)[sOff:])
	case []string:
		copy(d[dOff:dOff+n], src.([]string)[sOff:])
	}
}

// stridedCopy fills dst (row-major over shape) from src: the element at multi-index i is
// src[off + Σ i[k]·strides[k]]. Strides may be zero (broadcast) or negative (reversed).
func stridedCopy(dst, src any, shape []int, strides []int, off int) {
	switch d := view(dst).(type) {
	case []uint8:
		stridedT(d, view(src).([]uint8), shape, strides, off)
	case []uint16:
		stridedT(d, view(src).([]uint16), shape, strides, off)
	case []uint32:
		stridedT(d, view(src).([]uint32), shape, strides, off)
	case []uint64:
		stridedT(d, view(src).([]uint64), shape, strides, off)
	case [][2]uint64:
		stridedT(d, view(src).([][2]uint64), shape, strides, off)
	case []string:
		stridedT(d, src.([]string), shape, strides, off)
	}
}

func stridedT[T any](dst, src []T, shape []int, strides []int, off int) {
	if len(dst) == 0 {
		return
	}
	r := len(shape)
	if r == 0 {
		dst[0] = src[off]
		return
	}
	inner, is := shape[r-1], strides[r-1]
	idx := make([]int, r-1)
	pos := 0
	for {
		o := off
		for k, i := range idx {
			o += i * strides[k]
		}
		row := dst[pos : pos+inner]
		if is == 1 {
			copy(row, src[o:o+inner])
		} else {
			for i := range row {
				row[i] = src[o]
				o += is
			}
		}
		pos += inner
		k := r - 2
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// fillWith sets every element of dst to src[j] (same element type).
func fillWith(dst any, src any, j int) {
	switch d := view(dst).(type) {
	case []uint8:
		fillT(d, view(src).([]uint8)[j])
	case []uint16:
		fillT(d, view(src).([]uint16)[j])
	case []uint32:
		fillT(d, view(src).([]uint32)[j])
	case []uint64:
		fillT(d, view(src).([]uint64)[j])
	case [][2]uint64:
		fillT(d, view(src).([][2]uint64)[j])
	case []string:
		fillT(d, src.([]string)[j])
	}
}

func fillT[T any](d []T, v T) {
	for i := range d {
		d[i] = v
	}
}

// sliceOf returns data[lo:hi] keeping its Go type.
func sliceOf(data any, lo, hi int) any {
	switch d := data.(type) {
	case []float32:
		return d[lo:hi]
	case []float64:
		return d[lo:hi]
	case []uint16:
		return d[lo:hi]
	case []int8:
		return d[lo:hi]
	case []int16:
		return d[lo:hi]
	case []int32:
		return d[lo:hi]
	case []int64:
		return d[lo:hi]
	case []uint8:
		return d[lo:hi]
	case []uint32:
		return d[lo:hi]
	case []uint64:
		return d[lo:hi]
	case []bool:
		return d[lo:hi]
	case []string:
		return d[lo:hi]
	case []complex64:
		return d[lo:hi]
	case []complex128:
		return d[lo:hi]
	}
	return nil
}
