package linalg

import "fmt"

// Row-broadcast routines: a matrix of rows (channels-last pixels) combined column by
// column with one row (a per-channel scale or bias), and the column sums of a matrix
// (a global average pool). A call covers the whole matrix, so that rows of a few dozen
// channels do not each pay for a call; the Go definitions below are what the assembly
// versions are tested against.

// MulBroadcast sets dst[i] = a[i]·row[i mod len(row)] for every i < len(dst): each
// len(row)-long row of a scaled column by column. len(a) must equal len(dst), a multiple
// of len(row); dst may be a.
func MulBroadcast(dst, a, row []float32) {
	if rows := checkBroadcast("MulBroadcast", dst, a, row); rows > 0 {
		mulBroadcastImpl(dst, a[:len(dst)], row, rows)
	}
}

// AddBroadcast sets dst[i] = a[i] + row[i mod len(row)], like MulBroadcast.
func AddBroadcast(dst, a, row []float32) {
	if rows := checkBroadcast("AddBroadcast", dst, a, row); rows > 0 {
		addBroadcastImpl(dst, a[:len(dst)], row, rows)
	}
}

// SumRows adds the rows of x to acc: acc[j] += Σ_r x[r·len(acc) + j]. len(x) must be a
// multiple of len(acc). The sums' order is not the rows' order (the vector versions keep
// several partial sums), so results may differ from a sequential sum by rounding.
func SumRows(acc, x []float32) {
	n := len(acc)
	if n == 0 || len(x) == 0 {
		return
	}
	if len(x)%n != 0 {
		panic(fmt.Sprintf("linalg: SumRows: %d values are not rows of %d", len(x), n))
	}
	sumRowsImpl(acc, x, len(x)/n)
}

func checkBroadcast(name string, dst, a, row []float32) (rows int) {
	if len(dst) == 0 {
		return 0
	}
	if len(row) == 0 || len(dst)%len(row) != 0 || len(a) < len(dst) {
		panic(fmt.Sprintf("linalg: %s: %d values (a: %d) are not rows of %d", name, len(dst), len(a), len(row)))
	}
	return len(dst) / len(row)
}

func mulBroadcastGo(dst, a, row []float32, rows int) {
	n := len(row)
	for r := 0; r < rows; r++ {
		d, s := dst[r*n:(r+1)*n], a[r*n:(r+1)*n]
		for j, v := range row {
			d[j] = s[j] * v
		}
	}
}

func addBroadcastGo(dst, a, row []float32, rows int) {
	n := len(row)
	for r := 0; r < rows; r++ {
		d, s := dst[r*n:(r+1)*n], a[r*n:(r+1)*n]
		for j, v := range row {
			d[j] = s[j] + v
		}
	}
}

func sumRowsGo(acc, x []float32, rows int) {
	n := len(acc)
	for r := 0; r < rows; r++ {
		for j, v := range x[r*n : (r+1)*n] {
			acc[j] += v
		}
	}
}

// rowsImpl is one set of the routines above, for tests that compare each with Go.
type rowsImpl struct {
	name                       string
	mulBroadcast, addBroadcast func(dst, a, row []float32, rows int)
	sumRows                    func(acc, x []float32, rows int)
}

var rowsGo = rowsImpl{"go", mulBroadcastGo, addBroadcastGo, sumRowsGo}

var (
	mulBroadcastImpl = mulBroadcastGo
	addBroadcastImpl = addBroadcastGo
	sumRowsImpl      = sumRowsGo
)
