// Package ml holds kernels for the ai.onnx.ml domain (the classic machine-learning
// operators that scikit-learn converters emit) and the text featurizer of the default
// domain: LabelEncoder, TreeEnsemble, ArrayFeatureExtractor, Binarizer and
// TfIdfVectorizer.
//
// The package registers its kernels from init; package runtime imports it for effect.
package ml
