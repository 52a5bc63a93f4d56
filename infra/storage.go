package main

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// newTable creates the jobs table from schema.Table, the definition the
// local emulators are set up from, so the two cannot drift apart.
func newTable(scope constructs.Construct, deletionProtection *bool) awsdynamodb.Table {
	// The table is the source of truth for every job, counter and log.
	return newTableFrom(scope, "Table", schema.Table, deletionProtection)
}

// newCatalogTable creates the store catalog's table from
// schema.CatalogTable: the stores' products, collections and categories,
// and their marketplace connections, whose credentials the API encrypts
// under the connections key before they are written (so DynamoDB's own
// encryption at rest is enough for the table).
func newCatalogTable(scope constructs.Construct, deletionProtection *bool) awsdynamodb.Table {
	return newTableFrom(scope, "CatalogTable", schema.CatalogTable, deletionProtection)
}

// newTableFrom creates a table of a schema definition. Both tables hold
// data that exists nowhere else: each is restorable to any second of the
// last 35 days, protected from a DeleteTable call, and kept when the stack
// is deleted.
func newTableFrom(scope constructs.Construct, id string, def schema.TableDefinition, deletionProtection *bool) awsdynamodb.Table {
	var ttl *string
	if def.TTLAttribute != "" {
		ttl = jsii.String(def.TTLAttribute)
	}
	table := awsdynamodb.NewTable(scope, jsii.String(id), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(def.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(def.SortKey), Type: awsdynamodb.AttributeType_STRING},
		// On demand: load follows job creation and catalog imports, both
		// bursty; nothing to size or autoscale (job creation's cost is
		// bounded by the per-store rate limit).
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute:              ttl,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		DeletionProtection:               deletionProtection,
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	})
	for _, index := range def.Indexes {
		props := &awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(index.Name),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(index.PartitionKey), Type: attributeType(index.PartitionType)},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(index.SortKey), Type: attributeType(index.SortType)},
			ProjectionType: awsdynamodb.ProjectionType(index.ProjectionType),
		}
		if len(index.NonKeyAttributes) > 0 {
			props.NonKeyAttributes = jsii.Strings(index.NonKeyAttributes...)
		}
		table.AddGlobalSecondaryIndex(props)
	}
	return table
}

// newConnectionsKey creates the KMS key under which the API encrypts the
// data keys of the stores' marketplace credentials (JOBS_CONNECTIONS_KEY_ID).
// Losing it would make every stored credential unreadable: it is kept when
// the stack is deleted, and its yearly rotation keeps the older key
// material, so credentials encrypted before a rotation still decrypt. The
// alias names it for people (the console, CloudTrail); the functions are
// given its ARN, which IAM policies name.
func newConnectionsKey(scope constructs.Construct, stackName string) awskms.Key {
	return awskms.NewKey(scope, jsii.String("ConnectionsKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the data keys of the stores' marketplace credentials (" + stackName + ")."),
		Alias:             jsii.String("alias/" + stackName + "-connections"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
}

// imageUploadLimit is how long an incomplete multipart upload of an image
// is kept before S3 deletes its parts. An image is at most 20 MB
// (catalog.MaxImageBytes) and uploaded in seconds: a day-old upload was
// abandoned, and its parts would be billed forever.
const imageUploadLimit = 24 * time.Hour

// newImagesBucket creates the bucket of the catalog's product images
// (JOBS_IMAGES_BUCKET), stored under content-addressed keys by the worker
// and read by browsers through short-lived presigned URLs the API signs.
//
//   - Private: every public access blocked, ACLs disabled (the bucket owner
//     owns every object), so only the functions' roles and their presigned
//     URLs reach an object.
//   - Encrypted with S3-managed keys: the images are product photos a store
//     publishes, not secrets, and with a KMS key every presigned GET would
//     be a KMS request, billed, and need the API's role to decrypt with
//     that key.
//   - The bucket policy denies requests without TLS, or with TLS older
//     than 1.2.
//   - Kept when the stack is deleted: the catalog's items refer to the
//     objects by key.
func newImagesBucket(scope constructs.Construct) awss3.Bucket {
	return awss3.NewBucket(scope, jsii.String("ImagesBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("AbortIncompleteUploads"),
			AbortIncompleteMultipartUploadAfter: seconds(imageUploadLimit),
		}},
	})
}

func attributeType(t schema.KeyType) awsdynamodb.AttributeType {
	switch t {
	case "S":
		return awsdynamodb.AttributeType_STRING
	case "N":
		return awsdynamodb.AttributeType_NUMBER
	}
	panic(fmt.Sprintf("schema key type %q has no DynamoDB attribute type", t))
}

// queues are the SQS queues of the stack, created from schema.Queues().
type queues struct {
	priority   map[job.Priority]awssqs.Queue
	wake       awssqs.Queue
	deadLetter awssqs.Queue
}

