// Package schema is the one definition of the AWS resources the queue needs:
// the DynamoDB table with its indexes and TTL attribute, and the SQS queues.
// The local emulators are set up from it (Create*) and the CDK stack reads the
// same values, so local and deployed resources cannot drift apart.
package schema

import (
	"github.com/dainostore/jobs/internal/job"
)

// Key attribute names of the single table.
const (
	PartitionKey = "pk"
	SortKey      = "sk"

	// StoreIndex lists a store's jobs newest first.
	StoreIndex        = "by_store"
	StoreIndexPK      = "store_pk"
	StoreIndexSK      = "store_sk"
	StoreIndexProject = "ALL"

	// DueIndex is sparse: only jobs that the sweep must look at by some time
	// carry its keys (a job saved but not yet enqueued, a job whose lease may
	// expire). The partition is sharded so heavy load does not make it hot.
	DueIndex   = "due"
	DueIndexPK = "due_pk"
	DueIndexSK = "due_at"

	// CleanupIndex is sparse: finished jobs and idempotency keys by the day
	// they expire (so system:cleanup removes what TTL has not yet removed),
	// and the active-job locks (so it can release orphaned ones).
	CleanupIndex   = "cleanup"
	CleanupIndexPK = "cleanup_pk"
	CleanupIndexSK = "cleanup_sk"

	// AllJobsIndex lists every store's jobs newest first, for operators. Its
	// partition is the job id's shard ("ALL#<0-7>"), so creating many jobs
	// at once spreads over AllJobsShards partitions instead of one hot one;
	// a reader queries each shard and merges them by the sort key
	// ("<created_at>#<id>"), which every shard orders the same way.
	AllJobsIndex   = "by_created"
	AllJobsIndexPK = "all_pk"
	AllJobsIndexSK = "all_sk"

	// FinishedIndex is sparse: it lists a store's finished jobs by when they
	// finished, newest first, so a long job created long ago but finished
	// just now is among the first. Its sort key ("<finished_at>#<id>") is
	// set by every transition that ends a job and removed by every one that
	// takes it back out of a terminal status. It shares the store index's
	// partition key.
	FinishedIndex   = "by_store_finished"
	FinishedIndexSK = "finished_sk"

	// TTLAttribute holds the epoch second after which DynamoDB deletes an item.
	TTLAttribute = "expires_at"
)

// DueShards is how many partitions the due index is spread over.
const DueShards = 4

// AllJobsShards is how many partitions the all-jobs index is spread over.
// Each partition takes about 1,000 writes a second; a listing costs one
// query per shard.
const AllJobsShards = 8

// KeyType is a DynamoDB scalar type: "S" or "N".
type KeyType string

// Index describes a global secondary index.
type Index struct {
	Name           string
	PartitionKey   string
	PartitionType  KeyType
	SortKey        string
	SortType       KeyType
	ProjectionType string // ALL, KEYS_ONLY or INCLUDE
	// NonKeyAttributes are the attributes an INCLUDE index copies.
	NonKeyAttributes []string
}

// listFilterAttributes are what the all-jobs and finished indexes copy:
// what their listings filter on. A write to the table also writes an index
// only when it changes an attribute the index copies, so progress and
// checkpoint writes, which change none of these, cost no write here; the
// listings read the page's jobs from the table instead. (While a job is in
// the finished index none of them changes.)
var listFilterAttributes = []string{"type", "status", TTLAttribute}

// TableDefinition is everything needed to create the table.
type TableDefinition struct {
	PartitionKey string
	SortKey      string
	Indexes      []Index
	TTLAttribute string
}

// Table is the single table's definition.
var Table = TableDefinition{
	PartitionKey: PartitionKey,
	SortKey:      SortKey,
	Indexes: []Index{
		{Name: StoreIndex, PartitionKey: StoreIndexPK, PartitionType: "S", SortKey: StoreIndexSK, SortType: "S", ProjectionType: StoreIndexProject},
		{Name: DueIndex, PartitionKey: DueIndexPK, PartitionType: "S", SortKey: DueIndexSK, SortType: "N", ProjectionType: "KEYS_ONLY"},
		{Name: CleanupIndex, PartitionKey: CleanupIndexPK, PartitionType: "S", SortKey: CleanupIndexSK, SortType: "S", ProjectionType: "KEYS_ONLY"},
		{Name: AllJobsIndex, PartitionKey: AllJobsIndexPK, PartitionType: "S", SortKey: AllJobsIndexSK, SortType: "S", ProjectionType: "INCLUDE", NonKeyAttributes: listFilterAttributes},
		{Name: FinishedIndex, PartitionKey: StoreIndexPK, PartitionType: "S", SortKey: FinishedIndexSK, SortType: "S", ProjectionType: "INCLUDE", NonKeyAttributes: listFilterAttributes},
	},
	TTLAttribute: TTLAttribute,
}

// CatalogTable is the store catalog's table (package catalog): a store's
// products, collections, categories and marketplace connections share the
// partition STORE#<store>, each under its own sort key prefix, so a store's
// items of a kind are one query and no index is needed.
var CatalogTable = TableDefinition{PartitionKey: PartitionKey, SortKey: SortKey}

// Queue describes one SQS queue.
type Queue struct {
	// Suffix is appended to the deployment's queue prefix: "<prefix>-<suffix>".
	Suffix string
	// VisibilityTimeoutSeconds is the queue default; workers set their own per receive.
	VisibilityTimeoutSeconds int
	// MessageRetentionSeconds keeps messages for the longest wait a job can have.
	MessageRetentionSeconds int
	// DeadLetter sends messages received more than MaxReceiveCount times to the
	// dead-letter queue. It is a backstop only: workers move poison messages
	// there themselves, and a healthy long job is received many times (retries,
	// crash recoveries), so the count is set far above what a job can reach.
	DeadLetter      bool
	MaxReceiveCount int
}

const fourteenDays = 14 * 24 * 3600

// Queue suffixes.
const (
	WakeQueueSuffix       = "wake"
	DeadLetterQueueSuffix = "dead-letter"
)

// PriorityQueueSuffix names the queue that holds jobs of one priority.
func PriorityQueueSuffix(p job.Priority) string { return p.String() }

// Queues lists every queue: one per priority, the wake queue, the dead-letter queue.
func Queues() []Queue {
	queues := make([]Queue, 0, len(job.Priorities)+2)
	for _, p := range job.Priorities {
		queues = append(queues, Queue{
			Suffix:                   PriorityQueueSuffix(p),
			VisibilityTimeoutSeconds: 60,
			MessageRetentionSeconds:  fourteenDays,
			DeadLetter:               true,
			MaxReceiveCount:          100,
		})
	}
	queues = append(queues,
		// A wake only triggers a worker; its visibility covers one invocation.
		Queue{Suffix: WakeQueueSuffix, VisibilityTimeoutSeconds: 960, MessageRetentionSeconds: 3600},
		Queue{Suffix: DeadLetterQueueSuffix, VisibilityTimeoutSeconds: 60, MessageRetentionSeconds: fourteenDays},
	)
	return queues
}

// WakeBatchSize is the batch size of the wake queue's event source mapping:
// one wake, one invocation. A batch of many wakes would start one worker
// where several were asked for, and jobs created together would run one
// after another.
const WakeBatchSize = 1

// QueueName is the full name of a queue for a deployment prefix.
func QueueName(prefix, suffix string) string { return prefix + "-" + suffix }
