package jobtable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// counterShards spreads each counter over several items so that concurrent
// transitions rarely touch the same item (which would conflict in a
// transaction). Reading a scope's counts costs one BatchGetItem of this many
// items, whatever the number of jobs.
const counterShards = 8

// Counts are the number of jobs in each status, and how many were ever created.
type Counts struct {
	Total     int64
	Pending   int64
	Running   int64
	Retrying  int64
	Completed int64
	Failed    int64
	Cancelled int64
}

// ByStatus returns the count of one status.
func (c Counts) ByStatus(s job.Status) int64 {
	switch s {
	case job.StatusPending:
		return c.Pending
	case job.StatusRunning:
		return c.Running
	case job.StatusRetrying:
		return c.Retrying
	case job.StatusCompleted:
		return c.Completed
	case job.StatusFailed:
		return c.Failed
	case job.StatusCancelled:
		return c.Cancelled
	}
	return 0
}

func (c *Counts) add(attribute string, n int64) {
	switch attribute {
	case "total":
		c.Total += n
	case string(job.StatusPending):
		c.Pending += n
	case string(job.StatusRunning):
		c.Running += n
	case string(job.StatusRetrying):
		c.Retrying += n
	case string(job.StatusCompleted):
		c.Completed += n
	case string(job.StatusFailed):
		c.Failed += n
	case string(job.StatusCancelled):
		c.Cancelled += n
	}
}

const globalScope = "GLOBAL"

func storeScope(storeID string) string { return "STORE#" + storeID }

func counterKey(scope string, shard int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.PartitionKey: str("COUNTERS#" + scope),
		schema.SortKey:      str("SHARD#" + strconv.Itoa(shard)),
	}
}

// counterWrites moves one job from one status to another in the global and
// the store's counters. An empty from means the job is new.
func (t *Table) counterWrites(storeID string, from, to job.Status) []types.TransactWriteItem {
	if from == to {
		return nil
	}
	// A new job adds one to total; a transition takes one from its old status.
	names := map[string]string{"#to": string(to), "#from": string(from)}
	values := map[string]types.AttributeValue{":plus": number(1), ":from": number(-1)}
	if from == "" {
		names["#from"], values[":from"] = "total", number(1)
	}
	shard := rand.IntN(counterShards)
	writes := make([]types.TransactWriteItem, 0, 2)
	for _, scope := range []string{globalScope, storeScope(storeID)} {
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{
			TableName:                 &t.name,
			Key:                       counterKey(scope, shard),
			UpdateExpression:          aws.String("ADD #to :plus, #from :from"),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}})
	}
	return writes
}

// Counts reads the counters of every job (storeID empty) or of one store.
func (t *Table) Counts(ctx context.Context, storeID string) (Counts, error) {
	scope := globalScope
	if storeID != "" {
		scope = storeScope(storeID)
	}
	keys := make([]map[string]types.AttributeValue, counterShards)
	for shard := range keys {
		keys[shard] = counterKey(scope, shard)
	}
	var counts Counts
	request := map[string]types.KeysAndAttributes{t.name: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for len(request) > 0 {
		out, err := t.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
		if err != nil {
			return Counts{}, fmt.Errorf("read counters: %w", err)
		}
		for _, item := range out.Responses[t.name] {
			for name, value := range item {
				if n, ok := value.(*types.AttributeValueMemberN); ok {
					v, err := strconv.ParseInt(n.Value, 10, 64)
					if err != nil {
						return Counts{}, fmt.Errorf("decode counter %s: %w", name, err)
					}
					counts.add(name, v)
				}
			}
		}
		request = out.UnprocessedKeys
	}
	return counts, nil
}
