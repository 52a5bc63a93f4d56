// Package meter counts what the system asks of AWS: every DynamoDB and SQS
// request by operation, and the DynamoDB capacity units they consume. It is
// SDK middleware, so business code is unchanged: add Meter.DynamoDBOption
// and Meter.SQSOption to the clients. It asks DynamoDB to report consumed
// capacity (ReturnConsumedCapacity TOTAL), which costs nothing.
package meter

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"text/tabwriter"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
)

// Usage is what one operation cost.
type Usage struct {
	Requests      int
	ReadCapacity  float64
	WriteCapacity float64
}

// Meter accumulates usage by "Service.Operation". Safe for concurrent use.
type Meter struct {
	mu    sync.Mutex
	usage map[string]Usage
}

// New returns an empty Meter.
func New() *Meter { return &Meter{usage: map[string]Usage{}} }

// DynamoDBOption installs the meter on a DynamoDB client.
func (m *Meter) DynamoDBOption() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, m.middleware) }
}

// SQSOption installs the meter on an SQS client.
func (m *Meter) SQSOption() func(*sqs.Options) {
	return func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, m.middleware) }
}

func (m *Meter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("meter", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		askForCapacity(in.Parameters)
		out, md, err := next.HandleInitialize(ctx, in)
		read, write := consumed(out.Result)
		key := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
		if received, ok := out.Result.(*sqs.ReceiveMessageOutput); ok && len(received.Messages) == 0 {
			// An empty receive is pure polling: counted apart, it shows
			// what looking at empty queues costs.
			key += EmptySuffix
		}
		m.mu.Lock()
		u := m.usage[key]
		u.Requests++
		u.ReadCapacity += read
		u.WriteCapacity += write
		m.usage[key] = u
		m.mu.Unlock()
		return out, md, err
	}), middleware.After)
}

// EmptySuffix marks the key of SQS receives that returned no message.
const EmptySuffix = " (empty)"

// Snapshot returns the usage so far, by operation.
func (m *Meter) Snapshot() map[string]Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Usage, len(m.usage))
	for k, v := range m.usage {
		out[k] = v
	}
	return out
}

// Reset forgets the usage so far.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage = map[string]Usage{}
}

// Total sums usage over operations.
func Total(usage map[string]Usage) Usage {
	var t Usage
	for _, u := range usage {
		t.Requests += u.Requests
		t.ReadCapacity += u.ReadCapacity
		t.WriteCapacity += u.WriteCapacity
	}
	return t
}

// Operations lists the operations of a snapshot, sorted.
func Operations(usage map[string]Usage) []string {
	ops := make([]string, 0, len(usage))
	for op := range usage {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// Format writes usage as an aligned table, one operation a line, then the total.
func Format(w io.Writer, usage map[string]Usage) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "operation\trequests\tread units\twrite units")
	for _, op := range Operations(usage) {
		u := usage[op]
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\n", op, u.Requests, u.ReadCapacity, u.WriteCapacity)
	}
	t := Total(usage)
	fmt.Fprintf(tw, "total\t%d\t%.1f\t%.1f\n", t.Requests, t.ReadCapacity, t.WriteCapacity)
	return tw.Flush()
}

func askForCapacity(params any) {
	total := types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = total
	}
}

// consumed reads the capacity an output reports: reads count for reading
// operations, writes for writing ones (DynamoDB reports CapacityUnits).
func consumed(result any) (read, write float64) {
	units := func(cs ...types.ConsumedCapacity) (sum float64) {
		for _, c := range cs {
			if c.CapacityUnits != nil {
				sum += *c.CapacityUnits
			}
		}
		return sum
	}
	one := func(c *types.ConsumedCapacity) []types.ConsumedCapacity {
		if c == nil {
			return nil
		}
		return []types.ConsumedCapacity{*c}
	}
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		return units(one(out.ConsumedCapacity)...), 0
	case *dynamodb.QueryOutput:
		return units(one(out.ConsumedCapacity)...), 0
	case *dynamodb.ScanOutput:
		return units(one(out.ConsumedCapacity)...), 0
	case *dynamodb.BatchGetItemOutput:
		return units(out.ConsumedCapacity...), 0
	case *dynamodb.TransactGetItemsOutput:
		return units(out.ConsumedCapacity...), 0
	case *dynamodb.PutItemOutput:
		return 0, units(one(out.ConsumedCapacity)...)
	case *dynamodb.UpdateItemOutput:
		return 0, units(one(out.ConsumedCapacity)...)
	case *dynamodb.DeleteItemOutput:
		return 0, units(one(out.ConsumedCapacity)...)
	case *dynamodb.BatchWriteItemOutput:
		return 0, units(out.ConsumedCapacity...)
	case *dynamodb.TransactWriteItemsOutput:
		return 0, units(out.ConsumedCapacity...)
	}
	return 0, 0
}
