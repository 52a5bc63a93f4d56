package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// MaxImageBytes is the largest image the catalog stores (Shopify accepts
// up to 20 MB).
const MaxImageBytes = 20 << 20

// imageTypes are the content types the catalog stores, with their file
// extensions. The type is sniffed from the bytes, not taken from the
// server's header.
var imageTypes = map[string]string{
	"image/jpeg": "jpg",
	"image/png":  "png",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// Images stores product images in S3 under content-addressed keys,
// stores/<store>/images/<sha256>.<ext>: the same bytes are one object
// however many products or imports use them. Keys are per store, so no
// store's key reveals another's image.
type Images struct {
	S3     *s3.Client
	Bucket string
	// MaxBytes bounds an image; zero means MaxImageBytes.
	MaxBytes int64
}

// ImageError is an image that can never be stored as it is (too large, not
// an image, gone at the source): the product is imported without it and
// the job lists it.
type ImageError struct {
	URL    string
	Reason string
}

func (e *ImageError) Error() string { return fmt.Sprintf("image %s: %s", e.URL, e.Reason) }

// Store reads an image from body (at most MaxBytes), checks it is an image,
// and puts it under its content's key. It returns img with the stored
// fields set.
func (m *Images) Store(ctx context.Context, storeID string, img Image, body io.Reader) (Image, error) {
	limit := m.MaxBytes
	if limit <= 0 {
		limit = MaxImageBytes
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return img, fmt.Errorf("read image %s: %w", img.SourceURL, err)
	}
	if int64(len(data)) > limit {
		return img, &ImageError{URL: img.SourceURL, Reason: fmt.Sprintf("larger than %d bytes", limit)}
	}
	contentType := http.DetectContentType(data)
	ext, ok := imageTypes[contentType]
	if !ok {
		return img, &ImageError{URL: img.SourceURL, Reason: fmt.Sprintf("not an image (%s)", contentType)}
	}
	sum := sha256.Sum256(data)
	img.SHA256 = hex.EncodeToString(sum[:])
	img.Key = fmt.Sprintf("stores/%s/images/%s.%s", storeID, img.SHA256, ext)
	img.ContentType = contentType
	img.Size = int64(len(data))
	// No lookup first: the image-source index already said this URL is new,
	// and putting the same bytes under their own key again changes nothing,
	// so one request does what a HEAD and a PUT would.
	_, err = m.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(m.Bucket), Key: aws.String(img.Key), Body: bytes.NewReader(data),
		ContentType: aws.String(contentType), ContentLength: aws.Int64(img.Size),
		// Content-addressed: the object at a key never changes.
		CacheControl: aws.String("public, max-age=31536000, immutable"),
	})
	if err != nil {
		return img, fmt.Errorf("store image %s: %w", img.Key, err)
	}
	return img, nil
}
