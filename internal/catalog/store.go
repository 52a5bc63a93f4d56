package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dynamo"
	"github.com/dainostore/jobs/internal/schema"
)

// Kinds of catalog items: the sort key prefixes of a store's partition.
const (
	KindProduct    = "PRODUCT#"
	KindCollection = "COLLECTION#"
	KindCategory   = "CATEGORY#"
	// kindImageSource maps an image's source URL to the image stored from it,
	// so a re-import (or a page run again after a crash) downloads nothing
	// it already has.
	kindImageSource = "IMAGESRC#"
)

// Store reads and writes the catalog table. Every item of a store shares
// the partition STORE#<store>; the sort key is the kind and the item's id.
// The item's document is one JSON attribute: the API returns it as it is,
// and the catalog never queries inside it.
type Store struct {
	db    *dynamodb.Client
	table string
	clock clock.Clock
}

// NewStore returns the catalog of the named table.
func NewStore(db *dynamodb.Client, table string, clk clock.Clock) *Store {
	if clk == nil {
		clk = clock.Real
	}
	return &Store{db: db, table: table, clock: clk}
}

// PartitionKey is the partition of a store's items (connections included).
func PartitionKey(storeID string) string { return "STORE#" + storeID }

// ErrNotFound is an item the store does not have.
var ErrNotFound = errors.New("catalog: not found")

// Stored is what the catalog knows of an item before it writes it again.
type Stored struct {
	Hash string
	// ImportedBy is the job that last wrote the item, and Outcome whether it
	// created or updated it: a page run again after a crash counts the
	// items it had written as before, not as unchanged.
	ImportedBy string
	Outcome    string
}

// Outcomes of writing an item.
const (
	OutcomeCreated = "created"
	OutcomeUpdated = "updated"
)

// Entry is an item to write: its kind and id, its content hash and document.
type Entry struct {
	Kind    string
	ID      string
	Hash    string
	Outcome string // created or updated
	Doc     any
}

// StoredHashes reads what the catalog has of the given items (kind + id),
// keyed by id; items it lacks are absent. Only the hash and who wrote it
// are read: comparing costs half a read unit per item, not the document.
func (s *Store) StoredHashes(ctx context.Context, storeID, kind string, ids []string) (map[string]Stored, error) {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue // BatchGetItem refuses a key twice
		}
		seen[id] = true
		keys = append(keys, key(storeID, kind+id))
	}
	items, err := s.batchGet(ctx, keys, "sk, content_hash, imported_by, import_outcome")
	if err != nil {
		return nil, err
	}
	found := make(map[string]Stored, len(items))
	for _, item := range items {
		found[str(item["sk"])[len(kind):]] = Stored{Hash: str(item["content_hash"]), ImportedBy: str(item["imported_by"]), Outcome: str(item["import_outcome"])}
	}
	return found, nil
}

// batchGet reads keys, with their latest writes, projected.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, projection string) ([]map[string]types.AttributeValue, error) {
	items, err := dynamo.BatchGet(ctx, s.db, s.table, types.KeysAndAttributes{Keys: keys, ProjectionExpression: aws.String(projection), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("catalog: read items: %w", err)
	}
	return items, nil
}

