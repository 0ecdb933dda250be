// Package pilimage decodes image files into the 8-bit RGB pixels that Python's PIL gives
// for Image.open(f).convert("RGB"), the loader behind torchvision's ImageFolder. Matching
// PIL matters because models are trained on PIL's pixels: JPEG and lossy WebP chroma is
// upsampled and converted the way libjpeg-turbo and libwebp do by default, not the way
// Go's image.YCbCr does. PNG, BMP, TIFF and lossless WebP decode exactly; JPEG may still
// differ from libjpeg-turbo by a level or two where the two inverse DCTs round apart.
//
// The runtime's ImageDecoder kernel and package dataset's image folders both decode here.
package pilimage
