package jobtable

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// JobFilter narrows a listing of jobs. Zero fields do not filter.
type JobFilter struct {
	// StoreID lists one store's jobs (its index partition); empty lists
	// every store's, from the sharded all-jobs index.
	StoreID string
	Type    string
	// Statuses keeps jobs in any of these statuses.
	Statuses []job.Status
	// From and To bound the creation time: at or after From, before To.
	From, To time.Time
	// ByFinished lists only finished jobs, by when they finished instead of
	// when they were created, from the finished index. It needs StoreID and
	// takes no From or To.
	ByFinished bool
}

// defaultListScanBudget is how many index items one listing reads per
// partition at most. A filter that matches rarely (a type or status among many jobs)
// then answers with a short page and a cursor, and the next request goes on
// from there, instead of one request reading a whole partition.
const defaultListScanBudget = 1000

// ListByStore returns a store's jobs, newest first.
func (t *Table) ListByStore(ctx context.Context, storeID string, limit int, cursor string) (Page, error) {
	return t.ListJobs(ctx, JobFilter{StoreID: storeID}, limit, cursor)
}

// ListJobs returns the jobs the filter keeps, newest first: by creation, or
// with ByFinished by finish. The store and the creation time are key
// conditions of the index read; type and status are filters on it. Jobs
// past their retention are left out even before TTL deletes them.
//
// Every shard of the all-jobs index is read in parallel and the results are
// merged by sort key. A page may hold fewer than limit jobs while more
// exist (when a shard's scan budget ran out first); Cursor is empty only
// when nothing is left.
func (t *Table) ListJobs(ctx context.Context, f JobFilter, limit int, cursor string) (Page, error) {
	if f.ByFinished && (f.StoreID == "" || !f.From.IsZero() || !f.To.IsZero()) {
		return Page{}, errors.New("list jobs by finish: needs a store and takes no creation-time bounds")
	}
	before := ""
	if cursor != "" {
		var err error
		if before, err = decodeListCursor(cursor); err != nil {
			return Page{}, ErrBadCursor
		}
	}
	var partitions []indexPartition
	switch {
	case f.ByFinished:
		partitions = []indexPartition{{index: schema.FinishedIndex, pk: schema.StoreIndexPK, sk: schema.FinishedIndexSK, value: storePartition(f.StoreID)}}
	case f.StoreID != "":
		partitions = []indexPartition{{index: schema.StoreIndex, pk: schema.StoreIndexPK, sk: schema.StoreIndexSK, value: storePartition(f.StoreID)}}
	default:
		for shard := range schema.AllJobsShards {
			partitions = append(partitions, indexPartition{index: schema.AllJobsIndex, pk: schema.AllJobsIndexPK, sk: schema.AllJobsIndexSK, value: allJobsPartition(shard)})
		}
	}
	results := make([]partitionResult, len(partitions))
	var wg sync.WaitGroup
	for i, p := range partitions {
		wg.Go(func() { results[i] = t.readNewest(ctx, p, f, before, limit+1) })
	}
	wg.Wait()

	// Jobs older than the newest position a budget-stopped partition reached
	// may be preceded by jobs of that partition not read yet: they wait for
	// the next page.
	cut := ""
	var found []listedJob
	for i, r := range results {
		if r.err != nil {
			return Page{}, fmt.Errorf("list jobs from %s %s: %w", partitions[i].index, partitions[i].value, r.err)
		}
		found = append(found, r.jobs...)
		if r.stoppedAt != "" && r.stoppedAt > cut {
			cut = r.stoppedAt
		}
	}
	slices.SortFunc(found, func(a, b listedJob) int { return strings.Compare(b.sortKey, a.sortKey) })
	kept := slices.DeleteFunc(found, func(l listedJob) bool { return l.sortKey < cut })
	shown := kept[:min(limit, len(kept))]
	items := make([]map[string]types.AttributeValue, len(shown))
	for i, l := range shown {
		items[i] = l.item
	}
	if partitions[0].index != schema.StoreIndex {
		// The other listing indexes copy only what they filter on.
		var err error
		if items, err = t.getJobItems(ctx, items); err != nil {
			return Page{}, err
		}
	}
	page := Page{Jobs: make([]*job.Job, 0, len(items))}
	for _, item := range items {
		j, err := jobFromAttributes(item)
		if err != nil {
			return Page{}, err
		}
		page.Jobs = append(page.Jobs, j)
	}
	switch {
	case len(kept) > limit:
		page.Cursor = encodeListCursor(kept[limit-1].sortKey)
	case cut != "":
		page.Cursor = encodeListCursor(cut)
	}
	return page, nil
}

// indexPartition is one partition of an index whose sort key is
// "<time>#<id>" (created_at, or finished_at in the finished index).
type indexPartition struct {
	index, pk, sk, value string
}

type listedJob struct {
	sortKey string
	item    map[string]types.AttributeValue // as the index holds it
}

type partitionResult struct {
	jobs []listedJob
	// stoppedAt is the sort key where the scan budget ran out; empty when
	// the partition was read to its end or want jobs were found.
	stoppedAt string
	err       error
}

