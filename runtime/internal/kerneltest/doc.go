// Package kerneltest runs one operator kernel the way the session would, for the table
// tests of the operator families under runtime/ops.
package kerneltest
