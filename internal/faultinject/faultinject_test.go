package faultinject_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	fi "github.com/dainostore/jobs/internal/faultinject"
)

const queueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"

func key(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: id}}
}

func getItem(ctx context.Context, db *dynamodb.Client, id string) error {
	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("jobs"), Key: key(id)})
	return err
}

func putItem(ctx context.Context, db *dynamodb.Client, id string) error {
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("jobs"), Item: key(id)})
	return err
}

func updateItem(ctx context.Context, db *dynamodb.Client, id, status string) error {
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String("jobs"),
		Key:                       key(id),
		UpdateExpression:          aws.String("SET #s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: status}},
	})
	return err
}

func transactWrite(ctx context.Context, db *dynamodb.Client, id string) error {
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []ddbtypes.TransactWriteItem{
			{Put: &ddbtypes.Put{TableName: aws.String("jobs"), Item: key(id)}},
			{Put: &ddbtypes.Put{TableName: aws.String("jobs"), Item: key(id + "#idx")}},
		},
	})
	return err
}

func sendMessage(ctx context.Context, q *sqs.Client, body string) error {
	out, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
	if err == nil && aws.ToString(out.MessageId) == "" {
		return errors.New("SendMessage returned no MessageId")
	}
	return err
}

// checkAPIError checks that err reads like an error response of the
// service: an operation error of the client around an HTTP response error
// with the status, around an API error with the code.
func checkAPIError(t *testing.T, err error, service, operation, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error from %s.%s, got success", code, service, operation)
	}
	var opErr *smithy.OperationError
	if !errors.As(err, &opErr) {
		t.Fatalf("error %v (%T) is not a *smithy.OperationError", err, err)
	}
	if opErr.Service() != service || opErr.Operation() != operation {
		t.Errorf("operation error names %s.%s, want %s.%s", opErr.Service(), opErr.Operation(), service, operation)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v does not wrap a smithy.APIError", err)
	}
	if apiErr.ErrorCode() != code {
		t.Errorf("ErrorCode() = %q, want %q", apiErr.ErrorCode(), code)
	}
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) {
		t.Fatalf("error %v does not wrap an *awshttp.ResponseError", err)
	}
	if respErr.HTTPStatusCode() != status {
		t.Errorf("HTTP status %d, want %d", respErr.HTTPStatusCode(), status)
	}
	if respErr.ServiceRequestID() == "" {
		t.Error("no request ID")
	}
}

func TestFailNthFailsOnlyThatCall(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeAWS(t)
	inj := fi.New()
	db, q := clients(f, inj, 3)

	// Calls made before the rule do not count.
	if err := putItem(ctx, db, "job-0"); err != nil {
		t.Fatal(err)
	}
	rule := inj.FailNth(fi.DynamoDB, "PutItem", 2, fi.ServerError(fi.DynamoDB))

	for n := 1; n <= 4; n++ {
		// Other operations of both services are untouched.
		if err := getItem(ctx, db, "job-1"); err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		if err := sendMessage(ctx, q, fmt.Sprintf("msg %d", n)); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
		err := putItem(ctx, db, fmt.Sprintf("job-%d", n))
		if n != 2 {
			if err != nil {
				t.Fatalf("PutItem call %d: %v", n, err)
			}
			continue
		}
		checkAPIError(t, err, "DynamoDB", "PutItem", "InternalServerError", 500)
		var ise *ddbtypes.InternalServerError
		if !errors.As(err, &ise) {
			t.Errorf("error %v is not a *types.InternalServerError", err)
		}
		// A whole-call fault is not retried by the SDK, although a 500 is
		// retryable.
		var maxErr *retry.MaxAttemptsError
		if errors.As(err, &maxErr) {
			t.Errorf("whole-call fault went through the SDK's retries: %v", err)
		}
	}

	if got := rule.Hits(); got != 1 {
		t.Errorf("Hits() = %d, want 1", got)
	}
	if got := inj.Calls(fi.DynamoDB, "PutItem"); got != 5 {
		t.Errorf("Calls(PutItem) = %d, want 5", got)
	}
	// The failed call never reached the service, nor made an attempt.
	if got := f.received("PutItem"); got != 4 {
		t.Errorf("server received %d PutItem, want 4", got)
	}
	if got := inj.Attempts(fi.DynamoDB, "PutItem"); got != 4 {
		t.Errorf("Attempts(PutItem) = %d, want 4", got)
	}
	if got := inj.Calls(fi.SQS, "SendMessage"); got != 4 {
		t.Errorf("Calls(SendMessage) = %d, want 4", got)
	}
	if got := inj.Calls(fi.DynamoDB, ""); got != 9 {
		t.Errorf("Calls(DynamoDB, any) = %d, want 9", got)
	}
	if got := inj.Calls("", ""); got != 13 {
		t.Errorf("Calls(any, any) = %d, want 13", got)
	}
}

