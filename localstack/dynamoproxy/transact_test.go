package dynamoproxy

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestTransactWriteCommitsAllActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	e.put(t, tbl, item("job", "counter", "n", n("1")))
	e.put(t, tbl, item("job", "old", "status", s("done")))
	e.put(t, tbl, item("job", "gate", "open", &types.AttributeValueMemberBOOL{Value: true}))

	out, err := e.client.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName:           aws.String(tbl),
				Item:                item("job", "new", "status", s("queued")),
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}},
			{Update: &types.Update{
				TableName:                 aws.String(tbl),
				Key:                       key("job", "counter"),
				UpdateExpression:          aws.String("SET #n = #n + :one"),
				ConditionExpression:       aws.String("#n = :cur"),
				ExpressionAttributeNames:  map[string]string{"#n": "n"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1"), ":cur": n("1")},
			}},
			{Delete: &types.Delete{
				TableName:                 aws.String(tbl),
				Key:                       key("job", "old"),
				ConditionExpression:       aws.String("#s = :done"),
				ExpressionAttributeNames:  map[string]string{"#s": "status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":done": s("done")},
			}},
			{ConditionCheck: &types.ConditionCheck{
				TableName:                 aws.String(tbl),
				Key:                       key("job", "gate"),
				ConditionExpression:       aws.String("#o = :t"),
				ExpressionAttributeNames:  map[string]string{"#o": "open"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
			}},
		},
	})
	if err != nil {
		t.Fatalf("TransactWriteItems: %v", err)
	}
	if got := strAttr(e.get(t, tbl, "job", "new"), "status"); got != "queued" {
		t.Errorf("put item status = %q, want queued", got)
	}
	if got := numAttr(t, e.get(t, tbl, "job", "counter"), "n"); got != "2" {
		t.Errorf("counter = %s, want 2", got)
	}
	if it := e.get(t, tbl, "job", "old"); it != nil {
		t.Errorf("deleted item still there: %v", it)
	}
	if e.get(t, tbl, "job", "gate") == nil {
		t.Errorf("condition-checked item disappeared")
	}
	if len(out.ConsumedCapacity) != 1 || aws.ToString(out.ConsumedCapacity[0].TableName) != tbl ||
		aws.ToFloat64(out.ConsumedCapacity[0].CapacityUnits) != 8 || aws.ToFloat64(out.ConsumedCapacity[0].WriteCapacityUnits) != 8 {
		t.Errorf("ConsumedCapacity = %+v, want one entry for %s with 8 write units", out.ConsumedCapacity, tbl)
	}
}

func TestTransactWriteConditionFailureCancelsEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	e.put(t, tbl, item("job", "a", "state", s("running"), "n", n("5")))

	tests := []struct {
		name       string
		second     types.TransactWriteItem
		wantItem   bool // the reason carries the old item
		secondKey  [2]string
		wantSecond map[string]types.AttributeValue // item after the cancelled tx
	}{
		{
			name: "update condition on existing item, ALL_OLD",
			second: types.TransactWriteItem{Update: &types.Update{
				TableName:                           aws.String(tbl),
				Key:                                 key("job", "a"),
				UpdateExpression:                    aws.String("SET #st = :new"),
				ConditionExpression:                 aws.String("#st = :want"),
				ExpressionAttributeNames:            map[string]string{"#st": "state"},
				ExpressionAttributeValues:           map[string]types.AttributeValue{":new": s("done"), ":want": s("queued")},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			wantItem:   true,
			secondKey:  [2]string{"job", "a"},
			wantSecond: item("job", "a", "state", s("running"), "n", n("5")),
		},
		{
			name: "condition check on missing item",
			second: types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName:                           aws.String(tbl),
				Key:                                 key("job", "missing"),
				ConditionExpression:                 aws.String("attribute_exists(pk)"),
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			secondKey: [2]string{"job", "missing"},
		},
		{
			name: "put must not overwrite, no old item requested",
			second: types.TransactWriteItem{Put: &types.Put{
				TableName:           aws.String(tbl),
				Item:                item("job", "a", "state", s("clobbered")),
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}},
			secondKey:  [2]string{"job", "a"},
			wantSecond: item("job", "a", "state", s("running"), "n", n("5")),
		},
		{
			name: "delete with failing condition",
			second: types.TransactWriteItem{Delete: &types.Delete{
				TableName:                 aws.String(tbl),
				Key:                       key("job", "a"),
				ConditionExpression:       aws.String("n > :ten"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":ten": n("10")},
			}},
			secondKey:  [2]string{"job", "a"},
			wantSecond: item("job", "a", "state", s("running"), "n", n("5")),
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Subtests share the table, so they run one after the other.
			firstSK := fmt.Sprintf("first-%d", i)
			_, err := e.client.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{
				TransactItems: []types.TransactWriteItem{
					{Put: &types.Put{TableName: aws.String(tbl), Item: item("job", firstSK, "state", s("queued"))}},
					tc.second,
				},
			})
			var tce *types.TransactionCanceledException
			if !errors.As(err, &tce) {
				t.Fatalf("err = %v (%T), want *types.TransactionCanceledException", err, err)
			}
			if msg := tce.ErrorMessage(); !strings.Contains(msg, "[None, ConditionalCheckFailed]") {
				t.Errorf("message = %q, want the reasons listed", msg)
			}
			r := tce.CancellationReasons
			if len(r) != 2 || aws.ToString(r[0].Code) != "None" || aws.ToString(r[1].Code) != "ConditionalCheckFailed" {
				t.Fatalf("reasons = %+v, want [None, ConditionalCheckFailed]", r)
			}
			if r[0].Message != nil || r[0].Item != nil {
				t.Errorf("reason 0 = %+v, want only Code None", r[0])
			}
			if got := aws.ToString(r[1].Message); got != "The conditional request failed" {
				t.Errorf("reason 1 message = %q", got)
			}
			if tc.wantItem {
				if !reflect.DeepEqual(r[1].Item, tc.wantSecond) {
					t.Errorf("reason 1 item = %#v, want %#v", r[1].Item, tc.wantSecond)
				}
			} else if r[1].Item != nil {
				t.Errorf("reason 1 item = %#v, want none", r[1].Item)
			}
			if it := e.get(t, tbl, "job", firstSK); it != nil {
				t.Errorf("first action applied despite cancellation: %v", it)
			}
			if got := e.get(t, tbl, tc.secondKey[0], tc.secondKey[1]); !reflect.DeepEqual(got, tc.wantSecond) {
				t.Errorf("second item = %#v, want %#v", got, tc.wantSecond)
			}
		})
	}
}

func TestTransactWriteRollsBackWhenALaterActionFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	before := map[string]map[string]types.AttributeValue{
		"updated": item("job", "updated", "n", n("1")),
		"deleted": item("job", "deleted", "n", n("2")),
		"bad":     item("job", "bad", "n", n("3")),
	}
	for _, it := range before {
		e.put(t, tbl, it)
	}

	_, err := e.client.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(tbl), Item: item("job", "created", "n", n("0"))}},
			{Update: &types.Update{
				TableName:                 aws.String(tbl),
				Key:                       key("job", "updated"),
				UpdateExpression:          aws.String("SET n = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": n("100")},
			}},
			{Delete: &types.Delete{TableName: aws.String(tbl), Key: key("job", "deleted")}},
			// Key attributes cannot be updated: dynalite rejects this action
			// only when it is applied, after the three above.
			{Update: &types.Update{
				TableName:                 aws.String(tbl),
				Key:                       key("job", "bad"),
				UpdateExpression:          aws.String("SET sk = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("other")},
			}},
		},
	})
	if code := errorCode(err); code != "ValidationException" {
		t.Fatalf("err = %v, want ValidationException", err)
	}
	if it := e.get(t, tbl, "job", "created"); it != nil {
		t.Errorf("created item survived the rollback: %v", it)
	}
	for sk, want := range before {
		if got := e.get(t, tbl, "job", sk); !reflect.DeepEqual(got, want) {
			t.Errorf("item %s = %#v, want restored %#v", sk, got, want)
		}
	}
}

func TestTransactWriteValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)

	put := func(pk, sk string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(tbl), Item: item(pk, sk)}}
	}
	var tooMany []types.TransactWriteItem
	for i := 0; i <= maxTransactItems; i++ {
		tooMany = append(tooMany, put("job", fmt.Sprint(i)))
	}
	tests := []struct {
		name     string
		items    []types.TransactWriteItem
		wantCode string
		wantMsg  string
	}{
		{
			name:     "two actions on one item",
			items:    []types.TransactWriteItem{put("job", "x"), {Delete: &types.Delete{TableName: aws.String(tbl), Key: key("job", "x")}}},
			wantCode: "ValidationException",
			wantMsg:  "Transaction request cannot include multiple operations on one item",
		},
		{
			name:     "more than 100 actions",
			items:    tooMany,
			wantCode: "ValidationException",
			wantMsg:  "less than or equal to 100",
		},
		{
			name:     "put without the sort key",
			items:    []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(tbl), Item: map[string]types.AttributeValue{"pk": s("job")}}}},
			wantCode: "ValidationException",
			wantMsg:  "Missing the key sk",
		},
		{
			name:     "key with extra attribute",
			items:    []types.TransactWriteItem{{Delete: &types.Delete{TableName: aws.String(tbl), Key: item("job", "x", "n", n("1"))}}},
			wantCode: "ValidationException",
			wantMsg:  "does not match the schema",
		},
		{
			name:     "unknown table",
			items:    []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(tbl + "_missing"), Item: item("job", "x")}}},
			wantCode: "ResourceNotFoundException",
		},
		{
			name: "invalid condition expression",
			items: []types.TransactWriteItem{put("job", "y"), {ConditionCheck: &types.ConditionCheck{
				TableName: aws.String(tbl), Key: key("job", "z"), ConditionExpression: aws.String("attribute_exists("),
			}}},
			wantCode: "ValidationException",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.client.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{TransactItems: tc.items})
			if code := errorCode(err); code != tc.wantCode {
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantMsg)
			}
		})
	}
	t.Cleanup(func() {
		for _, sk := range []string{"x", "y", "0"} {
			if it := e.get(t, tbl, "job", sk); it != nil {
				t.Errorf("rejected transaction wrote item %s: %v", sk, it)
			}
		}
	})
}

func TestTransactWriteNumericKeysAreCompared(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := fmt.Sprintf("num_%d", tableSeq.Add(1))
	_, err := e.client.CreateTable(ctx(t), &dynamodb.CreateTableInput{
		TableName:            aws.String(tbl),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeN}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	e.waitActive(t, tbl)
	_, err = e.client.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(tbl), Item: map[string]types.AttributeValue{"id": n("1")}}},
		{Delete: &types.Delete{TableName: aws.String(tbl), Key: map[string]types.AttributeValue{"id": n("1.0")}}},
	}})
	if !strings.Contains(fmt.Sprint(err), "multiple operations on one item") {
		t.Fatalf("err = %v, want the duplicate-item ValidationException (1 and 1.0 are one key)", err)
	}
}

