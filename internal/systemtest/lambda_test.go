package systemtest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/lambdaadapter"
	"github.com/dainostore/jobs/internal/testenv"
)

func readFixture(t *testing.T, name string, into any) {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
}

// The Lambda functions run the same handlers as the local process: an API
// Gateway event creates a job through the API handler, and an SQS wake event
// runs it through the worker handler.
func TestLambdaAdaptersDriveTheSameCode(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	// Deployed, API Gateway's JWT authorizer has validated the token and
	// passes its claims in the event.
	a := env.App(t, app.Overrides{Authenticator: auth.Gateway{}})

	var request events.APIGatewayV2HTTPRequest
	readFixture(t, "apigw-create-job.json", &request)
	apiHandler := lambdaadapter.HTTP(a.API)
	response, err := apiHandler(withTimeout(t, 30*time.Second), request)
	if err != nil {
		t.Fatal(err)
	}
	if response.StatusCode != http.StatusCreated || response.Headers["Content-Type"] != "application/json" {
		t.Fatalf("create through API Gateway: %d %v %s", response.StatusCode, response.Headers, response.Body)
	}
	var created struct{ Job job.Job }
	if err := json.Unmarshal([]byte(response.Body), &created); err != nil {
		t.Fatal(err)
	}
	if created.Job.StoreID != "fixture-store" || created.Job.Priority != job.PriorityUrgent || created.Job.Status != job.StatusPending {
		t.Errorf("created job = %+v", created.Job)
	}
	// The idempotency key of the fixture makes a repeat return the same job.
	again, err := apiHandler(withTimeout(t, 30*time.Second), request)
	if err != nil || again.StatusCode != http.StatusOK || again.Headers["Idempotent-Replayed"] != "true" {
		t.Fatalf("repeat through API Gateway: %d %v %v", again.StatusCode, again.Headers, err)
	}

	// Without the authorizer's claims the route stays closed.
	unauthenticated := request
	unauthenticated.RequestContext.Authorizer = nil
	if denied, err := apiHandler(withTimeout(t, 30*time.Second), unauthenticated); err != nil || denied.StatusCode != http.StatusUnauthorized {
		t.Errorf("create without authorizer claims: %d %v, want 401", denied.StatusCode, err)
	}

	var wake events.SQSEvent
	readFixture(t, "sqs-wake.json", &wake)
	workerHandler := lambdaadapter.Wake(a.Worker)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // Lambda's deadline
	defer cancel()
	out, err := workerHandler(ctx, wake)
	if err != nil || len(out.BatchItemFailures) != 0 {
		t.Fatalf("worker invocation: %v, failures %v", err, out.BatchItemFailures)
	}
	done, err := a.Jobs.Get(withTimeout(t, 10*time.Second), created.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != job.StatusCompleted || done.Progress != 100 || done.Attempts != 1 {
		t.Errorf("after one worker invocation the job is %s at %d%% after %d attempts, want completed at 100%% after 1", done.Status, done.Progress, done.Attempts)
	}

	// The scheduler's EventBridge input runs the sweep.
	if err := lambdaadapter.Schedule(a.Cron)(withTimeout(t, 30*time.Second), lambdaadapter.ScheduledEvent{Task: "sweep"}); err != nil {
		t.Errorf("sweep through the scheduler handler: %v", err)
	}
	if err := lambdaadapter.Schedule(a.Cron)(withTimeout(t, 30*time.Second), lambdaadapter.ScheduledEvent{Task: "no-such-task"}); err == nil {
		t.Error("an unknown scheduled task must fail")
	}
}
