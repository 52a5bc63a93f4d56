package schema

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dainostore/jobs/internal/job"
)

func TestCreateTableInputMatchesTheDefinition(t *testing.T) {
	t.Parallel()
	in := CreateTableInput(Table, "jobs")
	if aws.ToString(in.KeySchema[0].AttributeName) != PartitionKey || aws.ToString(in.KeySchema[1].AttributeName) != SortKey {
		t.Errorf("key schema = %+v", in.KeySchema)
	}
	if len(in.GlobalSecondaryIndexes) != len(Table.Indexes) {
		t.Fatalf("%d indexes, want %d", len(in.GlobalSecondaryIndexes), len(Table.Indexes))
	}
	for i, index := range Table.Indexes {
		got := in.GlobalSecondaryIndexes[i]
		if aws.ToString(got.IndexName) != index.Name || aws.ToString(got.KeySchema[0].AttributeName) != index.PartitionKey ||
			aws.ToString(got.KeySchema[1].AttributeName) != index.SortKey || string(got.Projection.ProjectionType) != index.ProjectionType ||
			!slices.Equal(got.Projection.NonKeyAttributes, index.NonKeyAttributes) {
			t.Errorf("index %d = %+v, want %+v", i, got, index)
		}
	}
	defined := map[string]string{}
	for _, a := range in.AttributeDefinitions {
		defined[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	want := map[string]string{PartitionKey: "S", SortKey: "S", StoreIndexPK: "S", StoreIndexSK: "S", DueIndexPK: "S", DueIndexSK: "N", CleanupIndexPK: "S", CleanupIndexSK: "S", AllJobsIndexPK: "S", AllJobsIndexSK: "S", FinishedIndexSK: "S"}
	if len(defined) != len(want) {
		t.Errorf("attribute definitions = %v, want %v", defined, want)
	}
	for k, v := range want {
		if defined[k] != v {
			t.Errorf("attribute %s is %q, want %q", k, defined[k], v)
		}
	}
}

func TestQueuesHaveOnePerPriorityAndTheWakeAndDeadLetterQueues(t *testing.T) {
	t.Parallel()
	names := map[string]Queue{}
	for _, q := range Queues() {
		names[q.Suffix] = q
	}
	for _, p := range job.Priorities {
		q, ok := names[PriorityQueueSuffix(p)]
		if !ok || !q.DeadLetter || q.MaxReceiveCount < 50 {
			t.Errorf("queue for %s = %+v, want one with a high dead-letter redrive backstop", p, q)
		}
	}
	if _, ok := names[WakeQueueSuffix]; !ok {
		t.Error("no wake queue")
	}
	if _, ok := names[DeadLetterQueueSuffix]; !ok {
		t.Error("no dead-letter queue")
	}
	if QueueName("jobs", "urgent") != "jobs-urgent" {
		t.Error("queue names are <prefix>-<suffix>")
	}
}
