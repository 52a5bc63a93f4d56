package jobtable

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/dynamo"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// LogEntry is one line of a job's log: something its handler logged, or a
// lifecycle event (Event names it: created, claimed, resumed, progress,
// checkpoint, retry_scheduled, continued, completed, failed, cancelled…).
type LogEntry struct {
	At      job.Time          `json:"at" dynamodbav:"-"`
	Level   string            `json:"level" dynamodbav:"level"`
	Event   string            `json:"event,omitempty" dynamodbav:"event,omitempty"`
	Message string            `json:"message" dynamodbav:"message"`
	Attempt int               `json:"attempt" dynamodbav:"attempt"`
	Worker  string            `json:"worker,omitempty" dynamodbav:"worker,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty" dynamodbav:"attrs,omitempty"`
	// ID tells lines of the same millisecond apart in the log's sort key.
	// A line keeps it across tries, so writing it again overwrites it
	// rather than adding it twice; empty, a random one is drawn.
	ID string `json:"-" dynamodbav:"-"`
}

// NewLogID draws a log line's ID.
func NewLogID() string { return randomHex(4) }

// Event makes a lifecycle log entry.
func Event(at time.Time, event string, attempt int, format string, args ...any) LogEntry {
	return LogEntry{At: job.NewTime(at), Level: "info", Event: event, Message: fmt.Sprintf(format, args...), Attempt: attempt}
}

// LevelName is the log level's name as stored: debug, info, warn, error.
func LevelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

// levelsFrom lists the stored level names at or above a minimum.
func levelsFrom(min string) []string {
	all := []string{"debug", "info", "warn", "error"}
	for i, l := range all {
		if l == min {
			return all[i:]
		}
	}
	return all
}

// logItem stores an entry with the job (same partition, so a job's log is
// one query, oldest first). The sort key is the time and the line's ID.
func (t *Table) logItem(jobID string, e LogEntry) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(e)
	if err != nil {
		return nil, fmt.Errorf("encode log entry: %w", err)
	}
	id := cmp.Or(e.ID, NewLogID())
	item[schema.PartitionKey] = str("JOB#" + jobID)
	item[schema.SortKey] = str(fmt.Sprintf("LOG#%013d#%s", e.At.UnixMilli(), id))
	item["at"] = str(e.At.String())
	// Logs outlive any job's retention, then expire on their own.
	item[schema.TTLAttribute] = number(e.At.Add(t.opts.FailedRetention).Unix())
	return item, nil
}

// withLogLine adds an event's log line to a transaction's writes, so the
// line is written with what it tells of; an event without a message adds
// nothing.
func (t *Table) withLogLine(writes []types.TransactWriteItem, jobID string, e LogEntry) ([]types.TransactWriteItem, error) {
	if e.Message == "" {
		return writes, nil
	}
	item, err := t.logItem(jobID, e)
	if err != nil {
		return nil, err
	}
	return append(writes, types.TransactWriteItem{Put: &types.Put{TableName: &t.name, Item: item}}), nil
}

// AppendLogs writes log entries in batches of 25 and returns how many of
// them, from the first, were written. An entry with an ID may be written
// again: it overwrites itself.
func (t *Table) AppendLogs(ctx context.Context, jobID string, entries []LogEntry) (int, error) {
	written := 0
	for batch := range slices.Chunk(entries, maxBatchWrite) {
		requests := make([]types.WriteRequest, 0, len(batch))
		for _, e := range batch {
			item, err := t.logItem(jobID, e)
			if err != nil {
				return written, err
			}
			requests = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		if err := dynamo.BatchWrite(ctx, t.db, t.name, requests); err != nil {
			return written, fmt.Errorf("write logs of job %s: %w", jobID, err)
		}
		written += len(batch)
	}
	return written, nil
}

// LogPage is one page of a job's log.
type LogPage struct {
	Entries []LogEntry `json:"entries"`
	Cursor  string     `json:"next_cursor"`
}

// Logs reads a job's log, oldest first, at or above a minimum level.
func (t *Table) Logs(ctx context.Context, jobID, minLevel string, limit int, cursor string) (LogPage, error) {
	in := &dynamodb.QueryInput{
		TableName:              &t.name,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :log)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str("JOB#" + jobID), ":log": str("LOG#"),
		},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(int32(limit)),
	}
	if minLevel != "" && minLevel != "debug" {
		var placeholders []string
		for i, l := range levelsFrom(minLevel) {
			name := fmt.Sprintf(":l%d", i)
			placeholders = append(placeholders, name)
			in.ExpressionAttributeValues[name] = str(l)
		}
		in.FilterExpression = aws.String("#level IN (" + strings.Join(placeholders, ", ") + ")")
		in.ExpressionAttributeNames = map[string]string{"#level": "level"}
	}
	if cursor != "" {
		start, err := decodeLogCursor(cursor, jobID)
		if err != nil {
			return LogPage{}, ErrBadCursor
		}
		in.ExclusiveStartKey = start
	}
	out, err := t.db.Query(ctx, in)
	if err != nil {
		return LogPage{}, fmt.Errorf("read logs of job %s: %w", jobID, err)
	}
	page := LogPage{Entries: make([]LogEntry, 0, len(out.Items))}
	for _, item := range out.Items {
		var e LogEntry
		if err := attributevalue.UnmarshalMap(item, &e); err != nil {
			return LogPage{}, fmt.Errorf("decode log entry: %w", err)
		}
		at, err := parseTime(stringAttr(item, "at"))
		if err != nil || at == nil {
			return LogPage{}, fmt.Errorf("decode log entry time %q", stringAttr(item, "at"))
		}
		e.At = *at
		page.Entries = append(page.Entries, e)
	}
	if len(out.LastEvaluatedKey) > 0 {
		page.Cursor = encodeCursor(out.LastEvaluatedKey)
	}
	return page, nil
}

func decodeLogCursor(cursor, jobID string) (map[string]types.AttributeValue, error) {
	key, err := decodeKeys(cursor, schema.PartitionKey, schema.SortKey)
	if err != nil || stringAttr(key, schema.PartitionKey) != "JOB#"+jobID || !strings.HasPrefix(stringAttr(key, schema.SortKey), "LOG#") {
		return nil, ErrBadCursor
	}
	return key, nil
}
