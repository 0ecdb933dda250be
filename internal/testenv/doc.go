// Package testenv finds the data and peer tools that whittle's tests use, and skips a test
// with a clear message when something is absent on this machine.
package testenv