func TestFailAllUntilRemoved(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeAWS(t)
	inj := fi.New()
	db, q := clients(f, inj, 3)

	rule := inj.FailAll(fi.SQS, "", fi.Throttling(fi.SQS))
	for range 3 {
		err := sendMessage(ctx, q, "hello")
		checkAPIError(t, err, "SQS", "SendMessage", "RequestThrottled", 400)
		var rt *sqstypes.RequestThrottled
		if !errors.As(err, &rt) {
			t.Errorf("error %v is not a *types.RequestThrottled", err)
		}
	}
	if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String("rh")}); err == nil {
		t.Error("DeleteMessage succeeded under FailAll(SQS, any)")
	}
	if err := getItem(ctx, db, "job-1"); err != nil {
		t.Errorf("GetItem: %v", err)
	}
	rule.Remove()
	rule.Remove() // harmless
	if err := sendMessage(ctx, q, "hello"); err != nil {
		t.Errorf("SendMessage after Remove: %v", err)
	}
	if got := rule.Hits(); got != 4 {
		t.Errorf("Hits() = %d, want 4", got)
	}
	if got := f.received("SendMessage"); got != 1 {
		t.Errorf("server received %d SendMessage, want 1", got)
	}
}

// An injected error must be indistinguishable, for a caller, from the same
// error answered by the service.
func TestInjectedErrorsLookLikeServiceErrors(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeAWS(t)
	inj := fi.New()
	db, q := clients(f, inj, 1)

	f.failWith("GetItem", `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate of requests exceeds the allowed throughput."}`)
	f.failWith("ReceiveMessage", `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"Rate exceeded"}`)
	realDB, realQ := getItem(ctx, db, "job-1"), receive(ctx, q)
	checkAPIError(t, realDB, "DynamoDB", "GetItem", "ProvisionedThroughputExceededException", 400)
	checkAPIError(t, realQ, "SQS", "ReceiveMessage", "RequestThrottled", 400)

	inj.FailAll(fi.DynamoDB, "PutItem", fi.Throttling(fi.DynamoDB))
	inj.FailAll(fi.SQS, "SendMessage", fi.Throttling(fi.SQS))
	fakeDB, fakeQ := putItem(ctx, db, "job-1"), sendMessage(ctx, q, "m")
	checkAPIError(t, fakeDB, "DynamoDB", "PutItem", "ProvisionedThroughputExceededException", 400)
	checkAPIError(t, fakeQ, "SQS", "SendMessage", "RequestThrottled", 400)

	var ptee *ddbtypes.ProvisionedThroughputExceededException
	if !errors.As(realDB, &ptee) || !errors.As(fakeDB, &ptee) {
		t.Errorf("want both to be *types.ProvisionedThroughputExceededException: %v / %v", realDB, fakeDB)
	}
	var rt *sqstypes.RequestThrottled
	if !errors.As(realQ, &rt) || !errors.As(fakeQ, &rt) {
		t.Errorf("want both to be *types.RequestThrottled: %v / %v", realQ, fakeQ)
	}
	// Both are classified alike by the SDK's retryer.
	std := retry.NewStandard()
	for _, err := range []error{realDB, fakeDB, realQ, fakeQ} {
		if !std.IsErrorRetryable(err) {
			t.Errorf("retryer does not retry %v", err)
		}
	}
	t.Logf("service: %v", realDB)
	t.Logf("injected: %v", fakeDB)

	// Other services get generic errors with the common codes.
	for _, tc := range []struct {
		err    error
		code   string
		status int
	}{
		{fi.Throttling("S3"), "ThrottlingException", 400},
		{fi.ServerError(fi.SQS), "InternalFailure", 500},
		{fi.ServerError("Lambda"), "InternalFailure", 500},
	} {
		inj.Reset()
		inj.FailAll(fi.DynamoDB, "DeleteItem", tc.err)
		_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("jobs"), Key: key("k")})
		checkAPIError(t, err, "DynamoDB", "DeleteItem", tc.code, tc.status)
	}

	// An error that is not an API error is returned as given, inside the
	// operation error.
	inj.Reset()
	sentinel := &smithyhttp.RequestSendError{Err: errors.New("connection reset by peer")}
	inj.FailAll(fi.DynamoDB, "DeleteItem", sentinel)
	_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("jobs"), Key: key("k")})
	var opErr *smithy.OperationError
	if !errors.As(err, &opErr) || !errors.Is(err, sentinel) {
		t.Errorf("got %v, want an operation error around the sentinel", err)
	}
}

