// Package imagegen makes the sandbox's product images: small, valid PNGs
// whose pixels follow from a seed, so the same seed is the same file (and
// the same content hash) on every run, and another seed another file.
package imagegen

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
)

// PNG returns a w×h PNG drawn from seed: two colours in four quadrants.
func PNG(seed string, w, h int) []byte {
	sum := sha256.Sum256([]byte(seed))
	a := color.RGBA{sum[0], sum[1], sum[2], 255}
	b := color.RGBA{sum[3], sum[4], sum[5], 255}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if (x < w/2) == (y < h/2) {
				img.SetRGBA(x, y, a)
			} else {
				img.SetRGBA(x, y, b)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // encoding an in-memory RGBA image cannot fail
	}
	return buf.Bytes()
}
