package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/dainostore/jobs/internal/alert"
	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/testenv"
)

// alarmInbox subscribes a queue to a new SNS topic on the emulator, to read
// what the alerts publish.
func alarmInbox(t *testing.T, env *testenv.Env) (topicARN string, read func() []string) {
	t.Helper()
	ctx := withTimeout(t, 30*time.Second)
	snsClient, sqsClient := sns.NewFromConfig(env.AWS), env.SQS()
	topic, err := snsClient.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(env.Config.QueuePrefix + "-alarms")})
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(env.Config.QueuePrefix + "-alarm-inbox")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sqsClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: inbox.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsClient.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	var received []string
	return aws.ToString(topic.TopicArn), func() []string {
		out, err := sqsClient.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: inbox.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			received = append(received, aws.ToString(m.Body))
		}
		return received
	}
}

func TestFailureSpikeRaisesAnAlertThatResolvesWhenTheRateDrops(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	topic, inbox := alarmInbox(t, env)
	env.Config.AlarmTopicARN = topic
	rules := alert.Rules{FailureRate: 0.3, MinFinished: 5, StuckAfter: time.Hour, HighLoadFor: time.Hour}
	a := env.App(t, app.Overrides{AlertRules: &rules})
	base := testenv.Serve(t, a)
	sweep := func() {
		t.Helper()
		if err := a.Cron.Run(context.Background(), "sweep"); err != nil {
			t.Fatal(err)
		}
	}
	run := func(n int, failing bool, prefix string) {
		t.Helper()
		var ids []string
		for i := range n {
			payload := map[string]any{"steps": 1}
			if failing {
				payload["fail_attempts"], payload["fail_with"] = 1, "permanent"
			}
			ids = append(ids, createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": fmt.Sprintf("%s-%d", prefix, i), "payload": payload}))
		}
		for _, id := range ids {
			waitForStatus(t, base, id, map[bool]string{true: "failed", false: "completed"}[failing])
		}
	}
	alerts := func() map[string]any {
		t.Helper()
		status, out := call(t, http.MethodGet, base+"/api/background-jobs/alerts", nil)
		if status != http.StatusOK {
			t.Fatalf("alerts: %d %v", status, out)
		}
		return out
	}

	run(6, true, "spike")
	sweep()
	out := alerts()
	open := out["open"].([]any)
	if len(open) != 1 || open[0].(map[string]any)["kind"] != "failure_rate" || open[0].(map[string]any)["subject"] != "dev:simulate" {
		t.Fatalf("after a failure spike: open alerts %v", open)
	}
	groups := out["failure_groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["count"] != 6.0 || groups[0].(map[string]any)["kind"] != "permanent" {
		t.Errorf("six identical failures should read as one group of 6: %v", groups)
	}
	sweep() // still failing: the alert stays open, not opened twice
	if open := alerts()["open"].([]any); len(open) != 1 {
		t.Errorf("open alerts after a second sweep: %v", open)
	}

	run(15, false, "calm") // 6 failed of 21: below 30%
	sweep()
	out = alerts()
	if open := out["open"].([]any); len(open) != 0 {
		t.Errorf("after the rate dropped: still open %v", open)
	}
	if resolved := out["resolved"].([]any); len(resolved) != 1 || resolved[0].(map[string]any)["status"] != "resolved" {
		t.Errorf("resolved alerts = %v", resolved)
	}
	var published []string
	eventually(t, 30*time.Second, func() error {
		published = inbox()
		if len(published) < 2 {
			return fmt.Errorf("the alarm topic got %d messages", len(published))
		}
		return nil
	})
	all := strings.Join(published, "\n")
	if !strings.Contains(all, "ALARM: failure_rate dev:simulate") || !strings.Contains(all, "OK: failure_rate dev:simulate") || len(published) != 2 {
		t.Errorf("published %v, want one ALARM and one OK", published)
	}
}

func TestDeadLettersAndStuckJobsRaiseAlerts(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	// Stuck after half a minute: the clock may jump that far, less than a
	// lease, so no worker takes the quiet job over meanwhile.
	rules := alert.Rules{FailureRate: 0.5, MinFinished: 100, StuckAfter: 30 * time.Second, HighLoadFor: time.Hour}
	clk := &clock.Offset{}
	a := env.App(t, app.Overrides{AlertRules: &rules, Clock: clk})
	base := testenv.Serve(t, a)
	ctx := withTimeout(t, time.Minute)

	// A job that reports progress once, then goes quiet (heartbeats only)
	// for longer than the rule allows.
	stuck := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "quiet", "payload": map[string]any{"steps": 1, "step_ms": 60000}})
	waitForStatus(t, base, stuck, "running")
	clk.Advance(31 * time.Second)
	if _, err := env.SQS().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(env.URLs.Priority[job.PriorityLow]), MessageBody: aws.String("garbage")}); err != nil {
		t.Fatal(err)
	}
	if err := a.Queues.Wake(ctx, 0); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	eventually(t, 60*time.Second, func() error {
		if err := a.Cron.Run(ctx, "sweep"); err != nil {
			return err
		}
		_, out := call(t, http.MethodGet, base+"/api/background-jobs/alerts", nil)
		kinds = map[string]bool{}
		for _, a := range out["open"].([]any) {
			kinds[a.(map[string]any)["kind"].(string)] = true
		}
		if !kinds["stuck_job"] || !kinds["dead_letters"] {
			return fmt.Errorf("open alert kinds %v", kinds)
		}
		return nil
	})
	// The stuck job resolves once it is no longer running.
	call(t, http.MethodPost, base+"/api/background-jobs/"+stuck+"/cancel", nil)
	waitForStatus(t, base, stuck, "cancelled")
	if err := a.Cron.Run(ctx, "sweep"); err != nil {
		t.Fatal(err)
	}
	_, out := call(t, http.MethodGet, base+"/api/background-jobs/alerts", nil)
	for _, a := range out["open"].([]any) {
		if a.(map[string]any)["kind"] == "stuck_job" {
			t.Errorf("the stuck-job alert stayed open after the job ended: %v", a)
		}
	}
}

