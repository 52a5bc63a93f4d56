package lambdaruntime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/testenv"
)

// functionEnvironment is the configuration a deployed function gets,
// pointing at the test's own tables, queues, bucket and key on the local emulators.
func functionEnvironment(e *testenv.Env) []string {
	vars := []string{
		"JOBS_TABLE_NAME=" + e.Config.TableName,
		"JOBS_QUEUE_PREFIX=" + e.Config.QueuePrefix,
		"JOBS_CATALOG_TABLE_NAME=" + e.Config.CatalogTableName,
		"JOBS_IMAGES_BUCKET=" + e.Config.ImagesBucket,
		"JOBS_CONNECTIONS_KEY_ID=" + e.Config.ConnectionsKeyID,
		"JOBS_DIAGNOSTIC_JOBS=true",
		// The SQS emulator's short polls see every message.
		"JOBS_EMPTY_POLL_WAIT=0",
		"AWS_REGION=" + e.AWS.Region,
		// Lambda hands a function its role's temporary credentials this
		// way; the emulators accept any.
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_SESSION_TOKEN=local",
	}
	// The emulators' endpoints, as `make test` sets them (testenv.New has
	// checked that they are set).
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_KMS"} {
		if value, ok := os.LookupEnv(name); ok {
			vars = append(vars, name+"="+value)
		}
	}
	return vars
}

