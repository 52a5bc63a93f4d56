// Package dynamo is the one home of the DynamoDB retries the SDK cannot do
// itself. The SDK's retryer retries every request that failed in a way that
// heals (throttling, a 5xx, a dropped connection). What it cannot retry is
// here: a transaction cancelled by a conflict on a counter shard, items a
// batch left unprocessed, a write that depends on a read whose item changed
// meanwhile. Each is tried a bounded number of times, with a jittered,
// doubling wait, and gives up when the context ends.
package dynamo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	backoffFirst = 10 * time.Millisecond
	backoffMax   = time.Second
)

// Again calls try until it says it is done, at most tries times, and
// returns its last error. Between tries it waits a jittered backoff.
func Again(ctx context.Context, tries int, try func() (done bool, err error)) error {
	wait := backoffFirst
	for n := 1; ; n++ {
		done, err := try()
		if done || n >= tries {
			return err
		}
		jittered := wait/2 + rand.N(wait/2+1)
		select {
		case <-time.After(jittered):
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return err
		}
		wait = min(2*wait, backoffMax)
	}
}

// BatchTries bounds how often items DynamoDB leaves unprocessed (the table
// is busy) are sent again.
const BatchTries = 6

// BatchWrite writes up to 25 requests to one table, sending again what
// DynamoDB leaves unprocessed.
func BatchWrite(ctx context.Context, db *dynamodb.Client, table string, requests []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{table: requests}
	return Again(ctx, BatchTries, func() (bool, error) {
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return true, err
		}
		pending = out.UnprocessedItems
		if len(pending) > 0 {
			return false, fmt.Errorf("DynamoDB left %d of %d writes unprocessed", len(pending[table]), len(requests))
		}
		return true, nil
	})
}

// BatchGet reads the items of request.Keys from one table, 100 keys a
// request (BatchGetItem's limit), asking again for what DynamoDB leaves
// unprocessed. The items come in no particular order; missing ones are
// left out.
func BatchGet(ctx context.Context, db *dynamodb.Client, table string, request types.KeysAndAttributes) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for chunk := range slices.Chunk(request.Keys, 100) {
		part := request
		part.Keys = chunk
		pending := map[string]types.KeysAndAttributes{table: part}
		err := Again(ctx, BatchTries, func() (bool, error) {
			out, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return true, err
			}
			items = append(items, out.Responses[table]...)
			pending = out.UnprocessedKeys
			if len(pending) > 0 {
				return false, fmt.Errorf("DynamoDB left %d of %d keys unprocessed", len(pending[table].Keys), len(chunk))
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return items, nil
}
