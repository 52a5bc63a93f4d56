package systemtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/meter"
	"github.com/dainostore/jobs/internal/testenv"
)

// seedJobs writes finished jobs of one store straight into the table, as if
// they had run: it is the reads that are measured, not the writes.
func seedJobs(t *testing.T, env *testenv.Env, storeID string, from, to int) {
	t.Helper()
	db := env.DynamoDB()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v int) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }
	var wg sync.WaitGroup
	batches := make(chan []types.WriteRequest)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				pending := map[string][]types.WriteRequest{env.Config.TableName: batch}
				for len(pending) > 0 {
					out, err := db.BatchWriteItem(withTimeout(t, time.Minute), &dynamodb.BatchWriteItemInput{RequestItems: pending})
					if err != nil {
						t.Error(err)
						return
					}
					pending = out.UnprocessedItems
				}
			}
		}()
	}
	var batch []types.WriteRequest
	for i := from; i < to; i++ {
		id := fmt.Sprintf("seed-%06d", i)
		created := start.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000Z07:00")
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"pk": s("JOB#" + id), "sk": s("JOB"), "id": s(id), "store_id": s(storeID), "type": s("dev:simulate"),
			"status": s("completed"), "priority": n(3), "payload": s(`{"steps":1}`), "progress": n(100), "progress_message": s("Simulating step 1/1"),
			"attempts": n(1), "max_attempts": n(4), "created_at": s(created), "started_at": s(created), "finished_at": s(created),
			"version": n(3), "store_pk": s("STORE#" + storeID), "store_sk": s(created + "#" + id),
		}}})
		if len(batch) == 25 || i == to-1 {
			batches <- batch
			batch = nil
		}
	}
	close(batches)
	wg.Wait()
}

// The reads the dashboards make cost the same with 100 and with 10,000
// stored jobs: counters, index queries and per-day items, never a scan.
func TestReadCostDoesNotGrowWithStoredJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 items")
	}
	t.Parallel()
	env := testenv.New(t)
	m := meter.New()
	a := env.App(t, app.Overrides{
		DynamoDBOptions: []func(*dynamodb.Options){m.DynamoDBOption()},
		SQSOptions:      []func(*sqs.Options){m.SQSOption()},
	})
	token := testenv.OperatorToken(t)
	reads := map[string]string{
		"queue status":       "/api/background-jobs/status",
		"store status":       "/api/background-jobs/status?store_id=bulk",
		"store's first page": "/api/background-jobs?store_id=bulk&limit=20",
		"metrics of a week":  "/api/background-jobs/metrics?days=7&store_id=bulk",
	}
	measure := func() map[string]meter.Usage {
		cost := map[string]meter.Usage{}
		for name, path := range reads {
			m.Reset()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			a.HTTP.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", name, rec.Code, rec.Body)
			}
			cost[name] = meter.Total(m.Snapshot())
		}
		return cost
	}

	seedJobs(t, env, "bulk", 0, 100)
	createDirect(t, a, "bulk", map[string]any{"steps": 1}) // today's metrics
	small := measure()
	seedJobs(t, env, "bulk", 100, 10000)
	large := measure()
	for name := range reads {
		if small[name] != large[name] {
			t.Errorf("%s cost %+v with 100 jobs and %+v with 10,000", name, small[name], large[name])
		}
		if small[name].Requests == 0 || small[name].ReadCapacity == 0 {
			t.Errorf("%s: nothing was measured (%+v)", name, small[name])
		}
	}
	t.Logf("cost per read: %+v", large)
}
