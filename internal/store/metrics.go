package store

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// metricWrites adds a delta to the all-stores and the store's item of its day.
func (s *Store) metricWrites(j *job.Job, d metricDelta) []types.TransactWriteItem {
	if d.counter == "" && !d.hasRun && !d.hasWait {
		return nil
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{":one": number(1), ":expires": number(d.at.Add(metricRetention).Unix())}
	var adds []string
	add := func(attr string) {
		placeholder := "#a" + strconv.Itoa(len(names))
		names[placeholder] = attr
		adds = append(adds, placeholder+" :one")
	}
	if d.counter != "" {
		add(d.counter)
	}
	if d.hasRun {
		add(runPrefix + histogram.Key(histogram.Bucket(d.run)))
	}
	if d.hasWait {
		add(waitPrefix + histogram.Key(histogram.Bucket(d.wait)))
	}
	shard := strconv.Itoa(rand.IntN(metricShards))
	writes := make([]types.TransactWriteItem, 0, 2)
	for _, scope := range []string{"ALL", "STORE#" + j.StoreID} {
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table,
			Key: map[string]types.AttributeValue{
				schema.PartitionKey: str("METRICS#" + day(d.at)),
				schema.SortKey:      str(scope + "|" + j.Type + "|" + shard),
			},
			UpdateExpression:          aws.String("ADD " + strings.Join(adds, ", ") + " SET expires_at = :expires"),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}})
	}
	return writes
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
func (s *Store) Metrics(ctx context.Context, days int, storeID, jobType string) ([]DayMetrics, error) {
	scope := "ALL"
	if storeID != "" {
		scope = "STORE#" + storeID
	}
	prefix := scope + "|"
	if jobType != "" {
		prefix += jobType + "|"
	}
	today := s.opts.Now().UTC()
	var out []DayMetrics
	for i := days - 1; i >= 0; i-- {
		date := day(today.AddDate(0, 0, -i))
		byType := map[string]*DayMetrics{}
		in := &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str("METRICS#" + date), ":prefix": str(prefix),
			},
		}
		for {
			page, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("read metrics of %s: %w", date, err)
			}
			for _, item := range page.Items {
				parts := strings.Split(stringAttr(item, schema.SortKey), "|")
				if len(parts) != 3 {
					continue
				}
				m := byType[parts[1]]
				if m == nil {
					m = &DayMetrics{Date: date, Type: parts[1], RunTime: histogram.New(), QueueWait: histogram.New()}
					byType[parts[1]] = m
				}
				m.add(item)
			}
			if len(page.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
		types := make([]string, 0, len(byType))
		for t := range byType {
			types = append(types, t)
		}
		sort.Strings(types)
		for _, t := range types {
			out = append(out, *byType[t])
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
