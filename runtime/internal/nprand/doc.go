// Package nprand reproduces the random numbers of numpy's legacy RandomState: the
// MT19937 Mersenne Twister seeded as np.random.seed(n) seeds it, random_sample and the
// legacy binomial(1, p). The ONNX reference implementation draws from that generator, so
// seeded random operators (training-mode Dropout, RandomUniform, Bernoulli, ...) built on
// this package reproduce the backend tests' expected outputs exactly.
package nprand
