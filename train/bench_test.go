package train

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/train/data"
	"github.com/whittle-ml/whittle/train/loss"
)

// BenchmarkStepCNN times one training step (forward, loss, backward, SGD update) of the
// Fashion-MNIST CNN teacher on a batch of 128 training images; images/s is the figure to
// compare with PyTorch (train/torchref).
func BenchmarkStepCNN(b *testing.B) {
	root, _ := testenv.RepoRoot()
	m, err := onnx.LoadModel(filepath.Join(root, "testmodels", "fashion_cnn_op17.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	ds, err := dataset.FashionMNIST(dataset.FashionMNISTDir(), "train")
	if err != nil {
		testenv.Skipf(b, "Fashion-MNIST: %v", err)
	}
	tr, err := New(m, Options{LR: 0.01})
	if err != nil {
		b.Fatal(err)
	}
	l := &data.Loader{Data: ds, BatchSize: 128, InputNames: tr.Program().InputNames()}
	batch, err := l.Batch(0, 0, l.Order(0))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.Step(context.Background(), batch.Inputs, &loss.Batch{Labels: batch.Labels}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "images/s")
}
