package schema

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// CreateTableInput turns a definition into the DynamoDB request for a table
// of the given name (on-demand billing).
func CreateTableInput(def TableDefinition, name string) *dynamodb.CreateTableInput {
	attributes := map[string]dbtypes.ScalarAttributeType{PartitionKey: "S", SortKey: "S"}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: dbtypes.BillingModePayPerRequest,
		KeySchema: []dbtypes.KeySchemaElement{
			{AttributeName: aws.String(def.PartitionKey), KeyType: dbtypes.KeyTypeHash},
			{AttributeName: aws.String(def.SortKey), KeyType: dbtypes.KeyTypeRange},
		},
	}
	for _, index := range def.Indexes {
		attributes[index.PartitionKey] = dbtypes.ScalarAttributeType(index.PartitionType)
		attributes[index.SortKey] = dbtypes.ScalarAttributeType(index.SortType)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, dbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(index.Name),
			KeySchema: []dbtypes.KeySchemaElement{
				{AttributeName: aws.String(index.PartitionKey), KeyType: dbtypes.KeyTypeHash},
				{AttributeName: aws.String(index.SortKey), KeyType: dbtypes.KeyTypeRange},
			},
			Projection: &dbtypes.Projection{ProjectionType: dbtypes.ProjectionType(index.ProjectionType), NonKeyAttributes: index.NonKeyAttributes},
		})
	}
	for name, typ := range attributes {
		in.AttributeDefinitions = append(in.AttributeDefinitions, dbtypes.AttributeDefinition{
			AttributeName: aws.String(name), AttributeType: typ,
		})
	}
	return in
}

// CreateTable creates a table of the definition if it does not exist, waits
// until it is active and turns on TTL if the definition has it. It is safe
// to call again.
func CreateTable(ctx context.Context, db *dynamodb.Client, def TableDefinition, name string) error {
	_, err := db.CreateTable(ctx, CreateTableInput(def, name))
	var inUse *dbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	if err := checkIndexes(ctx, db, def, name); err != nil {
		return err
	}
	if def.TTLAttribute == "" {
		return nil
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{
			AttributeName: aws.String(def.TTLAttribute), Enabled: aws.Bool(true),
		},
	})
	if err != nil && !isTTLAlreadyEnabled(err) {
		return fmt.Errorf("enable TTL on %s: %w", name, err)
	}
	return nil
}

// checkIndexes fails when a table made by an earlier version lacks an index
// (a long-running local emulator keeps its tables). The local DynamoDB
// emulator cannot add an index to a table, so the fix is a fresh one; the
// deployed table gets its indexes from the CDK stack.
func checkIndexes(ctx context.Context, db *dynamodb.Client, def TableDefinition, name string) error {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	var missing []string
	for _, index := range def.Indexes {
		if indexStatus(out.Table, index.Name) == "" {
			missing = append(missing, index.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("table %s lacks the index(es) %s, which this version needs: it was made by an earlier version. "+
			"Locally, restart the emulators (`make emulators-stop`, then `make dev`) for a fresh table", name, strings.Join(missing, ", "))
	}
	return nil
}

// indexStatus is the status of a table's index, empty when it has none of that name.
func indexStatus(table *dbtypes.TableDescription, index string) dbtypes.IndexStatus {
	if table == nil {
		return ""
	}
	for _, gsi := range table.GlobalSecondaryIndexes {
		if aws.ToString(gsi.IndexName) == index {
			return gsi.IndexStatus
		}
	}
	return ""
}

func isTTLAlreadyEnabled(err error) bool {
	// AWS answers a repeated UpdateTimeToLive with a ValidationException.
	var apiErr interface{ ErrorCode() string }
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException"
}

// QueueURLs are the URLs of every queue of a deployment.
type QueueURLs struct {
	Priority   map[string]string // by priority suffix: urgent, high, normal, low
	Wake       string
	DeadLetter string
}

// CreateQueues creates every queue named "<prefix>-<suffix>" (idempotent) and
// returns their URLs. The dead-letter queue is created first so the others can
// point their redrive policy at it.
func CreateQueues(ctx context.Context, client *sqs.Client, prefix string) (QueueURLs, error) {
	urls := QueueURLs{Priority: map[string]string{}}
	queues := Queues()
	var deadLetter Queue
	for _, q := range queues {
		if q.Suffix == DeadLetterQueueSuffix {
			deadLetter = q
		}
	}
	dlqURL, err := createQueue(ctx, client, QueueName(prefix, DeadLetterQueueSuffix), deadLetter, "")
	if err != nil {
		return urls, err
	}
	urls.DeadLetter = dlqURL
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(dlqURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return urls, fmt.Errorf("read dead-letter queue ARN: %w", err)
	}
	dlqARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	for _, q := range queues {
		if q.Suffix == DeadLetterQueueSuffix {
			continue
		}
		url, err := createQueue(ctx, client, QueueName(prefix, q.Suffix), q, dlqARN)
		if err != nil {
			return urls, err
		}
		if q.Suffix == WakeQueueSuffix {
			urls.Wake = url
		} else {
			urls.Priority[q.Suffix] = url
		}
	}
	return urls, nil
}

func createQueue(ctx context.Context, client *sqs.Client, name string, q Queue, dlqARN string) (string, error) {
	attributes := map[string]string{
		string(sqstypes.QueueAttributeNameVisibilityTimeout):      strconv.Itoa(q.VisibilityTimeoutSeconds),
		string(sqstypes.QueueAttributeNameMessageRetentionPeriod): strconv.Itoa(q.MessageRetentionSeconds),
	}
	if q.DeadLetter && dlqARN != "" {
		attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlqARN, q.MaxReceiveCount)
	}
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attributes})
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}
