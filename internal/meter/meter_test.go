package meter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// fakeAWS answers every request with the body that answer gives for its
// X-Amz-Target, and records the request bodies.
func fakeAWS(t *testing.T, answer func(target string) string) (*httptest.Server, *[]string) {
	var bodies []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(data))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, answer(r.Header.Get("X-Amz-Target")))
	}))
	t.Cleanup(server.Close)
	return server, &bodies
}

func awsConfig() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
}

func TestCountsReceivesApartWhenEmpty(t *testing.T) {
	messages := `{"Messages":[{"MessageId":"1","ReceiptHandle":"r","Body":"{}"}]}`
	server, _ := fakeAWS(t, func(string) string { return messages })
	m := New()
	client := sqs.NewFromConfig(awsConfig(), m.SQSOption(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(server.URL) })
	receive := func() {
		if _, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(server.URL + "/q")}); err != nil {
			t.Fatal(err)
		}
	}
	receive()
	messages = `{}`
	receive()
	receive()
	got := m.Snapshot()
	if got["SQS.ReceiveMessage"].Requests != 1 || got["SQS.ReceiveMessage"+EmptySuffix].Requests != 2 {
		t.Fatalf("usage %+v, want 1 receive with a message and 2 empty ones", got)
	}
}

func TestAsksForAndAddsUpConsumedCapacity(t *testing.T) {
	server, bodies := fakeAWS(t, func(target string) string {
		if strings.HasSuffix(target, "TransactWriteItems") {
			return `{"ConsumedCapacity":[{"TableName":"t","CapacityUnits":6}]}`
		}
		return `{"Item":{"pk":{"S":"a"}},"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}`
	})
	m := New()
	client := dynamodb.NewFromConfig(awsConfig(), m.DynamoDBOption(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(server.URL) })
	ctx := context.Background()
	key := map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: "a"}}
	for range 2 {
		if _, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dbtypes.TransactWriteItem{
		{Delete: &dbtypes.Delete{TableName: aws.String("t"), Key: key}},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, body := range *bodies {
		if !strings.Contains(body, `"ReturnConsumedCapacity":"TOTAL"`) {
			t.Errorf("request did not ask for consumed capacity: %s", body)
		}
	}
	usage := m.Snapshot()
	if u := usage["DynamoDB.GetItem"]; u.Requests != 2 || u.ReadCapacity != 1 || u.WriteCapacity != 0 {
		t.Errorf("GetItem usage %+v, want 2 requests, 1 read unit", u)
	}
	if u := usage["DynamoDB.TransactWriteItems"]; u.Requests != 1 || u.WriteCapacity != 6 {
		t.Errorf("TransactWriteItems usage %+v, want 1 request, 6 write units", u)
	}
	var table strings.Builder
	if err := Format(&table, usage); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "DynamoDB.GetItem") || !strings.Contains(table.String(), "total") {
		t.Errorf("table lacks an operation or the total:\n%s", table.String())
	}
}
