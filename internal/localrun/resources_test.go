package localrun_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dainostore/jobs/internal/localrun"
	"github.com/dainostore/jobs/internal/testenv"
)

func TestEnsureResourcesCreatesTheBucketAndKeyOnce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t) // the first EnsureResources
	ctx := t.Context()
	keyOf := func() string {
		t.Helper()
		out, err := env.KMS().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(env.Config.ConnectionsKeyID)})
		if err != nil {
			t.Fatalf("describe %s: %v", env.Config.ConnectionsKeyID, err)
		}
		return aws.ToString(out.KeyMetadata.KeyId)
	}
	first := keyOf()

	if _, err := localrun.EnsureResources(ctx, env.AWS, env.Config); err != nil {
		t.Fatalf("second EnsureResources: %v", err)
	}
	if again := keyOf(); again != first {
		t.Errorf("%s names key %s after the second run, %s after the first: the key was replaced", env.Config.ConnectionsKeyID, again, first)
	}
	if _, err := env.S3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(env.Config.ImagesBucket)}); err != nil {
		t.Errorf("bucket %s: %v", env.Config.ImagesBucket, err)
	}
	key, err := env.KMS().DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(first)})
	if err != nil {
		t.Fatal(err)
	}
	if m := key.KeyMetadata; m.KeySpec != kmstypes.KeySpecSymmetricDefault || m.KeyUsage != kmstypes.KeyUsageTypeEncryptDecrypt || !m.Enabled {
		t.Errorf("key %s: spec %s, usage %s, enabled %v; want an enabled symmetric encryption key", first, m.KeySpec, m.KeyUsage, m.Enabled)
	}
}

// Marketplace credentials are encrypted under data keys bound to the store
// by an encryption context: the emulator must refuse another store's.
func TestTheLocalKeyBindsDataKeysToTheirEncryptionContext(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	ctx := t.Context()
	client := env.KMS()
	encryptionContext := map[string]string{"store_id": "store-1", "marketplace": "shopify"}
	dataKey, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(env.Config.ConnectionsKeyID), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: encryptionContext,
	})
	if err != nil {
		t.Fatalf("generate data key: %v", err)
	}
	if len(dataKey.Plaintext) != 32 {
		t.Fatalf("data key of %d bytes, want 32", len(dataKey.Plaintext))
	}
	decrypted, err := client.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: encryptionContext, KeyId: aws.String(env.Config.ConnectionsKeyID),
	})
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	if !bytes.Equal(decrypted.Plaintext, dataKey.Plaintext) {
		t.Error("decrypted data key differs from the generated one")
	}
	_, err = client.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: map[string]string{"store_id": "store-2", "marketplace": "shopify"},
	})
	var invalid *kmstypes.InvalidCiphertextException
	if !errors.As(err, &invalid) {
		t.Errorf("decrypt under another store's context: %v, want InvalidCiphertextException", err)
	}
}

// The catalog's images go through these calls, with the SDK's default
// request checksums.
func TestTheLocalBucketStoresObjectsWithTheirContentType(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	ctx := t.Context()
	client := env.S3()
	bucket := aws.String(env.Config.ImagesBucket)
	key := aws.String("stores/store-1/images/0123abcd.png")
	body := []byte("\x89PNG\r\n\x1a\nnot really an image")

	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: bucket, Key: key, Body: bytes.NewReader(body), ContentType: aws.String("image/png"),
	}); err != nil {
		t.Fatalf("put: %v", err)
	}
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	if aws.ToString(head.ContentType) != "image/png" || aws.ToInt64(head.ContentLength) != int64(len(body)) {
		t.Errorf("head: type %q, length %d; want image/png, %d", aws.ToString(head.ContentType), aws.ToInt64(head.ContentLength), len(body))
	}
	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	data, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || !bytes.Equal(data, body) || aws.ToString(got.ContentType) != "image/png" {
		t.Errorf("get: %q (type %q, err %v), want what was put", data, aws.ToString(got.ContentType), err)
	}
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("stores/store-1/")})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != *key {
		t.Errorf("list: %d objects, want only %s", len(list.Contents), *key)
	}
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
	var notFound *s3types.NotFound
	if !errors.As(err, &notFound) {
		t.Errorf("head after delete: %v, want NotFound", err)
	}
}
