package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/sandbox/imagegen"
	"github.com/dainostore/jobs/internal/testenv"
)

// Images are checked before they are stored, and stored once per content:
// the key is the content's hash, so the same bytes from another URL (or a
// second import) are one object.
func TestImagesAreCheckedAndStoredByContent(t *testing.T) {
	env := testenv.New(t)
	images := &catalog.Images{S3: env.S3(), Bucket: env.Config.ImagesBucket, MaxBytes: 4 << 10}
	ctx := context.Background()
	png := imagegen.PNG("tee-front", 32, 32)

	first, err := images.Store(ctx, "img-store", catalog.Image{SourceURL: "https://cdn.example/a.png?v=1"}, bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	if first.ContentType != "image/png" || first.Size != int64(len(png)) || !strings.HasPrefix(first.Key, "stores/img-store/images/"+first.SHA256) {
		t.Fatalf("stored %+v", first)
	}
	second, err := images.Store(ctx, "img-store", catalog.Image{SourceURL: "https://cdn.example/copy.png"}, bytes.NewReader(png))
	if err != nil || second.Key != first.Key {
		t.Fatalf("the same bytes from another URL: %+v, %v", second, err)
	}
	out, err := env.S3().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(env.Config.ImagesBucket)})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("%d objects after storing the same image twice, %v", len(out.Contents), err)
	}
	head, err := env.S3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(env.Config.ImagesBucket), Key: aws.String(first.Key)})
	if err != nil || aws.ToString(head.ContentType) != "image/png" {
		t.Fatalf("stored object: %+v, %v", head, err)
	}

	for name, body := range map[string][]byte{
		"an HTML error page": []byte("<!doctype html><html><body>Not found</body></html>"),
		"too large":          append(imagegen.PNG("big", 8, 8), make([]byte, 5<<10)...),
	} {
		_, err := images.Store(ctx, "img-store", catalog.Image{SourceURL: "https://cdn.example/" + name}, bytes.NewReader(body))
		var broken *catalog.ImageError
		if !errors.As(err, &broken) {
			t.Errorf("%s: %v, want an ImageError", name, err)
		}
	}
}
