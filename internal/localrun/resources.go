package localrun

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/schema"
)

// EnsureResources creates the table and queues on the emulators from the
// shared definition, if they do not exist yet, and returns the queue URLs.
func EnsureResources(ctx context.Context, awsCfg aws.Config, cfg config.Config) (queue.URLs, error) {
	if err := schema.CreateTable(ctx, dynamodb.NewFromConfig(awsCfg), cfg.TableName); err != nil {
		return queue.URLs{}, err
	}
	urls, err := schema.CreateQueues(ctx, sqs.NewFromConfig(awsCfg), cfg.QueuePrefix)
	if err != nil {
		return queue.URLs{}, err
	}
	return queue.FromSchema(urls), nil
}