// byPriority lists the priority queues, most urgent first.
func (q queues) byPriority() []awssqs.Queue {
	list := make([]awssqs.Queue, 0, len(job.Priorities))
	for _, p := range job.Priorities {
		list = append(list, q.priority[p])
	}
	return list
}

// bySuffix returns the queue of a schema.Queues() suffix.
func (q queues) bySuffix(suffix string) awssqs.Queue {
	switch suffix {
	case schema.WakeQueueSuffix:
		return q.wake
	case schema.DeadLetterQueueSuffix:
		return q.deadLetter
	}
	for _, p := range job.Priorities {
		if schema.PriorityQueueSuffix(p) == suffix {
			return q.priority[p]
		}
	}
	panic("no queue with suffix " + suffix)
}

// all lists every queue: the priority queues, the wake queue, the
// dead-letter queue.
func (q queues) all() []awssqs.Queue {
	return append(q.byPriority(), q.wake, q.deadLetter)
}

// newQueues creates the queues named "<prefix>-<suffix>" (the functions look
// them up by these names) with schema's settings, which are consistent with
// the worker as follows:
//
//   - Priority queues: the visibility timeout is the worker's lease. Workers
//     receive with an explicit visibility of one lease and extend it with
//     every heartbeat, so a crashed worker's job is visible again within a
//     lease; the default only covers a receive that sets none. Retries hide
//     the same message for the retry delay (retry.DefaultDelays, 5 s to
//     5 min) with ChangeMessageVisibility, which allows up to 12 hours, and
//     send a wake with DelaySeconds capped at SQS's 15 minutes; longer waits
//     are found by the sweep. Retention is the 14-day maximum, far beyond
//     any wait a job can have.
//   - Their redrive to the dead-letter queue is a backstop at a receive count
//     no healthy job reaches: attempts are counted in DynamoDB, each
//     continuation sends a fresh message, and workers dead-letter poison
//     messages themselves.
//   - Wake queue: its event source mapping needs a visibility timeout of at
//     least the worker's function timeout (checked in newFunctions). A wake
//     carries no work, so it has no redrive: a failed one comes back after
//     its visibility timeout and expires with its one-hour retention, and
//     the sweep wakes workers while priority queues hold messages.
//   - Dead-letter queue: 14 days, SQS's maximum. A message redriven by
//     receive count keeps its original enqueue time, so it may expire
//     sooner; messages the worker dead-letters itself are new messages and
//     get the whole 14 days.
//
// Every queue is encrypted with SQS-managed keys (no KMS permissions or
// key policies to manage) and refuses requests without TLS.
func newQueues(scope constructs.Construct, prefix string) queues {
	created := map[string]awssqs.Queue{}
	// The dead-letter queue first: the others name it in their redrive.
	for _, def := range schema.Queues() {
		if def.Suffix == schema.DeadLetterQueueSuffix {
			created[def.Suffix] = newQueue(scope, prefix, def, nil)
		}
	}
	deadLetter := created[schema.DeadLetterQueueSuffix]
	for _, def := range schema.Queues() {
		if def.Suffix == schema.DeadLetterQueueSuffix {
			continue
		}
		var redrive *awssqs.DeadLetterQueue
		if def.DeadLetter {
			redrive = &awssqs.DeadLetterQueue{Queue: deadLetter, MaxReceiveCount: jsii.Number(def.MaxReceiveCount)}
		}
		created[def.Suffix] = newQueue(scope, prefix, def, redrive)
	}
	q := queues{priority: map[job.Priority]awssqs.Queue{}, wake: created[schema.WakeQueueSuffix], deadLetter: deadLetter}
	for _, p := range job.Priorities {
		q.priority[p] = created[schema.PriorityQueueSuffix(p)]
	}
	for _, queue := range q.all() {
		if queue == nil {
			panic("schema.Queues() lacks the dead-letter queue, the wake queue or a priority's queue")
		}
	}
	return q
}

func newQueue(scope constructs.Construct, prefix string, def schema.Queue, redrive *awssqs.DeadLetterQueue) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String("Queue"+pascalCase(def.Suffix)), &awssqs.QueueProps{
		QueueName:         jsii.String(schema.QueueName(prefix, def.Suffix)),
		VisibilityTimeout: seconds(time.Duration(def.VisibilityTimeoutSeconds) * time.Second),
		RetentionPeriod:   seconds(time.Duration(def.MessageRetentionSeconds) * time.Second),
		DeadLetterQueue:   redrive,
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
	})
}

// pascalCase turns a name such as "dead-letter" or "system:cleanup" into
// "DeadLetter" or "SystemCleanup", for construct and output ids.
func pascalCase(s string) string {
	var b strings.Builder
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, word := range words {
		b.WriteString(strings.ToUpper(word[:1]) + word[1:])
	}
	return b.String()
}

// seconds converts a duration for CDK, which counts whole seconds.
func seconds(d time.Duration) awscdk.Duration {
	return awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
}
