package dynamoproxy

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type rawAnswer struct {
	status int
	header http.Header
	body   string
}

func rawCall(t *testing.T, base, method, target, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, base+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", jsonContentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", targetPrefix+target)
	}
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/"+now.Format("20060102")+"/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawAnswer{resp.StatusCode, resp.Header, string(b)}
}

func TestForwardsOtherOperationsUnchanged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	e.put(t, tbl, item("job", "a", "state", s("queued")))

	tests := []struct {
		name, method, target, body string
		wantStatus                 int
	}{
		{"DescribeTable", http.MethodPost, "DescribeTable", `{"TableName":"` + tbl + `"}`, 200},
		{"GetItem", http.MethodPost, "GetItem", `{"TableName":"` + tbl + `","Key":{"pk":{"S":"job"},"sk":{"S":"a"}}}`, 200},
		{"Query", http.MethodPost, "Query", `{"TableName":"` + tbl + `","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"job"}}}`, 200},
		{"missing table", http.MethodPost, "GetItem", `{"TableName":"` + tbl + `_missing","Key":{"pk":{"S":"job"},"sk":{"S":"a"}}}`, 400},
		{"validation error", http.MethodPost, "PutItem", `{"TableName":"` + tbl + `","Item":{"pk":{"S":"job"}}}`, 400},
		{"unknown operation", http.MethodPost, "NoSuchOperation", `{}`, 400},
		{"health check", http.MethodGet, "", ``, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			direct := rawCall(t, dynalite(t), tc.method, tc.target, tc.body)
			proxied := rawCall(t, e.url, tc.method, tc.target, tc.body)
			if direct.status != tc.wantStatus {
				t.Fatalf("dynalite answered %d %s, want %d", direct.status, direct.body, tc.wantStatus)
			}
			if proxied.status != direct.status || proxied.body != direct.body {
				t.Errorf("proxy answered %d %s\ndynalite answered %d %s", proxied.status, proxied.body, direct.status, direct.body)
			}
			for _, h := range []string{"Content-Type", "X-Amz-Crc32", "Content-Length"} {
				if proxied.header.Get(h) != direct.header.Get(h) {
					t.Errorf("header %s: proxy %q, dynalite %q", h, proxied.header.Get(h), direct.header.Get(h))
				}
			}
			if proxied.header.Get("X-Amzn-Requestid") == "" {
				t.Errorf("request id header not forwarded")
			}
			if crc := proxied.header.Get("X-Amz-Crc32"); crc != strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(proxied.body))), 10) {
				t.Errorf("X-Amz-Crc32 %s does not match the body", crc)
			}
		})
	}
}

func TestGeneratedAnswersCarryChecksum(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	for _, tc := range []struct{ target, body string }{
		{"DescribeTimeToLive", `{"TableName":"` + tbl + `"}`},
		{"TransactWriteItems", `{"TransactItems":[]}`},
		{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"` + tbl + `","Key":{"pk":{"S":"a"},"sk":{"S":"b"}}}}]}`},
	} {
		a := rawCall(t, e.url, http.MethodPost, tc.target, tc.body)
		if crc := a.header.Get("X-Amz-Crc32"); crc != strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(a.body))), 10) {
			t.Errorf("%s: X-Amz-Crc32 %q does not match body %s", tc.target, crc, a.body)
		}
		if ct := a.header.Get("Content-Type"); ct != jsonContentType {
			t.Errorf("%s: Content-Type %q", tc.target, ct)
		}
	}
}

func TestSDKOperationsThroughProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	e.put(t, tbl, item("job", "a", "state", s("queued")))

	_, err := e.client.PutItem(ctx(t), &dynamodb.PutItemInput{
		TableName:           aws.String(tbl),
		Item:                item("job", "a", "state", s("other")),
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional put: err = %v, want ConditionalCheckFailedException", err)
	}
	out, err := e.client.Query(ctx(t), &dynamodb.QueryInput{
		TableName:                 aws.String(tbl),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("job")},
	})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if out.Count != 1 || strAttr(out.Items[0], "state") != "queued" {
		t.Errorf("Query = %+v", out.Items)
	}
}

// Clients give up on calls all the time (a cancelled context, a closed
// connection). dynalite throws, and exits, when a request it is reading is
// cut off, so the proxy must never pass a client's abort on.
func TestClientsThatGiveUpDoNotTakeDynaliteDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	host := strings.TrimPrefix(e.url, "http://")
	for i := range 20 {
		// Headers promise a body that never fully arrives.
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nX-Amz-Target: %sQuery\r\nContent-Length: 1000\r\n\r\n{\"TableName\":", host, jsonContentType, targetPrefix)
		conn.Close()
		// A call whose context ends while dynalite works on it.
		cctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*time.Millisecond)
		_, _ = e.client.Scan(cctx, &dynamodb.ScanInput{TableName: aws.String(tbl)})
		cancel()
	}
	time.Sleep(200 * time.Millisecond) // let dynalite finish what it was sent
	e.put(t, tbl, item("job", "still-here", "state", s("ok")))
	if got := e.get(t, tbl, "job", "still-here"); strAttr(got, "state") != "ok" {
		t.Fatalf("dynalite no longer answers after clients gave up: %v", got)
	}
}