// readNewest reads up to want matching jobs of one partition, newest first,
// strictly before the position before (when set).
func (t *Table) readNewest(ctx context.Context, p indexPartition, f JobFilter, before string, want int) partitionResult {
	names := map[string]string{"#pk": p.pk}
	values := map[string]types.AttributeValue{":pk": str(p.value), ":now": number(t.opts.Clock.Now().Unix())}
	upper := before
	if !f.To.IsZero() && (upper == "" || formatTime(f.To) < upper) {
		// "<To>" sorts before every "<To>#<id>": jobs created at To are excluded.
		upper = formatTime(f.To)
	}
	condition := "#pk = :pk"
	switch {
	case !f.From.IsZero() && upper != "":
		// BETWEEN includes its ends; the item at the cursor is skipped below.
		condition += " AND #sk BETWEEN :from AND :upper"
		values[":from"], values[":upper"] = str(formatTime(f.From)), str(upper)
	case !f.From.IsZero():
		condition += " AND #sk >= :from"
		values[":from"] = str(formatTime(f.From))
	case upper != "":
		condition += " AND #sk < :upper"
		values[":upper"] = str(upper)
	}
	if condition != "#pk = :pk" {
		names["#sk"] = p.sk
	}
	filters := []string{"(attribute_not_exists(expires_at) OR expires_at > :now)"}
	if f.Type != "" {
		names["#type"] = "type"
		values[":type"] = str(f.Type)
		filters = append(filters, "#type = :type")
	}
	if len(f.Statuses) > 0 {
		names["#status"] = "status"
		var placeholders []string
		for i, st := range f.Statuses {
			name := ":status" + strconv.Itoa(i)
			values[name] = str(string(st))
			placeholders = append(placeholders, name)
		}
		filters = append(filters, "#status IN ("+strings.Join(placeholders, ", ")+")")
	}
	pageSize := want
	if f.Type != "" || len(f.Statuses) > 0 {
		pageSize = 100 // most items read are filtered out: read more per request
	}
	in := &dynamodb.QueryInput{
		TableName:                 &t.name,
		IndexName:                 aws.String(p.index),
		KeyConditionExpression:    aws.String(condition),
		FilterExpression:          aws.String(strings.Join(filters, " AND ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(false),
	}
	var result partitionResult
	read := 0
	for {
		in.Limit = aws.Int32(int32(min(pageSize, t.opts.ListScanBudget-read)))
		out, err := t.db.Query(ctx, in)
		if err != nil {
			return partitionResult{err: err}
		}
		read += int(out.ScannedCount)
		for _, item := range out.Items {
			sortKey := stringAttr(item, p.sk)
			if sortKey == before {
				continue
			}
			result.jobs = append(result.jobs, listedJob{sortKey: sortKey, item: item})
		}
		if len(out.LastEvaluatedKey) == 0 || len(result.jobs) >= want {
			return result
		}
		if read >= t.opts.ListScanBudget {
			result.stoppedAt = stringAttr(out.LastEvaluatedKey, p.sk)
			return result
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// getJobItems reads whole jobs for index items, in their order. A job
// deleted since the index was read is left out.
func (t *Table) getJobItems(ctx context.Context, indexItems []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	byKey := make(map[string]map[string]types.AttributeValue, len(indexItems))
	var keys []map[string]types.AttributeValue
	for _, item := range indexItems {
		keys = append(keys, map[string]types.AttributeValue{schema.PartitionKey: item[schema.PartitionKey], schema.SortKey: item[schema.SortKey]})
	}
	for chunk := range slices.Chunk(keys, 100) { // BatchGetItem's limit
		request := map[string]types.KeysAndAttributes{t.name: {Keys: chunk}}
		for len(request) > 0 {
			out, err := t.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
			if err != nil {
				return nil, fmt.Errorf("read listed jobs: %w", err)
			}
			for _, item := range out.Responses[t.name] {
				byKey[stringAttr(item, schema.PartitionKey)] = item
			}
			request = out.UnprocessedKeys
		}
	}
	items := make([]map[string]types.AttributeValue, 0, len(indexItems))
	for _, item := range indexItems {
		if full, ok := byKey[stringAttr(item, schema.PartitionKey)]; ok {
			items = append(items, full)
		}
	}
	return items, nil
}

// allJobsPartition is the all-jobs index partition of a shard.
func allJobsPartition(shard int) string { return "ALL#" + strconv.Itoa(shard) }

// allJobsShard spreads jobs over the all-jobs index's partitions by id.
func allJobsShard(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return allJobsPartition(int(h.Sum32() % schema.AllJobsShards))
}

// jobSortKey orders a job in both job indexes: by creation time, then id.
func jobSortKey(j *job.Job) string { return j.CreatedAt.String() + "#" + j.ID }

// finishedSortKey orders a finished job in the finished index: by when it
// finished, then id. It has jobSortKey's shape, so the listing cursor
// serves both orders.
func finishedSortKey(finished time.Time, id string) string { return formatTime(finished) + "#" + id }

// listCursor is a listing position: the sort key of the last job a page
// showed (or of the last one read). Positions are the same in every
// partition, so one cursor continues a merged listing.
type listCursor struct {
	Before string `json:"before"`
}

func encodeListCursor(sortKey string) string {
	data, _ := json.Marshal(listCursor{Before: sortKey})
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeListCursor(cursor string) (string, error) {
	data, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", err
	}
	var c listCursor
	if err := json.Unmarshal(data, &c); err != nil {
		return "", err
	}
	at, id, ok := strings.Cut(c.Before, "#")
	if !ok || id == "" {
		return "", ErrBadCursor
	}
	if _, err := time.Parse(job.TimeLayout, at); err != nil {
		return "", ErrBadCursor
	}
	return c.Before, nil
}
