package main

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// newTable creates the single table from schema.Table, the definition the
// local emulators are set up from, so the two cannot drift apart.
func newTable(scope constructs.Construct, deletionProtection *bool) awsdynamodb.Table {
	def := schema.Table
	table := awsdynamodb.NewTable(scope, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(def.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(def.SortKey), Type: awsdynamodb.AttributeType_STRING},
		// On demand: load follows job creation, which is bursty; nothing to
		// size or autoscale, and the per-store rate limit bounds the cost.
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(def.TTLAttribute),
		// The table is the source of truth for every job, counter and log:
		// restorable to any second of the last 35 days, protected from a
		// DeleteTable call, and kept when the stack is deleted.
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