func TestHighLoadForLongerThanAllowedRaisesAnAlert(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	rules := alert.Rules{FailureRate: 0.5, MinFinished: 100, StuckAfter: time.Hour, HighLoadFor: 10 * time.Minute}
	clk := &clock.Offset{}
	a := env.App(t, app.Overrides{AlertRules: &rules, Clock: clk})
	base := testenv.Serve(t, a)
	ctx := withTimeout(t, time.Minute)
	openKinds := func() map[string]bool {
		if err := a.Cron.Run(ctx, "sweep"); err != nil {
			t.Fatal(err)
		}
		_, out := call(t, http.MethodGet, base+"/api/background-jobs/alerts", nil)
		kinds := map[string]bool{}
		for _, a := range out["open"].([]any) {
			kinds[a.(map[string]any)["kind"].(string)] = true
		}
		return kinds
	}

	// Paused, eleven jobs wait: "high load" by the guide.
	call(t, http.MethodPost, base+"/api/background-jobs/pause", nil)
	for i := range 11 {
		createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": fmt.Sprintf("load-%d", i), "payload": map[string]any{"steps": 1}})
	}
	if openKinds()["high_load"] {
		t.Fatal("alerted at once; high load must last before it alerts")
	}
	clk.Advance(11 * time.Minute)
	if !openKinds()["high_load"] {
		t.Fatal("no alert after high load lasted longer than allowed")
	}
	call(t, http.MethodPost, base+"/api/background-jobs/resume", nil)
	eventually(t, 60*time.Second, func() error {
		if openKinds()["high_load"] {
			return fmt.Errorf("the high-load alert is still open")
		}
		return nil
	})
}

// Jobs that failed because their type has no handler here raise an alert
// of their own, however few: it is a deployment's fault, not a job's.
func TestJobsOfATypeNotDeployedRaiseAnAlert(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	clk := &clock.Offset{}
	with := env.App(t, app.Overrides{Clock: clk})
	without := env.App(t, app.Overrides{Clock: clk, JobTypes: jobtype.NewRegistry()})
	ctx := withTimeout(t, time.Minute)
	createDirect(t, with, "rolled-back", map[string]any{"steps": 1})
	runWorker(t, without)
	openOf := func() []jobtable.Alert {
		t.Helper()
		if err := without.Alerts.Check(ctx); err != nil {
			t.Fatal(err)
		}
		open, _, err := without.Jobs.Alerts(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		return open
	}
	open := openOf()
	if len(open) != 1 || open[0].Kind != "unknown_type" || open[0].Subject != "dev:simulate" || !strings.Contains(open[0].Message, "no handler") {
		t.Fatalf("open alerts %+v, want one unknown_type alert of dev:simulate", open)
	}
	clk.Advance(3 * time.Hour) // no such failure since
	if open := openOf(); len(open) != 0 {
		t.Errorf("still open after the failures stopped: %+v", open)
	}
}