// TestTransactionsAreIsolated runs many conditional transactions at once,
// each adding one to three counters, while readers check that the counters
// never differ: a reader that saw one counter incremented and another not
// would have seen half a transaction.
func TestTransactionsAreIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	counters := []string{"c1", "c2", "c3"}
	for _, c := range counters {
		e.put(t, tbl, item("ctr", c, "n", n("0")))
	}
	e.put(t, tbl, item("ctr", "gate", "open", &types.AttributeValueMemberBOOL{Value: true}))

	const workers, perWorker = 20, 10
	txItems := func() []types.TransactWriteItem {
		var items []types.TransactWriteItem
		for _, c := range counters {
			items = append(items, types.TransactWriteItem{Update: &types.Update{
				TableName:                 aws.String(tbl),
				Key:                       key("ctr", c),
				UpdateExpression:          aws.String("ADD n :one"),
				ConditionExpression:       aws.String("attribute_exists(pk) AND n < :max"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1"), ":max": n("1000000")},
			}})
		}
		return append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName:                 aws.String(tbl),
			Key:                       key("ctr", "gate"),
			ConditionExpression:       aws.String("#o = :t"),
			ExpressionAttributeNames:  map[string]string{"#o": "open"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		}})
	}

	done := make(chan struct{})
	var readers sync.WaitGroup
	var reads, errs sync.Map
	readers.Add(2)
	go func() { // BatchGetItem is forwarded to dynalite as one request.
		defer readers.Done()
		var keys []map[string]types.AttributeValue
		for _, c := range counters {
			keys = append(keys, key("ctr", c))
		}
		for i := 0; ; i++ {
			select {
			case <-done:
				reads.Store("batch", i)
				return
			default:
			}
			out, err := e.client.BatchGetItem(ctx(t), &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				tbl: {Keys: keys, ConsistentRead: aws.Bool(true)},
			}})
			if err != nil {
				errs.Store("batch", err)
				return
			}
			if err := sameCounters(out.Responses[tbl]); err != nil {
				errs.Store("batch", err)
				return
			}
		}
	}()
	go func() {
		defer readers.Done()
		var gets []types.TransactGetItem
		for _, c := range counters {
			gets = append(gets, types.TransactGetItem{Get: &types.Get{TableName: aws.String(tbl), Key: key("ctr", c)}})
		}
		for i := 0; ; i++ {
			select {
			case <-done:
				reads.Store("transact", i)
				return
			default:
			}
			out, err := e.client.TransactGetItems(ctx(t), &dynamodb.TransactGetItemsInput{TransactItems: gets})
			if err != nil {
				errs.Store("transact", err)
				return
			}
			var items []map[string]types.AttributeValue
			for _, r := range out.Responses {
				items = append(items, r.Item)
			}
			if err := sameCounters(items); err != nil {
				errs.Store("transact", err)
				return
			}
		}
	}()

	var writers sync.WaitGroup
	for w := 0; w < workers; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; i < perWorker; i++ {
				if _, err := e.client.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{TransactItems: txItems()}); err != nil {
					errs.Store(fmt.Sprintf("writer %d", w), err)
					return
				}
			}
		}()
	}
	writers.Wait()
	close(done)
	readers.Wait()

	errs.Range(func(k, v any) bool {
		t.Errorf("%v: %v", k, v)
		return true
	})
	for _, c := range counters {
		if got := numAttr(t, e.get(t, tbl, "ctr", c), "n"); got != fmt.Sprint(workers*perWorker) {
			t.Errorf("counter %s = %s, want %d", c, got, workers*perWorker)
		}
	}
	reads.Range(func(k, v any) bool {
		t.Logf("%s reader: %v consistent reads during the writes", k, v)
		return true
	})
}

func sameCounters(items []map[string]types.AttributeValue) error {
	if len(items) != 3 {
		return fmt.Errorf("read %d counters, want 3", len(items))
	}
	var first string
	for i, it := range items {
		v, ok := it["n"].(*types.AttributeValueMemberN)
		if !ok {
			return fmt.Errorf("counter without n: %v", it)
		}
		if i == 0 {
			first = v.Value
		} else if v.Value != first {
			return fmt.Errorf("saw a partial transaction: counters %s and %s", first, v.Value)
		}
	}
	return nil
}

