package systemtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/alert"
	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/testenv"
)

// One injected clock runs every part: what the job table records, what
// the worker decides, when a wake is due, what the alerts measure. Before,
// the job table and the worker each had a clock of their own and the
// queues read the wall clock (the test failed: "the wake is due at
// 2026-…, want 2031-03-01 09:00:00").
func TestOneClockRunsEveryPart(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	then := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(then)
	rules := alert.Rules{FailureRate: 1, MinFinished: 1000, StuckAfter: 15 * time.Minute, HighLoadFor: time.Hour}
	a := env.App(t, app.Overrides{Clock: clk, AlertRules: &rules})
	ctx := withTimeout(t, time.Minute)

	j := createDirect(t, a, "clocked", map[string]any{"steps": 1})
	out, err := env.SQS().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(env.URLs.Wake), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("the create's wake: %v, %v", out, err)
	}
	var wake struct {
		DueMS int64 `json:"due_ms"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &wake); err != nil {
		t.Fatal(err)
	}
	if due := time.UnixMilli(wake.DueMS).UTC(); !due.Equal(then) {
		t.Fatalf("the wake is due at %s, want %s", due, then)
	}

	runWorker(t, a)
	done, err := a.Jobs.Get(ctx, j.ID)
	if err != nil || done.Status != job.StatusCompleted {
		t.Fatalf("job %v, %v", done, err)
	}
	for name, at := range map[string]*job.Time{"created": &done.CreatedAt, "started": done.StartedAt, "finished": done.FinishedAt} {
		if at == nil || !at.Equal(then) {
			t.Errorf("%s at %v, want %s", name, at, then)
		}
	}
	logs, err := a.Jobs.Logs(ctx, j.ID, "", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range logs.Entries {
		if !e.At.Equal(then) {
			t.Errorf("log line %q at %s, want %s", e.Message, e.At, then)
		}
	}
	days, err := a.Jobs.Metrics(ctx, 1, "", "dev:simulate")
	if err != nil || len(days) != 1 || days[0].Date != "2031-03-01" || days[0].Completed != 1 {
		t.Errorf("metrics %+v (%v), want the job completed on 2031-03-01", days, err)
	}

	// A job its worker left at 10% looks stuck once the clock has moved
	// past the rule's quarter hour, with no waiting.
	stuck := createDirect(t, a, "stuck", map[string]any{"steps": 1})
	read, err := a.Jobs.Get(ctx, stuck.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Jobs.Claim(ctx, read, jobtable.Lease{Token: "quiet-worker", ExpiresAt: then.Add(time.Hour)}, time.Hour, jobtable.LogEntry{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(16 * time.Minute)
	if err := a.Alerts.Check(ctx); err != nil {
		t.Fatal(err)
	}
	open, _, err := a.Jobs.Alerts(ctx, 0)
	if err != nil || len(open) != 1 || open[0].Kind != "stuck_job" || open[0].Subject != stuck.ID {
		t.Errorf("open alerts %+v (%v), want the stuck job", open, err)
	}
}
