package dataset

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseShard reads "K/N" (1 <= K <= N), the shard of a dataset split N ways.
func ParseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("shard %q: want K/N with 1 <= K <= N", s)
	}
	return k, n, nil
}

// Shard returns shard k of n of ds for a reader that takes batches of batch rows: batch j
// (rows [j·batch, (j+1)·batch)) belongs to shard j mod n + 1. A shard therefore holds whole
// batches of the unsharded walk, each in the same rows and the same size (the short last
// batch included), so a model computes bit for bit the same values on it as in one run
// over all the data.
func Shard(ds Dataset, k, n, batch int) (Dataset, error) {
	if n < 1 || k < 1 || k > n || batch < 1 {
		return nil, fmt.Errorf("dataset: shard %d/%d with batches of %d", k, n, batch)
	}
	if n == 1 {
		return ds, nil
	}
	var starts []int
	rows := 0
	for j := k - 1; j*batch < ds.Len(); j += n {
		starts = append(starts, j*batch)
		rows += min(batch, ds.Len()-j*batch)
	}
	return &shard{ds: ds, starts: starts, batch: batch, rows: rows}, nil
}

type shard struct {
	ds     Dataset
	starts []int // the first row of each batch held, in order
	batch  int
	rows   int
}

func (s *shard) Len() int { return s.rows }

// Batch maps rows of the shard to the underlying rows, batch by batch, and joins the
// pieces when the request spans batches.
func (s *shard) Batch(start, n int) (Batch, error) {
	if err := checkRange(start, n, s.rows); err != nil {
		return Batch{}, err
	}
	var parts []Batch
	for n > 0 {
		b, off := start/s.batch, start%s.batch
		take := min(n, s.batch-off, s.ds.Len()-s.starts[b]-off)
		p, err := s.ds.Batch(s.starts[b]+off, take)
		if err != nil {
			return Batch{}, err
		}
		parts = append(parts, p)
		start, n = start+take, n-take
	}
	out, err := joinBatches(parts)
	if err != nil || len(parts) == 1 {
		return out, err
	}
	if parts[0].Labels != nil {
		out.Labels = nil
		for _, p := range parts {
			out.Labels = append(out.Labels, p.Labels...)
		}
	}
	return out, nil
}