func TestTransactGetItems(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	e.put(t, tbl, item("job", "a", "state", s("queued"), "size", n("7"), "owner", s("x")))
	e.put(t, tbl, item("job", "b", "state", s("done")))

	out, err := e.client.TransactGetItems(ctx(t), &dynamodb.TransactGetItemsInput{
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		TransactItems: []types.TransactGetItem{
			{Get: &types.Get{TableName: aws.String(tbl), Key: key("job", "a"),
				ProjectionExpression:     aws.String("#s, #z"),
				ExpressionAttributeNames: map[string]string{"#s": "state", "#z": "size"}}},
			{Get: &types.Get{TableName: aws.String(tbl), Key: key("job", "missing")}},
			{Get: &types.Get{TableName: aws.String(tbl), Key: key("job", "b")}},
		},
	})
	if err != nil {
		t.Fatalf("TransactGetItems: %v", err)
	}
	want := []map[string]types.AttributeValue{
		{"state": s("queued"), "size": n("7")},
		nil,
		item("job", "b", "state", s("done")),
	}
	if len(out.Responses) != len(want) {
		t.Fatalf("got %d responses, want %d", len(out.Responses), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(out.Responses[i].Item, want[i]) {
			t.Errorf("response %d = %#v, want %#v", i, out.Responses[i].Item, want[i])
		}
	}
	if len(out.ConsumedCapacity) != 1 || aws.ToFloat64(out.ConsumedCapacity[0].ReadCapacityUnits) != 6 {
		t.Errorf("ConsumedCapacity = %+v, want 6 read units", out.ConsumedCapacity)
	}

	_, err = e.client.TransactGetItems(ctx(t), &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String(tbl + "_missing"), Key: key("job", "a")}},
	}})
	if code := errorCode(err); code != "ResourceNotFoundException" {
		t.Errorf("unknown table: err = %v, want ResourceNotFoundException", err)
	}
}

func TestTransactWriteIdempotencyToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tbl := e.newTable(t)
	e.put(t, tbl, item("job", "a", "n", n("0")))

	add := func(token, amount string) error {
		_, err := e.client.TransactWriteItems(ctx(t), &dynamodb.TransactWriteItemsInput{
			ClientRequestToken: aws.String(token),
			TransactItems: []types.TransactWriteItem{{Update: &types.Update{
				TableName:                 aws.String(tbl),
				Key:                       key("job", "a"),
				UpdateExpression:          aws.String("ADD n :d"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":d": n(amount)},
			}}},
		})
		return err
	}
	if err := add("token-1", "1"); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if err := add("token-1", "1"); err != nil {
		t.Fatalf("repeated call: %v", err)
	}
	if got := numAttr(t, e.get(t, tbl, "job", "a"), "n"); got != "1" {
		t.Errorf("n = %s after a repeated token, want 1 (applied once)", got)
	}
	err := add("token-1", "5")
	var mismatch *types.IdempotentParameterMismatchException
	if !errors.As(err, &mismatch) {
		t.Errorf("same token, other request: err = %v, want IdempotentParameterMismatchException", err)
	}
	if err := add("token-2", "1"); err != nil {
		t.Fatalf("new token: %v", err)
	}
	if got := numAttr(t, e.get(t, tbl, "job", "a"), "n"); got != "2" {
		t.Errorf("n = %s, want 2", got)
	}
}

func TestTransactWriteIdempotencyWindowExpires(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	e := newEnv(t, Config{Now: now})
	tbl := e.newTable(t)
	e.put(t, tbl, item("job", "a", "n", n("0")))

	in := &dynamodb.TransactWriteItemsInput{
		ClientRequestToken: aws.String("token-window"),
		TransactItems: []types.TransactWriteItem{{Update: &types.Update{
			TableName:                 aws.String(tbl),
			Key:                       key("job", "a"),
			UpdateExpression:          aws.String("ADD n :d"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": n("1")},
		}}},
	}
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{
		{0, "1"},               // applied
		{9 * time.Minute, "1"}, // still remembered
		{2 * time.Minute, "2"}, // 11 minutes later: forgotten, applied again
		{time.Minute, "2"},     // remembered again from the second application
	} {
		advance(step.advance)
		if _, err := e.client.TransactWriteItems(ctx(t), in); err != nil {
			t.Fatalf("TransactWriteItems: %v", err)
		}
		if got := numAttr(t, e.get(t, tbl, "job", "a"), "n"); got != step.want {
			t.Errorf("after +%v: n = %s, want %s", step.advance, got, step.want)
		}
	}
}