// Put writes the entries of one store in batches of 25, stamped with the
// job that wrote them.
func (s *Store) Put(ctx context.Context, storeID, jobID string, entries []Entry) error {
	now := s.clock.Now().UTC().Format(time.RFC3339Nano)
	var writes []types.WriteRequest
	for _, e := range entries {
		doc, err := json.Marshal(e.Doc)
		if err != nil {
			return fmt.Errorf("catalog: encode %s%s: %w", e.Kind, e.ID, err)
		}
		item := key(storeID, e.Kind+e.ID)
		item["content_hash"] = &types.AttributeValueMemberS{Value: e.Hash}
		item["doc"] = &types.AttributeValueMemberS{Value: string(doc)}
		item["imported_by"] = &types.AttributeValueMemberS{Value: jobID}
		item["import_outcome"] = &types.AttributeValueMemberS{Value: e.Outcome}
		item["updated_at"] = &types.AttributeValueMemberS{Value: now}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for batch := range slices.Chunk(writes, 25) { // BatchWriteItem's limit
		if err := dynamo.BatchWrite(ctx, s.db, s.table, batch); err != nil {
			return fmt.Errorf("catalog: write items: %w", err)
		}
	}
	return nil
}

// ImageSources returns the images already stored from the given source
// URLs, keyed by URL.
func (s *Store) ImageSources(ctx context.Context, storeID string, urls []string) (map[string]Image, error) {
	byKey := make(map[string]string, len(urls))
	var keys []map[string]types.AttributeValue
	for _, u := range urls {
		sk := kindImageSource + urlHash(u)
		if _, dup := byKey[sk]; dup {
			continue // BatchGetItem refuses a key twice
		}
		byKey[sk] = u
		keys = append(keys, key(storeID, sk))
	}
	items, err := s.batchGet(ctx, keys, "sk, doc")
	if err != nil {
		return nil, err
	}
	found := make(map[string]Image, len(items))
	for _, item := range items {
		var img Image
		if err := json.Unmarshal([]byte(str(item["doc"])), &img); err != nil {
			return nil, fmt.Errorf("catalog: decode image source: %w", err)
		}
		found[byKey[str(item["sk"])]] = img
	}
	return found, nil
}

// PutImageSource records that the image from img.SourceURL is stored. It is
// written as soon as the image is, so no crash makes it download again.
func (s *Store) PutImageSource(ctx context.Context, storeID string, img Image) error {
	doc, err := json.Marshal(img)
	if err != nil {
		return err
	}
	item := key(storeID, kindImageSource+urlHash(img.SourceURL))
	item["doc"] = &types.AttributeValueMemberS{Value: string(doc)}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("catalog: record image source: %w", err)
	}
	return nil
}

// Get reads one item's document into doc.
func (s *Store) Get(ctx context.Context, storeID, kind, id string, doc any) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(storeID, kind+id), ProjectionExpression: aws.String("doc"),
	})
	if err != nil {
		return fmt.Errorf("catalog: read %s%s: %w", kind, id, err)
	}
	if out.Item == nil {
		return ErrNotFound
	}
	return json.Unmarshal([]byte(str(out.Item["doc"])), doc)
}

// Page is one page of a listing.
type Page struct {
	Docs []json.RawMessage
	// Next continues the listing; empty on the last page.
	Next string
}

// ErrBadCursor is a cursor this listing did not give.
var ErrBadCursor = errors.New("catalog: invalid cursor")

// List reads a store's items of a kind in id order, limit at a time (at
// most 100), from a cursor a previous page returned. prefix narrows the ids
// (a source: "shopify-").
func (s *Store) List(ctx context.Context, storeID, kind, prefix string, limit int, cursor string) (Page, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: PartitionKey(storeID)},
			":prefix": &types.AttributeValueMemberS{Value: kind + prefix},
		},
		ProjectionExpression: aws.String("pk, sk, doc"),
		Limit:                aws.Int32(int32(min(max(limit, 1), 100))),
	}
	if cursor != "" {
		sk, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(sk) <= len(kind) || string(sk[:len(kind)]) != kind {
			return Page{}, ErrBadCursor
		}
		in.ExclusiveStartKey = key(storeID, string(sk))
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return Page{}, fmt.Errorf("catalog: list %s: %w", kind, err)
	}
	page := Page{Docs: make([]json.RawMessage, 0, len(out.Items))}
	for _, item := range out.Items {
		page.Docs = append(page.Docs, json.RawMessage(str(item["doc"])))
	}
	if last := out.LastEvaluatedKey; last != nil {
		page.Next = encodeCursor(str(last["sk"]))
	}
	return page, nil
}

// encodeCursor is a List cursor continuing after the sort key sk.
func encodeCursor(sk string) string { return base64.RawURLEncoding.EncodeToString([]byte(sk)) }

func key(storeID, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.PartitionKey: &types.AttributeValueMemberS{Value: PartitionKey(storeID)},
		schema.SortKey:      &types.AttributeValueMemberS{Value: sk},
	}
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func urlHash(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:])
}
