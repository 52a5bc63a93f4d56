package jobtable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/histogram"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// Metrics are counted per UTC day and job type, for all stores and per
// store, in items updated by the same transaction as the transition they
// count: a day's figures are exact, and reading N days costs N queries
// whatever the number of jobs. Durations are counted in histogram buckets
// (package histogram), so percentiles need no scan either.
const metricShards = 4

// metricRetention is how long per-day metrics are kept.
const metricRetention = 400 * 24 * time.Hour

// Prefixes of the histogram counters.
const (
	runPrefix  = "run_"
	waitPrefix = "wait_"
)

// metricDelta is what one transition adds to its day's metrics.
type metricDelta struct {
	at      time.Time
	counter string        // created, completed, failed, cancelled, retried; empty for none
	run     time.Duration // a finished job's run time, started to finished
	wait    time.Duration // a first claim's wait in the queue, created to started
	hasRun  bool
	hasWait bool
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// metricWrites adds a delta to the all-stores and the store's item of its
// day. The all-stores item also counts completions and failures per hour,
// for the alerts' recent failure rate.
func (t *Table) metricWrites(j *job.Job, d metricDelta) []types.TransactWriteItem {
	var attrs []string
	if d.counter != "" {
		attrs = append(attrs, d.counter)
	}
	if d.hasRun {
		attrs = append(attrs, runPrefix+histogram.Key(histogram.Bucket(d.run)))
	}
	if d.hasWait {
		attrs = append(attrs, waitPrefix+histogram.Key(histogram.Bucket(d.wait)))
	}
	if len(attrs) == 0 {
		return nil
	}
	allStores := attrs
	if d.counter == "completed" || d.counter == "failed" {
		allStores = append(slices.Clip(attrs), hourKey(d.at, d.counter))
	}
	shard := strconv.Itoa(rand.IntN(metricShards))
	return []types.TransactWriteItem{
		t.metricUpdate(d.at, "ALL|"+j.Type+"|"+shard, allStores),
		t.metricUpdate(d.at, "STORE#"+j.StoreID+"|"+j.Type+"|"+shard, attrs),
	}
}

// metricUpdate adds one to each attribute of a day's metric item.
func (t *Table) metricUpdate(at time.Time, sortKey string, attrs []string) types.TransactWriteItem {
	names := map[string]string{}
	adds := make([]string, len(attrs))
	for i, attr := range attrs {
		placeholder := "#a" + strconv.Itoa(i)
		names[placeholder] = attr
		adds[i] = placeholder + " :one"
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &t.name,
		Key: map[string]types.AttributeValue{
			schema.PartitionKey: str("METRICS#" + day(at)),
			schema.SortKey:      str(sortKey),
		},
		UpdateExpression:          aws.String("ADD " + strings.Join(adds, ", ") + " SET expires_at = :expires"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": number(1), ":expires": number(at.Add(metricRetention).Unix())},
	}}
}

// hourKey is the attribute counting an outcome in the hour of at.
func hourKey(at time.Time, counter string) string {
	return fmt.Sprintf("h%02d_%s", at.UTC().Hour(), counter)
}

// RecentOutcomes counts completions and failures per job type over the
// current and the previous hour (all stores): the alerts' window.
func (t *Table) RecentOutcomes(ctx context.Context) (map[string][2]int64, error) {
	now := t.opts.Clock.Now().UTC()
	out := map[string][2]int64{}
	for _, hour := range []time.Time{now.Add(-time.Hour), now} {
		in := &dynamodb.QueryInput{
			TableName:              &t.name,
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :all)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str("METRICS#" + day(hour)), ":all": str("ALL|"),
			},
		}
		err := t.queryEach(ctx, in, func(item map[string]types.AttributeValue) error {
			parts := strings.Split(stringAttr(item, schema.SortKey), "|")
			if len(parts) != 3 {
				return nil
			}
			counts := out[parts[1]]
			counts[0] += numberAttr(item, hourKey(hour, "completed"))
			counts[1] += numberAttr(item, hourKey(hour, "failed"))
			out[parts[1]] = counts
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read recent outcomes: %w", err)
		}
	}
	return out, nil
}

func numberAttr(item map[string]types.AttributeValue, name string) int64 {
	if n, ok := item[name].(*types.AttributeValueMemberN); ok {
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		return v
	}
	return 0
}

// DayMetrics are one day's figures for one job type.
type DayMetrics struct {
	Date      string
	Type      string
	Created   int64
	Completed int64
	Failed    int64
	Cancelled int64
	// Retried counts failed attempts that were retried.
	Retried   int64
	RunTime   histogram.Histogram
	QueueWait histogram.Histogram
}

// Metrics reads the figures of the last `days` days (today included), per
// day and job type, for all stores (storeID empty) or one store, and for
// every type (jobType empty) or one.
func (t *Table) Metrics(ctx context.Context, days int, storeID, jobType string) ([]DayMetrics, error) {
	scope := "ALL"
	if storeID != "" {
		scope = "STORE#" + storeID
	}
	prefix := scope + "|"
	if jobType != "" {
		prefix += jobType + "|"
	}
	today := t.opts.Clock.Now().UTC()
	var out []DayMetrics
	for i := days - 1; i >= 0; i-- {
		date := day(today.AddDate(0, 0, -i))
		byType := map[string]*DayMetrics{}
		in := &dynamodb.QueryInput{
			TableName:              &t.name,
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str("METRICS#" + date), ":prefix": str(prefix),
			},
		}
		err := t.queryEach(ctx, in, func(item map[string]types.AttributeValue) error {
			parts := strings.Split(stringAttr(item, schema.SortKey), "|")
			if len(parts) != 3 {
				return nil
			}
			m := byType[parts[1]]
			if m == nil {
				m = &DayMetrics{Date: date, Type: parts[1], RunTime: histogram.New(), QueueWait: histogram.New()}
				byType[parts[1]] = m
			}
			m.add(item)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read metrics of %s: %w", date, err)
		}
		types := make([]string, 0, len(byType))
		for jobType := range byType {
			types = append(types, jobType)
		}
		sort.Strings(types)
		for _, jobType := range types {
			out = append(out, *byType[jobType])
		}
	}
	return out, nil
}

// add sums one shard item into the day's figures.
func (m *DayMetrics) add(item map[string]types.AttributeValue) {
	run, wait := map[string]int64{}, map[string]int64{}
	for name, value := range item {
		n, ok := value.(*types.AttributeValueMemberN)
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			continue
		}
		switch {
		case name == "created":
			m.Created += v
		case name == "completed":
			m.Completed += v
		case name == "failed":
			m.Failed += v
		case name == "cancelled":
			m.Cancelled += v
		case name == "retried":
			m.Retried += v
		case strings.HasPrefix(name, runPrefix):
			run[strings.TrimPrefix(name, runPrefix)] = v
		case strings.HasPrefix(name, waitPrefix):
			wait[strings.TrimPrefix(name, waitPrefix)] = v
		}
	}
	m.RunTime.Merge(histogram.FromCounters(run))
	m.QueueWait.Merge(histogram.FromCounters(wait))
}
