// Package exportlayout rewrites a model exported by PyTorch into the layouts other
// exporters write, so that tests can check whittle on them without those exporters
// installed:
//
//   - Paddle2ONNX (PaddleOCR's models): weights in Constant nodes and no initializers, opset 9,
//     every input dimension but the channels symbolic (p2o.DynamicDimension.K), no
//     intermediate shapes;
//   - tf2onnx (TensorFlow/Keras): an NHWC input and Transposes between NHWC and NCHW around
//     every convolution.
//
// Each function returns a new model that computes exactly what the original computes.
package exportlayout