func receive(ctx context.Context, q *sqs.Client) error {
	_, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL)})
	return err
}

func TestFailWhenSeesTypedInput(t *testing.T) {
	for _, perAttempt := range []bool{false, true} {
		t.Run(fmt.Sprintf("perAttempt=%v", perAttempt), func(t *testing.T) {
			ctx := testCtx(t)
			f := newFakeAWS(t)
			inj := fi.New()
			db, q := clients(f, inj, 1)

			var inputs atomic.Int32
			rule := inj.FailWhen(fi.DynamoDB, "UpdateItem", func(in any) bool {
				u, ok := in.(*dynamodb.UpdateItemInput)
				if !ok {
					t.Errorf("predicate got %T, want *dynamodb.UpdateItemInput", in)
					return false
				}
				inputs.Add(1)
				s, _ := u.ExpressionAttributeValues[":s"].(*ddbtypes.AttributeValueMemberS)
				return u.Key["pk"].(*ddbtypes.AttributeValueMemberS).Value == "job-2" && s != nil && s.Value == "running"
			}, 2, &ddbtypes.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")})
			sqsRule := inj.FailWhen(fi.SQS, "SendMessage", func(in any) bool {
				return aws.ToString(in.(*sqs.SendMessageInput).MessageBody) == "poison"
			}, 0, fi.ServerError(fi.SQS))
			if perAttempt {
				rule.PerAttempt()
				sqsRule.PerAttempt()
			}

			steps := []struct {
				id, status string
				fail       bool
			}{
				{"job-1", "running", false},
				{"job-2", "pending", false},
				{"job-2", "running", true},
				{"job-1", "running", false},
				{"job-2", "running", true},
				{"job-2", "running", false}, // times (2) used up
			}
			for _, s := range steps {
				err := updateItem(ctx, db, s.id, s.status)
				if !s.fail {
					if err != nil {
						t.Fatalf("UpdateItem %s %s: %v", s.id, s.status, err)
					}
					continue
				}
				checkAPIError(t, err, "DynamoDB", "UpdateItem", "ConditionalCheckFailedException", 400)
				var ccf *ddbtypes.ConditionalCheckFailedException
				if !errors.As(err, &ccf) {
					t.Errorf("error %v is not a *types.ConditionalCheckFailedException", err)
				}
			}
			if got := rule.Hits(); got != 2 {
				t.Errorf("Hits() = %d, want 2", got)
			}
			if got := inputs.Load(); got != 6 {
				t.Errorf("predicate saw %d inputs, want 6", got)
			}
			if got := f.received("UpdateItem"); got != 4 {
				t.Errorf("server received %d UpdateItem, want 4", got)
			}

			for _, body := range []string{"ok", "poison", "ok", "poison"} {
				err := sendMessage(ctx, q, body)
				if (body == "poison") != (err != nil) {
					t.Errorf("SendMessage(%q): %v", body, err)
				}
			}
			if got := sqsRule.Hits(); got != 2 {
				t.Errorf("SQS rule Hits() = %d, want 2", got)
			}
		})
	}
}

func TestPerAttemptFaultsAreRetriedBySDK(t *testing.T) {
	const maxAttempts = 3

	t.Run("throttling below max attempts succeeds", func(t *testing.T) {
		ctx := testCtx(t)
		f := newFakeAWS(t)
		inj := fi.New()
		db, q := clients(f, inj, maxAttempts)

		rule := inj.FailWhen(fi.DynamoDB, "TransactWriteItems", nil, maxAttempts-1, fi.Throttling(fi.DynamoDB)).PerAttempt()
		if err := transactWrite(ctx, db, "job-1"); err != nil {
			t.Fatalf("TransactWriteItems: %v", err)
		}
		if got := rule.Hits(); got != maxAttempts-1 {
			t.Errorf("Hits() = %d, want %d", got, maxAttempts-1)
		}
		if got := inj.Calls(fi.DynamoDB, "TransactWriteItems"); got != 1 {
			t.Errorf("Calls = %d, want 1", got)
		}
		if got := inj.Attempts(fi.DynamoDB, "TransactWriteItems"); got != maxAttempts {
			t.Errorf("Attempts = %d, want %d", got, maxAttempts)
		}
		if got := f.received("TransactWriteItems"); got != 1 {
			t.Errorf("server received %d, want 1", got)
		}

		// The same for SQS, with the Nth attempt and a server error.
		sqsRule := inj.FailNth(fi.SQS, "SendMessage", 1, fi.ServerError(fi.SQS)).PerAttempt()
		if err := sendMessage(ctx, q, "hello"); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
		if sqsRule.Hits() != 1 || inj.Attempts(fi.SQS, "SendMessage") != 2 || f.received("SendMessage") != 1 {
			t.Errorf("hits %d, attempts %d, received %d; want 1, 2, 1",
				sqsRule.Hits(), inj.Attempts(fi.SQS, "SendMessage"), f.received("SendMessage"))
		}
	})

	t.Run("throttling on every attempt exhausts retries", func(t *testing.T) {
		ctx := testCtx(t)
		f := newFakeAWS(t)
		inj := fi.New()
		db, _ := clients(f, inj, maxAttempts)

		rule := inj.FailWhen(fi.DynamoDB, "TransactWriteItems", nil, maxAttempts, fi.Throttling(fi.DynamoDB)).PerAttempt()
		err := transactWrite(ctx, db, "job-1")
		checkAPIError(t, err, "DynamoDB", "TransactWriteItems", "ProvisionedThroughputExceededException", 400)
		var maxErr *retry.MaxAttemptsError
		if !errors.As(err, &maxErr) || maxErr.Attempt != maxAttempts {
			t.Errorf("want a MaxAttemptsError after %d attempts, got %v", maxAttempts, err)
		}
		if got := rule.Hits(); got != maxAttempts {
			t.Errorf("Hits() = %d, want %d", got, maxAttempts)
		}
		if got := f.received("TransactWriteItems"); got != 0 {
			t.Errorf("server received %d, want 0", got)
		}
		// The rule is used up: the next call goes through at once.
		if err := transactWrite(ctx, db, "job-1"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("non-retryable per-attempt fault is not retried", func(t *testing.T) {
		ctx := testCtx(t)
		f := newFakeAWS(t)
		inj := fi.New()
		db, _ := clients(f, inj, maxAttempts)

		inj.FailAll(fi.DynamoDB, "PutItem", &ddbtypes.ConditionalCheckFailedException{Message: aws.String("no")}).PerAttempt()
		err := putItem(ctx, db, "job-1")
		checkAPIError(t, err, "DynamoDB", "PutItem", "ConditionalCheckFailedException", 400)
		if got := inj.Attempts(fi.DynamoDB, "PutItem"); got != 1 {
			t.Errorf("Attempts = %d, want 1", got)
		}
	})

	t.Run("whole-call throttling is not retried", func(t *testing.T) {
		ctx := testCtx(t)
		f := newFakeAWS(t)
		inj := fi.New()
		db, _ := clients(f, inj, maxAttempts)

		rule := inj.FailWhen(fi.DynamoDB, "TransactWriteItems", nil, 1, fi.Throttling(fi.DynamoDB))
		err := transactWrite(ctx, db, "job-1")
		checkAPIError(t, err, "DynamoDB", "TransactWriteItems", "ProvisionedThroughputExceededException", 400)
		if rule.Hits() != 1 || inj.Attempts(fi.DynamoDB, "") != 0 || f.received("TransactWriteItems") != 0 {
			t.Errorf("hits %d, attempts %d, received %d; want 1, 0, 0",
				rule.Hits(), inj.Attempts(fi.DynamoDB, ""), f.received("TransactWriteItems"))
		}
		// The caller retries itself: the next call goes through.
		if err := transactWrite(ctx, db, "job-1"); err != nil {
			t.Fatal(err)
		}
		if got := inj.Attempts(fi.DynamoDB, "TransactWriteItems"); got != 1 {
			t.Errorf("Attempts = %d, want 1", got)
		}
	})
}

func TestAfterSendLosesTheResponse(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeAWS(t)
	inj := fi.New()
	db, q := clients(f, inj, 3)

	// Whole call: the write reaches the service once, the caller sees a
	// failure.
	inj.FailNth(fi.DynamoDB, "PutItem", 1, fi.ServerError(fi.DynamoDB)).AfterSend()
	err := putItem(ctx, db, "job-1")
	checkAPIError(t, err, "DynamoDB", "PutItem", "InternalServerError", 500)
	if got := f.received("PutItem"); got != 1 {
		t.Errorf("server received %d PutItem, want 1", got)
	}

	// Per attempt: every attempt reaches the service, and the SDK's retry
	// sends the message again.
	inj.FailNth(fi.SQS, "SendMessage", 1, fi.ServerError(fi.SQS)).PerAttempt().AfterSend()
	if err := sendMessage(ctx, q, "hello"); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if got := f.received("SendMessage"); got != 2 {
		t.Errorf("server received %d SendMessage, want 2 (a duplicate)", got)
	}
}

func TestPause(t *testing.T) {
	const pause = 200 * time.Millisecond
	ctx := testCtx(t)
	f := newFakeAWS(t)
	inj := fi.New()
	db, q := clients(f, inj, 3)

	rule := inj.Pause(fi.SQS, "SendMessage", pause)

	start := time.Now()
	if err := sendMessage(ctx, q, "slow"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < pause {
		t.Errorf("SendMessage took %v, want at least %v", d, pause)
	}

	start = time.Now()
	if err := getItem(ctx, db, "job-1"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= pause {
		t.Errorf("GetItem took %v, it should not be paused", d)
	}

	// A context that ends during the pause ends the call at once.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	err := sendMessage(short, q, "slow")
	if d := time.Since(start); d >= pause {
		t.Errorf("cancelled SendMessage took %v", d)
	}
	var opErr *smithy.OperationError
	var canceled *smithy.CanceledError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &opErr) || !errors.As(err, &canceled) {
		t.Errorf("got %v, want an operation error around a canceled error around context.DeadlineExceeded", err)
	}
	if got := f.received("SendMessage"); got != 1 {
		t.Errorf("server received %d SendMessage, want 1", got)
	}
	if got := rule.Hits(); got != 2 {
		t.Errorf("Hits() = %d, want 2", got)
	}

	// Per attempt, each attempt is paused; a cancelled pause is not retried.
	rule.Remove()
	inj.Pause(fi.SQS, "SendMessage", pause).PerAttempt()
	inj.FailNth(fi.SQS, "SendMessage", 1, fi.Throttling(fi.SQS)).PerAttempt()
	start = time.Now()
	if err := sendMessage(ctx, q, "slow"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*pause {
		t.Errorf("SendMessage with two paused attempts took %v, want at least %v", d, 2*pause)
	}
	short, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	before := inj.Attempts(fi.SQS, "SendMessage")
	if err := sendMessage(short, q, "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if got := inj.Attempts(fi.SQS, "SendMessage") - before; got != 1 {
		t.Errorf("cancelled call made %d attempts, want 1", got)
	}
}

func TestBlockHoldsCallsUntilReleased(t *testing.T) {
	t.Run("release", func(t *testing.T) {
		ctx := testCtx(t)
		f := newFakeAWS(t)
		inj := fi.New()
		db, q := clients(f, inj, 3)

		rule, release := inj.Block(fi.DynamoDB, "UpdateItem")
		done := make(chan error, 2)
		go func() { done <- updateItem(ctx, db, "job-1", "running") }()
		go func() { done <- updateItem(ctx, db, "job-2", "running") }()
		if err := rule.WaitHits(ctx, 2); err != nil {
			t.Fatal(err)
		}

		// While held: nothing reached the service, other calls go on.
		if got := f.received("UpdateItem"); got != 0 {
			t.Errorf("server received %d UpdateItem while blocked", got)
		}
		if err := getItem(ctx, db, "job-1"); err != nil {
			t.Errorf("GetItem while blocked: %v", err)
		}
		if err := sendMessage(ctx, q, "m"); err != nil {
			t.Errorf("SendMessage while blocked: %v", err)
		}
		select {
		case err := <-done:
			t.Fatalf("UpdateItem returned while blocked: %v", err)
		case <-time.After(50 * time.Millisecond):
		}

		release()
		release() // harmless
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("UpdateItem after release: %v", err)
			}
		}
		if got := f.received("UpdateItem"); got != 2 {
			t.Errorf("server received %d UpdateItem, want 2", got)
		}
		// Later calls pass, and are not counted as hits.
		if err := updateItem(ctx, db, "job-3", "running"); err != nil {
			t.Error(err)
		}
		if got := rule.Hits(); got != 2 {
			t.Errorf("Hits() = %d, want 2", got)
		}
	})

	t.Run("crash between two writes", func(t *testing.T) {
		ctx := testCtx(t)
		f := newFakeAWS(t)
		inj := fi.New()
		db, q := clients(f, inj, 3)

		// A process that writes a job and then enqueues it, stopped between
		// the two writes.
		rule, release := inj.Block(fi.SQS, "SendMessage")
		defer release()
		procCtx, crash := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			if err := putItem(procCtx, db, "job-1"); err != nil {
				done <- err
				return
			}
			done <- sendMessage(procCtx, q, "job-1")
		}()
		if err := rule.WaitHits(ctx, 1); err != nil {
			t.Fatal(err)
		}
		crash()
		err := <-done
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if f.received("PutItem") != 1 || f.received("SendMessage") != 0 {
			t.Errorf("server received %d PutItem and %d SendMessage, want 1 and 0",
				f.received("PutItem"), f.received("SendMessage"))
		}
	})

	t.Run("remove releases", func(t *testing.T) {
		ctx := testCtx(t)
		f := newFakeAWS(t)
		inj := fi.New()
		db, _ := clients(f, inj, 3)

		rule, _ := inj.Block(fi.DynamoDB, "PutItem")
		done := make(chan error, 1)
		go func() { done <- putItem(ctx, db, "job-1") }()
		if err := rule.WaitHits(ctx, 1); err != nil {
			t.Fatal(err)
		}
		rule.Remove()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})

	t.Run("reset releases", func(t *testing.T) {
		ctx := testCtx(t)
		f := newFakeAWS(t)
		inj := fi.New()
		db, _ := clients(f, inj, 3)

		rule, _ := inj.Block(fi.DynamoDB, "PutItem")
		done := make(chan error, 1)
		go func() { done <- putItem(ctx, db, "job-1") }()
		if err := rule.WaitHits(ctx, 1); err != nil {
			t.Fatal(err)
		}
		inj.Reset()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := inj.Calls("", ""); got != 0 {
			t.Errorf("Calls after Reset = %d, want 0", got)
		}
	})

	t.Run("wait hits honours context", func(t *testing.T) {
		inj := fi.New()
		rule, release := inj.Block(fi.DynamoDB, "PutItem")
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		if err := rule.WaitHits(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitHits = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestRuleOrder(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeAWS(t)
	inj := fi.New()
	db, _ := clients(f, inj, 1)

	// The first failing rule decides; a FailNth after it still counts the
	// call.
	all := inj.FailWhen(fi.DynamoDB, "GetItem", nil, 2, fi.Throttling(fi.DynamoDB))
	nth := inj.FailNth(fi.DynamoDB, "GetItem", 2, fi.ServerError(fi.DynamoDB))
	third := inj.FailNth(fi.DynamoDB, "GetItem", 3, fi.ServerError(fi.DynamoDB))
	codes := []string{}
	for range 4 {
		err := getItem(ctx, db, "job-1")
		var apiErr smithy.APIError
		switch {
		case err == nil:
			codes = append(codes, "ok")
		case errors.As(err, &apiErr):
			codes = append(codes, apiErr.ErrorCode())
		default:
			t.Fatal(err)
		}
	}
	want := []string{"ProvisionedThroughputExceededException", "ProvisionedThroughputExceededException", "InternalServerError", "ok"}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	if all.Hits() != 2 || nth.Hits() != 0 || third.Hits() != 1 {
		t.Errorf("hits %d %d %d, want 2 0 1", all.Hits(), nth.Hits(), third.Hits())
	}
}

func TestInstalledTwiceCountsOnce(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeAWS(t)
	inj, other := fi.New(), fi.New()
	cfg := testConfig(1)
	cfg.APIOptions = append(cfg.APIOptions, inj.Middleware)
	db := dynamodb.NewFromConfig(cfg, inj.DynamoDBOption(), other.DynamoDBOption(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(f.URL)
	})
	if err := getItem(ctx, db, "job-1"); err != nil {
		t.Fatal(err)
	}
	if inj.Calls(fi.DynamoDB, "GetItem") != 1 || inj.Attempts(fi.DynamoDB, "GetItem") != 1 || other.Calls("", "") != 1 {
		t.Errorf("calls %d, attempts %d, other's calls %d; want 1, 1, 1",
			inj.Calls(fi.DynamoDB, "GetItem"), inj.Attempts(fi.DynamoDB, "GetItem"), other.Calls("", ""))
	}
	// Both injectors act.
	other.FailAll("", "", fi.ServerError(fi.DynamoDB))
	if err := getItem(ctx, db, "job-1"); err == nil {
		t.Error("second injector's rule did not apply")
	}
}

func TestInvalidInputIsNotCounted(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeAWS(t)
	inj := fi.New()
	db, _ := clients(f, inj, 1)
	inj.FailAll(fi.DynamoDB, "GetItem", fi.ServerError(fi.DynamoDB))

	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{}) // no table, no key
	var invalid smithy.InvalidParamsError
	if !errors.As(err, &invalid) {
		t.Errorf("got %v, want the SDK's validation error", err)
	}
	if got := inj.Calls("", ""); got != 0 {
		t.Errorf("Calls = %d, want 0", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := testCtx(t)
	f := newFakeAWS(t)
	inj := fi.New()
	db, q := clients(f, inj, 3)

	const workers, perWorker = 8, 25
	nth := inj.FailNth(fi.DynamoDB, "PutItem", 17, fi.ServerError(fi.DynamoDB))
	when := inj.FailWhen(fi.SQS, "SendMessage", nil, 5, fi.ServerError(fi.SQS))
	throttle := inj.FailWhen(fi.DynamoDB, "GetItem", nil, 10, fi.Throttling(fi.DynamoDB)).PerAttempt()
	pause := inj.Pause(fi.DynamoDB, "GetItem", time.Millisecond)

	var putFails, sendFails, getFails atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := range perWorker {
				id := fmt.Sprintf("job-%d-%d", w, n)
				if putItem(ctx, db, id) != nil {
					putFails.Add(1)
				}
				if sendMessage(ctx, q, id) != nil {
					sendFails.Add(1)
				}
				if getItem(ctx, db, id) != nil {
					getFails.Add(1)
				}
				// Rules come and go while calls run.
				r := inj.FailAll(fi.DynamoDB, "DeleteItem", fi.ServerError(fi.DynamoDB))
				_ = r.Hits()
				_ = inj.Calls(fi.DynamoDB, "")
				r.Remove()
			}
		})
	}
	wg.Wait()

	total := workers * perWorker
	if putFails.Load() != 1 || nth.Hits() != 1 {
		t.Errorf("PutItem failures %d, hits %d; want 1, 1", putFails.Load(), nth.Hits())
	}
	if sendFails.Load() != 5 || when.Hits() != 5 {
		t.Errorf("SendMessage failures %d, hits %d; want 5, 5", sendFails.Load(), when.Hits())
	}
	// At most 10 throttled attempts over 3 attempts a call: retried by the
	// SDK, a call fails only if all its 3 attempts were throttled.
	if throttle.Hits() != 10 || getFails.Load() > 3 {
		t.Errorf("throttle hits %d, GetItem failures %d; want 10, at most 3", throttle.Hits(), getFails.Load())
	}
	if got := pause.Hits(); got != total {
		t.Errorf("pause hits %d, want %d", got, total)
	}
	for _, op := range []string{"PutItem", "GetItem"} {
		if got := inj.Calls(fi.DynamoDB, op); got != total {
			t.Errorf("Calls(%s) = %d, want %d", op, got, total)
		}
	}
	if got := inj.Calls(fi.SQS, "SendMessage"); got != total {
		t.Errorf("Calls(SendMessage) = %d, want %d", got, total)
	}
	if got, want := inj.Attempts(fi.DynamoDB, "GetItem"), total+10-int(getFails.Load()); got != want {
		// Each throttled attempt adds an attempt, except the last of a call
		// that failed on all of them.
		t.Errorf("Attempts(GetItem) = %d, want %d", got, want)
	}
	if got := f.received("PutItem"); got != total-1 {
		t.Errorf("server received %d PutItem, want %d", got, total-1)
	}
}
