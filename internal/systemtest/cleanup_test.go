package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/cron"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/testenv"
)

func TestCleanupRemovesExpiredJobsLogsKeysAndOrphanedLocks(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	// Time jumps past every retention instead of being waited out: the
	// cleanup's look-back of a week covers all that expires here.
	env.Config.Retention = 3 * 24 * time.Hour
	env.Config.FailedRetention = 7 * 24 * time.Hour
	c := &clock.Offset{}
	a := env.App(t, app.Overrides{Clock: c, TableOptions: jobtable.Options{IdempotencyWindow: 24 * time.Hour}})
	base := testenv.Serve(t, a)
	ctx := withTimeout(t, 2*time.Minute)
	// TTL off, as if it were late: what expires is left to the cleanup.
	if _, err := env.DynamoDB().UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(env.Config.TableName),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires_at"), Enabled: aws.Bool(false)},
	}); err != nil {
		t.Fatal(err)
	}

	var finished []string
	for i, payload := range []map[string]any{{"steps": 2}, {"steps": 1, "fail_attempts": 1, "fail_with": "permanent"}} {
		status, out := call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "dev:simulate", "store_id": "tidy", "payload": payload}, "Idempotency-Key", "tidy-"+string(rune('a'+i)))
		if status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, out)
		}
		id := out["job"].(map[string]any)["id"].(string)
		waitForStatus(t, base, id, []string{"completed", "failed"}[i])
		finished = append(finished, id)
	}
	// A lock left behind by someone editing the table by hand.
	if _, err := env.DynamoDB().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Config.TableName), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "LOCK#ghost#dev:simulate"}, "sk": &types.AttributeValueMemberS{Value: "LOCK"},
		"job_id": &types.AttributeValueMemberS{Value: "no-such-job"}, "cleanup_pk": &types.AttributeValueMemberS{Value: "LOCKS"}, "cleanup_sk": &types.AttributeValueMemberS{Value: "2026-01-01T00:00:00.000Z#no-such-job"},
	}}); err != nil {
		t.Fatal(err)
	}
	c.Advance(env.Config.FailedRetention + time.Hour)

	// Past their retention, jobs are gone from the API even before cleanup.
	if status, _ := call(t, http.MethodGet, base+"/api/background-jobs/"+finished[0], nil); status != http.StatusNotFound {
		t.Errorf("an expired job: %d, want 404", status)
	}
	if err := a.Cron.Run(ctx, cron.TaskCleanup); err != nil {
		t.Fatal(err)
	}
	page, err := a.Jobs.ListByStore(ctx, job.PlatformStore, 1, "")
	if err != nil || len(page.Jobs) != 1 {
		t.Fatalf("the scheduled cleanup job: %v %v", page.Jobs, err)
	}
	cleanup := page.Jobs[0].ID
	var j *job.Job
	eventually(t, 60*time.Second, func() error {
		j, err = a.Jobs.Get(ctx, cleanup)
		if err == nil && j.Status != job.StatusCompleted {
			err = fmt.Errorf("the cleanup job is %s", j.Status)
		}
		return err
	})
	var report jobtable.CleanupReport
	if err := json.Unmarshal(j.Result, &report); err != nil {
		t.Fatal(err)
	}
	if report.JobsDeleted < 2 || report.LogLinesDeleted < 4 || report.IdempotencyKeysDeleted != 2 || report.LocksReleased != 1 {
		t.Errorf("cleanup report = %+v, want 2 jobs with their logs, 2 keys and 1 lock", report)
	}
	for _, id := range finished {
		if _, err := a.Jobs.Get(ctx, id); err != jobtable.ErrNotFound {
			t.Errorf("expired job %s still stored: %v", id, err)
		}
		logs, err := a.Jobs.Logs(ctx, id, "", 10, "")
		if err != nil || len(logs.Entries) != 0 {
			t.Errorf("expired job %s still has %d log lines (%v)", id, len(logs.Entries), err)
		}
	}
	// It tells what it did in its own log.
	told := false
	lines, err := a.Jobs.Logs(ctx, cleanup, "info", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range lines.Entries {
		if e.Message == "cleanup done" && e.Attrs["locks_released"] == "1" {
			told = true
		}
	}
	if !told {
		t.Error("the cleanup job's log does not report what it did")
	}
	// A second run while nothing expired does nothing, and a run while one
	// is active is skipped.
	if err := a.Cron.Run(context.Background(), cron.TaskCleanup); err != nil {
		t.Fatal(err)
	}
}
