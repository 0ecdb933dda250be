package train

import (
	"bufio"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/train/optim"
)

// checkpointFile is what a checkpoint holds: enough to continue a Fit run exactly where it
// stopped (weights, running statistics, optimizer buffers, the step count that fixes the
// schedule and the dropout masks, and the epoch in progress).
type checkpointFile struct {
	Magic       string
	Version     int
	Fingerprint string
	Step        int
	Run         runState
	Weights     snapshot
	Optim       optim.State
}

const (
	checkpointMagic   = "whittle training checkpoint"
	checkpointVersion = 1
)

// fingerprint identifies the trainable model: parameter names and shapes, in order.
func (t *Trainer) fingerprint() string {
	h := sha256.New()
	for _, p := range t.prog.Params() {
		fmt.Fprintf(h, "%s%v;", p.Name, p.Shape)
	}
	for _, s := range t.prog.State() {
		fmt.Fprintf(h, "state %s%v;", s.Name, s.Shape)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// saveCheckpoint writes path through a temporary file and a rename, so a crash leaves
// the previous checkpoint intact.
func (t *Trainer) saveCheckpoint(path string, st *runState) error {
	ck := checkpointFile{Magic: checkpointMagic, Version: checkpointVersion, Fingerprint: t.fingerprint(),
		Step: t.step, Run: *st, Weights: *t.snapshot(st.Epoch, Metrics{}), Optim: t.opts.Optimizer.State()}
	err := onnx.WriteFileAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := gob.NewEncoder(bw).Encode(&ck); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return nil
}

// resume loads a checkpoint into the trainer and the run state.
func (t *Trainer) resume(path string, st *runState) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	defer f.Close()
	var ck checkpointFile
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&ck); err != nil || ck.Magic != checkpointMagic {
		return fmt.Errorf("train: resume: %s is not a whittle training checkpoint", path)
	}
	if ck.Version != checkpointVersion {
		return fmt.Errorf("train: resume: %s has checkpoint version %d, this whittle reads %d", path, ck.Version, checkpointVersion)
	}
	if ck.Fingerprint != t.fingerprint() {
		return fmt.Errorf("train: resume: %s was written for another model or trainable set", path)
	}
	for _, p := range t.prog.Params() {
		if v := ck.Weights.Params[p.Name]; len(v) != len(p.Value) {
			return fmt.Errorf("train: resume: %s lacks parameter %q", path, p.Name)
		}
	}
	if err := t.opts.Optimizer.Load(ck.Optim); err != nil {
		return fmt.Errorf("train: resume: %s: %w", path, err)
	}
	t.restore(&ck.Weights)
	t.step = ck.Step
	*st = ck.Run
	return nil
}
