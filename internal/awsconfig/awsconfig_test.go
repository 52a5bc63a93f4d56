package awsconfig

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// A DynamoDB endpoint that accepts the connection and never answers fails
// the call once the connection stays silent past the read timeout, instead
// of holding the caller until its context ends.
func TestASilentDynamoDBConnectionFailsTheCall(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() }) // accepted, read never answered
		}
	}()
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  awshttp.NewBuildableClient(),
	}
	db := dynamodb.NewFromConfig(cfg, withReadTimeout(200*time.Millisecond), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://" + listener.Addr().String())
		o.RetryMaxAttempts = 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = db.ListTables(ctx, &dynamodb.ListTablesInput{})
	var timeout *awshttp.ResponseTimeoutError
	if ctx.Err() != nil || err == nil {
		t.Fatalf("call on a silent connection: %v (context %v), want a read timeout", err, ctx.Err())
	}
	if !errors.As(err, &timeout) {
		t.Errorf("call on a silent connection failed with %v, want a read timeout", err)
	}
}
