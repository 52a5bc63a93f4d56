package faultinject_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/faultinject"
)

// fakeAWS answers just enough of the DynamoDB and SQS JSON protocols for the
// SDK clients to succeed, and counts the requests that reach it.
type fakeAWS struct {
	*httptest.Server

	mu       sync.Mutex
	requests map[string]int    // by operation name
	errors   map[string]string // operation name -> error body to answer with (HTTP 400)
}

func newFakeAWS(t testing.TB) *fakeAWS {
	t.Helper()
	f := &fakeAWS{requests: map[string]int{}, errors: map[string]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	// X-Amz-Target is "DynamoDB_20120810.GetItem" or "AmazonSQS.SendMessage".
	target := r.Header.Get("X-Amz-Target")
	_, op, ok := strings.Cut(target, ".")
	if !ok {
		http.Error(w, "no X-Amz-Target", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests[op]++
	errBody := f.errors[op]
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("fake-%s", op))
	if errBody != "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, errBody)
		return
	}
	switch op {
	case "SendMessage":
		var in struct{ MessageBody string }
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := md5.Sum([]byte(in.MessageBody))
		_ = json.NewEncoder(w).Encode(map[string]string{
			"MessageId":        "5fea7756-0ea4-451a-a703-a558b933e274",
			"MD5OfMessageBody": hex.EncodeToString(sum[:]),
		})
	default:
		_, _ = io.WriteString(w, "{}")
	}
}

// received reports how many requests for the operation reached the server.
func (f *fakeAWS) received(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[op]
}

// failWith makes the server answer every request for op with HTTP 400 and
// the given JSON error body.
func (f *fakeAWS) failWith(op, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors[op] = body
}

// testConfig is the aws.Config of the tests' clients: static credentials, the
// SDK's buildable HTTP client, and a standard retryer making at most
// maxAttempts attempts with no backoff and no retry quota.
func testConfig(maxAttempts int) aws.Config {
	return aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:  awshttp.NewBuildableClient(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// clients returns DynamoDB and SQS clients talking to f, with inj installed.
func clients(f *fakeAWS, inj *faultinject.Injector, maxAttempts int) (*dynamodb.Client, *sqs.Client) {
	cfg := testConfig(maxAttempts)
	db := dynamodb.NewFromConfig(cfg, inj.DynamoDBOption(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(f.URL)
	})
	q := sqs.NewFromConfig(cfg, inj.SQSOption(), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(f.URL)
	})
	return db, q
}

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
