// Package provenance is the record of how whittle made a model, as it is stored in the
// model's metadata: the pipelines applied to it, in order (key "whittle.passes"), and the
// change log of the last one (key "whittle.changelog").
//
// It is the schema that package passes writes and package irdiff reads, kept in a leaf
// package of its own (it imports only ir and encoding/json) so that reading a model's
// history does not pull in the passes, their recipe parser or anything they depend on.
//
// A model's history is itself a recipe: replaying each pipeline of History, in order and
// with the same whittle version, on the original model reproduces the recorded model byte
// for byte (package whittle's Replay does it).
package provenance
