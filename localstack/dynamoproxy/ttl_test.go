package dynamoproxy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestTimeToLiveSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)

	describe := func() *types.TimeToLiveDescription {
		t.Helper()
		out, err := e.client.DescribeTimeToLive(ctx(t), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tbl)})
		if err != nil {
			t.Fatalf("DescribeTimeToLive: %v", err)
		}
		return out.TimeToLiveDescription
	}
	update := func(enabled bool) (*dynamodb.UpdateTimeToLiveOutput, error) {
		return e.client.UpdateTimeToLive(ctx(t), &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(tbl),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires_at"), Enabled: aws.Bool(enabled)},
		})
	}

	if d := describe(); d.TimeToLiveStatus != types.TimeToLiveStatusDisabled || d.AttributeName != nil {
		t.Errorf("new table: %+v, want DISABLED without attribute", d)
	}
	out, err := update(true)
	if err != nil {
		t.Fatalf("enable: %v", err)
	}
	if spec := out.TimeToLiveSpecification; aws.ToString(spec.AttributeName) != "expires_at" || !aws.ToBool(spec.Enabled) {
		t.Errorf("enable answered %+v", spec)
	}
	if d := describe(); d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expires_at" {
		t.Errorf("after enable: %+v, want ENABLED on expires_at", d)
	}
	if _, err := update(true); errorCode(err) != "ValidationException" || !strings.Contains(err.Error(), "already enabled") {
		t.Errorf("enable twice: err = %v, want ValidationException (as AWS)", err)
	}
	if _, err := update(false); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if d := describe(); d.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
		t.Errorf("after disable: %+v", d)
	}

	_, err = e.client.DescribeTimeToLive(ctx(t), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tbl + "_missing")})
	if code := errorCode(err); code != "ResourceNotFoundException" {
		t.Errorf("describe unknown table: err = %v, want ResourceNotFoundException", err)
	}
	_, err = e.client.UpdateTimeToLive(ctx(t), &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(tbl + "_missing"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("x"), Enabled: aws.Bool(true)},
	})
	if code := errorCode(err); code != "ResourceNotFoundException" {
		t.Errorf("update unknown table: err = %v, want ResourceNotFoundException", err)
	}

	// Deleting the table through the proxy forgets its TTL setting.
	if _, err := update(true); err != nil {
		t.Fatalf("enable again: %v", err)
	}
	if _, err := e.client.DeleteTable(ctx(t), &dynamodb.DeleteTableInput{TableName: aws.String(tbl)}); err != nil {
		t.Fatalf("DeleteTable: %v", err)
	}
	if _, ok := e.proxy.ttl.get(tbl); ok {
		t.Errorf("TTL setting of a deleted table kept")
	}
}

func TestTimeToLiveDeletesExpiredItems(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{TTLInterval: 50 * time.Millisecond})
	tbl := e.newTable(t)
	runCtx, stop := context.WithCancel(context.Background())
	var running sync.WaitGroup
	running.Add(1)
	go func() { defer running.Done(); e.proxy.Run(runCtx) }()
	t.Cleanup(func() { stop(); running.Wait() })

	now := time.Now().Unix()
	epoch := func(d int64) types.AttributeValue { return n(fmt.Sprint(now + d)) }
	items := map[string]struct {
		item    map[string]types.AttributeValue
		expires bool
	}{
		"expired":        {item("job", "expired", "expires_at", epoch(-60)), true},
		"just-expired":   {item("job", "just-expired", "expires_at", epoch(-1)), true},
		"future":         {item("job", "future", "expires_at", epoch(3600)), false},
		"no-ttl":         {item("job", "no-ttl"), false},
		"string-ttl":     {item("job", "string-ttl", "expires_at", s("1")), false},
		"ancient-number": {item("job", "ancient-number", "expires_at", n("5")), false},
	}
	for _, it := range items {
		e.put(t, tbl, it.item)
	}
	// Nothing is deleted while TTL is off.
	time.Sleep(200 * time.Millisecond)
	if e.get(t, tbl, "job", "expired") == nil {
		t.Fatal("item deleted before TTL was enabled")
	}

	if _, err := e.client.UpdateTimeToLive(ctx(t), &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(tbl),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires_at"), Enabled: aws.Bool(true)},
	}); err != nil {
		t.Fatalf("UpdateTimeToLive: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.get(t, tbl, "job", "expired") != nil || e.get(t, tbl, "job", "just-expired") != nil {
		if time.Now().After(deadline) {
			t.Fatal("expired items not deleted within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Give the loop a few more rounds to make sure survivors survive.
	time.Sleep(200 * time.Millisecond)
	for sk, it := range items {
		if got := e.get(t, tbl, "job", sk); (got == nil) != it.expires {
			t.Errorf("item %s: present=%v, want expired=%v", sk, got != nil, it.expires)
		}
	}
}

func TestSweepExpiredPaginates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	// dynalite pages scans at 1 MB; 1,500 items of ~1 KB need two pages.
	pad := s(strings.Repeat("x", 1000))
	past := n(fmt.Sprint(time.Now().Unix() - 10))
	var requests []types.WriteRequest
	flush := func() {
		if len(requests) == 0 {
			return
		}
		if _, err := e.direct.BatchWriteItem(ctx(t), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{tbl: requests}}); err != nil {
			t.Fatalf("BatchWriteItem: %v", err)
		}
		requests = nil
	}
	const total = 1500
	for i := 0; i < total; i++ {
		requests = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: item("job", fmt.Sprintf("%05d", i), "expires_at", past, "pad", pad)}})
		if len(requests) == 25 {
			flush()
		}
	}
	flush()
	e.proxy.ttl.set(tbl, "expires_at")
	got, err := e.proxy.SweepExpired(ctx(t))
	if err != nil {
		t.Fatalf("SweepExpired: %v", err)
	}
	if got != total {
		t.Errorf("deleted %d items, want %d", got, total)
	}
	out, err := e.direct.Scan(ctx(t), &dynamodb.ScanInput{TableName: aws.String(tbl), Select: types.SelectCount})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if out.Count != 0 {
		t.Errorf("%d items left", out.Count)
	}
}
