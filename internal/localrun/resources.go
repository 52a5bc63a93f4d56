package localrun

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/awsconfig"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/schema"
)

// EnsureResources creates on the emulators what the CDK stack creates when
// deployed, if it does not exist yet: the tables and queues from the shared
// definition, the images bucket and the connections' KMS key. It returns the
// queue URLs.
func EnsureResources(ctx context.Context, awsCfg aws.Config, cfg config.Config) (queue.URLs, error) {
	db := dynamodb.NewFromConfig(awsCfg)
	if err := schema.CreateTable(ctx, db, schema.Table, cfg.TableName); err != nil {
		return queue.URLs{}, err
	}
	if err := schema.CreateTable(ctx, db, schema.CatalogTable, cfg.CatalogTableName); err != nil {
		return queue.URLs{}, err
	}
	if err := ensureBucket(ctx, s3.NewFromConfig(awsCfg, awsconfig.S3Options()...), cfg.ImagesBucket); err != nil {
		return queue.URLs{}, err
	}
	if err := ensureKeyAlias(ctx, kms.NewFromConfig(awsCfg), cfg.ConnectionsKeyID); err != nil {
		return queue.URLs{}, err
	}
	urls, err := schema.CreateQueues(ctx, sqs.NewFromConfig(awsCfg), cfg.QueuePrefix)
	if err != nil {
		return queue.URLs{}, err
	}
	return queue.FromSchema(urls), nil
}

// ensureBucket creates the bucket unless this account has it already.
func ensureBucket(ctx context.Context, client *s3.Client, bucket string) error {
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// ensureKeyAlias gives an alias ("alias/...") a new symmetric key if it
// names none yet. A key id or ARN is left alone: only an alias can be made
// to name a key created here.
func ensureKeyAlias(ctx context.Context, client *kms.Client, keyID string) error {
	if !strings.HasPrefix(keyID, "alias/") {
		return nil
	}
	_, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	var notFound *kmstypes.NotFoundException
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &notFound):
		return fmt.Errorf("describe key %s: %w", keyID, err)
	}
	key, err := client.CreateKey(ctx, &kms.CreateKeyInput{
		KeySpec:     kmstypes.KeySpecSymmetricDefault,
		KeyUsage:    kmstypes.KeyUsageTypeEncryptDecrypt,
		Description: aws.String("Encrypts the data keys of the stores' marketplace credentials (local)."),
	})
	if err != nil {
		return fmt.Errorf("create key for %s: %w", keyID, err)
	}
	_, err = client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(keyID), TargetKeyId: key.KeyMetadata.KeyId})
	var exists *kmstypes.AlreadyExistsException
	if errors.As(err, &exists) {
		// Another process made the alias meanwhile: its key is the one in
		// use, and the key made here is never used.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create alias %s: %w", keyID, err)
	}
	return nil
}
