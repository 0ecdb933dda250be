package ir

import (
	"container/heap"
	"fmt"
	"strings"
)

// SortTopologically reorders g's nodes so that every value is defined before it is read,
// keeping the current order wherever the dependencies allow (a stable sort: among nodes
// that are ready, the one listed first goes first). A node holding subgraphs depends on
// the producers of every outer value its subgraphs read. Subgraphs are sorted too. It
// fails, naming the nodes involved, when the graph has a cycle.
func (g *Graph) SortTopologically() error {
	return g.sortTopologically(SubgraphReads(g))
}

func (g *Graph) sortTopologically(subReads map[*Node][]*Value) error {
	order, err := g.TopologicalOrderWith(subReads)
	if err != nil {
		return err
	}
	g.nodes = order
	for _, n := range order {
		for _, sub := range n.Subgraphs() {
			if err := sub.sortTopologically(subReads); err != nil {
				return err
			}
		}
	}
	return nil
}

// TopologicalOrder returns g's nodes in an order where every value is defined before it is
// read, leaving g as it is: the node list itself when it is already in such an order,
// otherwise the stable sort SortTopologically applies (subgraphs are not reordered). The
// runtime plans from it; passes that reorder call SortTopologically.
//
// It walks g's subgraphs to find what they read; a caller ordering every graph of a tree
// computes SubgraphReads once and calls TopologicalOrderWith, which keeps the total cost
// linear in the tree's size however deeply it nests.
func (g *Graph) TopologicalOrder() ([]*Node, error) {
	return g.TopologicalOrderWith(SubgraphReads(g))
}

// TopologicalOrderWith is TopologicalOrder given SubgraphReads of a tree holding g.
func (g *Graph) TopologicalOrderWith(subReads map[*Node][]*Value) ([]*Node, error) {
	nodes := g.Nodes()
	pos := make(map[*Node]int, len(nodes))
	for i, n := range nodes {
		pos[n] = i
	}
	// deps[i] lists the positions of nodes that node i needs.
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		seen := map[int]bool{}
		for _, v := range append(n.inputs[:len(n.inputs):len(n.inputs)], subReads[n]...) {
			if v == nil {
				continue
			}
			if p := v.producer; p != nil && p.graph == g {
				j, ok := pos[p]
				if !ok || j == i || seen[j] {
					if j == i {
						return nil, fmt.Errorf("graph %q: %s reads its own output %q", g.Name, n.Describe(), v.Name)
					}
					continue
				}
				seen[j] = true
				indeg[i]++
				users[j] = append(users[j], i)
			}
		}
	}
	ready := &intHeap{}
	for i := range nodes {
		if indeg[i] == 0 {
			heap.Push(ready, i)
		}
	}
	order := make([]*Node, 0, len(nodes))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		order = append(order, nodes[i])
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(order) != len(nodes) {
		var stuck []string
		for i, n := range nodes {
			if indeg[i] > 0 {
				stuck = append(stuck, n.Describe())
				if len(stuck) == 8 {
					stuck = append(stuck, "...")
					break
				}
			}
		}
		return nil, fmt.Errorf("graph %q has a cycle through %s", g.Name, strings.Join(stuck, ", "))
	}
	return order, nil
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
