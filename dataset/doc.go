// Package dataset reads the inputs that whittle's commands feed to models: Fashion-MNIST IDX
// files, NumPy .npy and .npz arrays, folders of ONNX TensorProto .pb files (the layout of
// the ONNX backend tests) and folders of images. Every command that takes data names it
// with a spec string, parsed by ParseSpec and opened by Open:
//
//	fashion-mnist:test              the 10,000 test images of Fashion-MNIST, with labels
//	fashion-mnist:train:512         the first 512 training images
//	fashion-mnist:test@/custom/dir  the IDX files in /custom/dir instead of the default folder
//	DIR                             input_K.pb files, or test_data_set_N folders of them
//	FILE.npz, FILE.npy              NumPy arrays whose first dimension is the batch
//	images:DIR                      JPEG/PNG/WebP/BMP/TIFF files, labelled by class sub-folder
//	images:DIR,labels=val.txt       ... labelled by a "file label" or "file,label" list
//	images:DIR,sample=500           500 images spread evenly over the folder (limit=N: the first N)
//
// The default Fashion-MNIST folder is /usr/share/datasets/fashion-mnist (Debian's
// dataset-fashion-mnist package); the environment variable WHITTLE_FASHION_MNIST overrides it.
//
// A Dataset is read in batches: Batch(start, n) returns rows [start, start+n) of every input,
// so a command can walk 60,000 images without holding 60,000 float32 copies of them.
// Fashion-MNIST keeps only the compact uint8 pixels in memory and converts each batch to
// float32 [n,1,28,28] scaled to [0,1], the input the models in testmodels/ expect.
//
// Image folders follow torchvision's ImageFolder (classes are the sorted sub-folder names; a
// folder without them is unlabelled, for calibration) and its usual transforms: a
// Preprocess spec such as "imagenet" or "resize=256,crop=224,mean=...,std=...,layout=nhwc"
// resizes with PIL's antialiased filters, centre-crops and normalizes exactly as
// torchvision does on PIL images, so the tensors equal torchvision's for the same decoded
// pixels (internal/pilimage decodes as PIL does; JPEG differs by at most a few levels where
// the inverse DCTs round apart). An ImageFolder decodes one batch at a time and reads the
// next one ahead on another goroutine, so memory stays at two batches.
//
// Tensors keep the element type they were stored with (float32, float64, int64, int32, uint8
// or bool); Tensor.AsFloat32 converts when a caller needs float32.
package dataset
