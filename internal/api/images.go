package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dainostore/jobs/internal/job"
)

// imageURLLifetime is how long a signed image URL works: long enough for a
// page to load the images it asked for, short enough that a URL copied out
// of a page soon stops working.
const imageURLLifetime = 5 * time.Minute

// imageName is the last part of a catalog image's key: its content's
// SHA-256 and its type's extension (catalog.Images.Store).
var imageName = regexp.MustCompile(`^[0-9a-f]{64}\.(jpg|png|gif|webp)$`)

// ImageSigner signs the short-lived URLs through which browsers read the
// catalog's images from its private bucket: the URL acts with the API's
// role, for one object, for a few minutes. Its fields are set once by
// NewImageSigner; it is then safe for concurrent use.
type ImageSigner struct {
	presign *s3.PresignClient
	bucket  string
	origin  string
}

// NewImageSigner signs URLs of objects in bucket with client, the app's S3
// client: the URLs point where it does, the bucket deployed and the S3
// emulator locally (awsconfig.S3Options).
func NewImageSigner(ctx context.Context, client *s3.Client, bucket string) (*ImageSigner, error) {
	signer := &ImageSigner{
		presign: s3.NewPresignClient(client, s3.WithPresignExpires(imageURLLifetime)),
		bucket:  bucket,
	}
	// The pages may show images only from an origin their
	// Content-Security-Policy names: a probe's URL says which one the
	// signed URLs have. Signing sends nothing; it needs only credentials.
	probe, err := signer.sign(ctx, "stores/probe/images/probe")
	if err != nil {
		return nil, fmt.Errorf("sign a probe image URL: %w", err)
	}
	u, err := url.Parse(probe)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the signed image URL %q has no origin", probe)
	}
	signer.origin = u.Scheme + "://" + u.Host
	return signer, nil
}

// Origin is where the signed URLs point (scheme and host).
func (s *ImageSigner) Origin() string { return s.origin }

func (s *ImageSigner) sign(ctx context.Context, key string) (string, error) {
	signed, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	return signed.URL, nil
}

// imageOrigins are the origins the dashboards may show images from.
func imageOrigins(signer *ImageSigner) []string {
	if signer == nil {
		return nil
	}
	return []string{signer.origin}
}

// imageURL is a signed URL of an image and when it stops working.
type imageURL struct {
	URL       string   `json:"url"`
	ExpiresAt job.Time `json:"expires_at"`
}

// getImage answers with a short-lived URL of one of the store's images: a
// 302 to it, or, for a client that asks for JSON (Accept:
// application/json), the URL in a 200. A page needs the JSON: an <img>
// cannot send the bearer token, and a fetch that followed the redirect
// would read the image cross-origin; the page sets the URL as the <img>'s
// src instead. A key that is not one of the store's images answers 404.
func (s *Server) getImage(w http.ResponseWriter, r *http.Request) {
	storeID, ok := s.storeOf(w, r)
	if !ok {
		return
	}
	key := r.PathValue("key")
	name, ours := strings.CutPrefix(key, "stores/"+storeID+"/images/")
	if !ours || !imageName.MatchString(name) {
		writeError(w, http.StatusNotFound, "not_found", "no image "+key+" in store "+storeID)
		return
	}
	if s.cfg.Images == nil {
		s.internalError(w, r, fmt.Errorf("image %s: no image signer is configured", key))
		return
	}
	signed, err := s.cfg.Images.sign(r.Context(), key)
	if err != nil {
		s.internalError(w, r, fmt.Errorf("sign the URL of image %s: %w", key, err))
		return
	}
	expires, err := signedURLExpiry(signed)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	header := w.Header()
	// Each answer is a new signature: nothing may keep one for later.
	header.Set("Cache-Control", "no-store")
	header.Set("Vary", "Accept")
	body := imageURL{URL: signed, ExpiresAt: job.NewTime(expires)}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, body)
		return
	}
	header.Set("Location", signed)
	writeJSON(w, http.StatusFound, body)
}

// signedURLExpiry reads when a SigV4 presigned URL stops working: its
// signing time (X-Amz-Date) plus its lifetime (X-Amz-Expires), as S3 will.
func signedURLExpiry(signed string) (time.Time, error) {
	u, err := url.Parse(signed)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the signed image URL: %w", err)
	}
	query := u.Query()
	signedAt, err := time.Parse("20060102T150405Z", query.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("the signed image URL's X-Amz-Date: %w", err)
	}
	seconds, err := strconv.Atoi(query.Get("X-Amz-Expires"))
	if err != nil {
		return time.Time{}, fmt.Errorf("the signed image URL's X-Amz-Expires: %w", err)
	}
	return signedAt.Add(time.Duration(seconds) * time.Second), nil
}