// startFunctions starts functions side by side, as each start waits for its
// emulator to listen.
func startFunctions(t *testing.T, environment []string, names ...string) map[string]*function {
	t.Helper()
	binaries(t) // built once, before the starts need them
	started := make([]*function, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { started[i], errs[i] = newFunction(t, name, environment) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	functions := make(map[string]*function, len(names))
	for i, name := range names {
		functions[name] = started[i]
	}
	return functions
}

// A job created through the API function is run by the worker function,
// woken by the SQS event of the API's wake message, and the API function
// then reports it completed with its result.
func TestAJobCreatedThroughTheAPIFunctionIsCompletedByTheWorkerFunction(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	functions := startFunctions(t, functionEnvironment(env), apiFunction, workerFunction)
	api, worker := functions[apiFunction], functions[workerFunction]

	// API Gateway's JWT authorizer has validated the token; the function
	// reads the claims it passes on (auth.Gateway).
	created := api.invoke(t, fixture(t, "apigw-create-job.json"))
	response := httpResponse(t, created)
	if response.StatusCode != http.StatusCreated || response.Headers["Content-Type"] != "application/json" {
		t.Fatalf("create: %d %v %s", response.StatusCode, response.Headers, response.Body)
	}
	var body struct{ Job job.Job }
	decode(t, response.Body, &body)
	if body.Job.ID == "" || body.Job.StoreID != "rie-store" || body.Job.Type != "dev:simulate" || body.Job.Status != job.StatusPending {
		t.Fatalf("created job: %+v", body.Job)
	}
	if want := "/api/background-jobs/" + body.Job.ID; response.Headers["Location"] != want {
		t.Errorf("Location = %q, want %q", response.Headers["Location"], want)
	}
	t.Logf("api init duration: %v", api.initDuration(t))

	// The wake queue's event source mapping: receive the wake, invoke the
	// worker with it as a batch of one, and delete it unless the response
	// reports it failed.
	wake, receipt := receiveWake(t, env)
	ran := worker.invoke(t, marshal(t, wake))
	if ran.Error != nil {
		t.Fatalf("worker invocation failed: %+v", ran.Error)
	}
	var batch events.SQSEventResponse
	decode(t, string(ran.Response), &batch)
	if len(batch.BatchItemFailures) != 0 {
		t.Fatalf("worker reported batch item failures: %+v", batch.BatchItemFailures)
	}
	deleteWake(t, env, receipt)
	t.Logf("worker init duration: %v", worker.initDuration(t))

	// The job ended within that invocation: no waiting.
	status := httpResponse(t, api.invoke(t, jobRequest(t, body.Job.ID, "/status")))
	if status.StatusCode != http.StatusOK {
		t.Fatalf("status: %d %s", status.StatusCode, status.Body)
	}
	var statusBody struct {
		Job struct {
			ID       string     `json:"id"`
			Status   job.Status `json:"status"`
			Progress int        `json:"progress"`
			Attempts int        `json:"attempts"`
		} `json:"job"`
	}
	decode(t, status.Body, &statusBody)
	if got := statusBody.Job; got.ID != body.Job.ID || got.Status != job.StatusCompleted || got.Progress != 100 || got.Attempts != 1 {
		t.Fatalf("status after the worker invocation: %+v, want completed at 100%% after 1 attempt", got)
	}
	full := httpResponse(t, api.invoke(t, jobRequest(t, body.Job.ID, "")))
	if full.StatusCode != http.StatusOK {
		t.Fatalf("job: %d %s", full.StatusCode, full.Body)
	}
	var fullBody struct{ Job job.Job }
	decode(t, full.Body, &fullBody)
	var result simulate.Result
	if err := json.Unmarshal(fullBody.Job.Result, &result); err != nil || result != (simulate.Result{Steps: 3, StepRuns: 3, Attempts: 1}) {
		t.Errorf("result %s, want the fixture's 3 steps, each run once, in 1 attempt", fullBody.Job.Result)
	}

	// The worker deleted the job's message: nothing is left to run.
	if left := queueDepth(t, env, env.URLs.Priority[job.PriorityNormal]); left != 0 {
		t.Errorf("%d messages left in the normal queue after the job completed", left)
	}
}

// Without the authorizer's claims the API function answers 401: the routes
// stay closed even if the stack lacked the authorizer.
func TestTheAPIFunctionRefusesEventsWithoutAuthorizerClaims(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	api := startFunction(t, apiFunction, functionEnvironment(env))

	var event map[string]any
	decode(t, string(fixture(t, "apigw-create-job.json")), &event)
	delete(event["requestContext"].(map[string]any), "authorizer")
	response := httpResponse(t, api.invoke(t, marshal(t, event)))
	if response.StatusCode != http.StatusUnauthorized {
		t.Errorf("create without authorizer claims: %d %s, want 401", response.StatusCode, response.Body)
	}
}

// The scheduler function runs the task its EventBridge rule names, and
// fails the invocation (so that Lambda counts an error) for a task it does
// not know.
func TestTheSchedulerFunctionRunsTheSweepAndRefusesUnknownTasks(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	scheduler := startFunction(t, schedulerFunction, functionEnvironment(env))

	swept := scheduler.invoke(t, fixture(t, "eventbridge-sweep.json"))
	if swept.Error != nil || string(swept.Response) != "null" {
		t.Fatalf("sweep: response %s, error %+v; want null and no error", swept.Response, swept.Error)
	}
	t.Logf("scheduler init duration: %v", scheduler.initDuration(t))

	unknown := scheduler.invoke(t, []byte(`{"task": "no-such-task"}`))
	if unknown.Error == nil || !strings.Contains(unknown.Error.Message, "no-such-task") {
		t.Errorf("unknown task: response %s, error %+v; want an error naming the task", unknown.Response, unknown.Error)
	}
}

// An invocation fails, rather than passing vacuously, when the bootstrap
// cannot start: here its configuration is refused before it reaches the
// runtime API.
func TestAnInvocationFailsWhenTheBootstrapCannotStart(t *testing.T) {
	t.Parallel()
	scheduler := startFunction(t, schedulerFunction, []string{"JOBS_LEASE=1s"})

	result, err := scheduler.tryInvoke(fixture(t, "eventbridge-sweep.json"))
	if err == nil {
		t.Fatalf("invocation of a bootstrap that exits at start succeeded: %+v", result)
	}
	if status := scheduler.log.await(t, initDone); status != "error" {
		t.Errorf("init status = %q, want error", status)
	}
	if log := scheduler.log.String(); !strings.Contains(log, "JOBS_LEASE must be at least 5s") {
		t.Errorf("the bootstrap's own error is not in its output:\n%s", log)
	}
}

// httpResponse decodes the API function's response.
func httpResponse(t *testing.T, result invocation) events.APIGatewayV2HTTPResponse {
	t.Helper()
	if result.Error != nil {
		t.Fatalf("the API function failed the invocation: %+v", result.Error)
	}
	var response events.APIGatewayV2HTTPResponse
	decode(t, string(result.Response), &response)
	return response
}

// jobRequest is API Gateway's event for GET /api/background-jobs/{id}<suffix>.
func jobRequest(t testing.TB, id, suffix string) []byte {
	t.Helper()
	var event events.APIGatewayV2HTTPRequest
	decode(t, string(fixture(t, "apigw-get-job-status.json")), &event)
	path := "/api/background-jobs/" + id + suffix
	event.RouteKey = "GET /api/background-jobs/{id}" + suffix
	event.RequestContext.RouteKey = event.RouteKey
	event.RawPath, event.RequestContext.HTTP.Path = path, path
	event.PathParameters = map[string]string{"id": id}
	return marshal(t, event)
}

// receiveWake receives the wake message the API sent and returns it as the
// SQS event the event source mapping would invoke the worker with.
func receiveWake(t *testing.T, env *testenv.Env) (event events.SQSEvent, receiptHandle string) {
	t.Helper()
	client := env.SQS()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	attributes, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &env.URLs.Wake, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	for {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &env.URLs.Wake,
			MaxNumberOfMessages:         1,
			WaitTimeSeconds:             5,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("receive the wake: %v", err)
		}
		if len(out.Messages) == 0 {
			continue // the context's deadline ends the wait
		}
		m := out.Messages[0]
		record := events.SQSMessage{
			MessageId:         aws.ToString(m.MessageId),
			ReceiptHandle:     aws.ToString(m.ReceiptHandle),
			Body:              aws.ToString(m.Body),
			Md5OfBody:         aws.ToString(m.MD5OfBody),
			Attributes:        map[string]string{},
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource:       "aws:sqs",
			EventSourceARN:    attributes.Attributes[string(types.QueueAttributeNameQueueArn)],
			AWSRegion:         env.AWS.Region,
		}
		// The system attributes Lambda passes on.
		for _, name := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
			if value, ok := m.Attributes[name]; ok {
				record.Attributes[name] = value
			}
		}
		return events.SQSEvent{Records: []events.SQSMessage{record}}, record.ReceiptHandle
	}
}

// deleteWake deletes a processed wake, as the event source mapping does
// after a successful batch.
func deleteWake(t *testing.T, env *testenv.Env, receiptHandle string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := env.SQS().DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &env.URLs.Wake, ReceiptHandle: &receiptHandle}); err != nil {
		t.Fatal(err)
	}
}

// queueDepth counts a queue's messages, visible and in flight.
func queueDepth(t *testing.T, env *testenv.Env, url string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := env.SQS().GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &url,
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, value := range out.Attributes {
		var n int
		decode(t, value, &n)
		total += n
	}
	return total
}

// fixture reads an event from testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decode(t testing.TB, data string, into any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), into); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
}
