//go:build !amd64 || noasm

package linalg

func rowsImpls() []rowsImpl { return []rowsImpl{rowsGo} }
