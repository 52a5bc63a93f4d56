package jobtable

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/dynamo"
	"github.com/dainostore/jobs/internal/job"
)

// maxBatchWrite is the most items one BatchWriteItem takes.
const maxBatchWrite = 25

// ImportJobs writes jobs as they are, in batches, in the item format of
// every other write: for bringing in jobs from elsewhere and for filling a
// table in load tests. It writes neither counters, metrics, locks nor logs,
// and overwrites a job of the same id.
func (t *Table) ImportJobs(ctx context.Context, jobs []*job.Job) error {
	for start := 0; start < len(jobs); start += maxBatchWrite {
		batch := make([]types.WriteRequest, 0, maxBatchWrite)
		for _, j := range jobs[start:min(start+maxBatchWrite, len(jobs))] {
			item := itemFromJob(j)
			if j.Status.Terminal() && !j.ExpiresAt.IsZero() {
				item.ExpiresAt = j.ExpiresAt.Unix()
			}
			av, err := attributevalue.MarshalMap(item)
			if err != nil {
				return fmt.Errorf("encode job %s: %w", j.ID, err)
			}
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		if err := dynamo.BatchWrite(ctx, t.db, t.name, batch); err != nil {
			return fmt.Errorf("import jobs: %w", err)
		}
	}
	return nil
}
