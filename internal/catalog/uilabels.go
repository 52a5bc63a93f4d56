package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/dynamo"
)

// UI labels are the texts of the store's storefront, checkout and account
// pages, by key: written by the store in its default language, translated
// into others by translation:ui-labels:bulk. Each is an item of its own,
// UILABEL#<language>#<key>, so a translation is written the moment it is
// known; the store's default language is the item UILABELS.
const (
	kindUILabel        = "UILABEL#"
	uiLabelSettingsKey = "UILABELS"
)

// Where a label's text came from.
const (
	// LabelSource: the default language's text, written by the store.
	LabelSource = "source"
	// LabelTranslated: written by a translation job.
	LabelTranslated = "translated"
	// LabelCorrected: a translation the store wrote or corrected itself.
	LabelCorrected = "corrected"
)

// MaxUILabelBytes bounds a label's text (UTF-8): a label is a line or a
// short paragraph, and with its placeholders protected it must still fit
// one Amazon Translate call (10,000 bytes).
const MaxUILabelBytes = 2000

// uiLabelKeyPattern is what a label's key may be: letters, digits, dots,
// dashes and underscores, as i18n keys are written (checkout.place_order,
// account.orderCount), starting with a letter or digit.
var uiLabelKeyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ValidUILabelKey reports whether key can name a label.
func ValidUILabelKey(key string) bool { return uiLabelKeyPattern.MatchString(key) }

// UILabel is one label in one language.
type UILabel struct {
	Key      string `json:"key"`
	Language string `json:"language"`
	Text     string `json:"text"`
	// SourceHash is, for a label in the default language, the hash of its
	// text (UILabelHash); for a translation, the hash of the source text it
	// was translated from: the translation is stale once they differ.
	SourceHash string `json:"source_hash"`
	Origin     string `json:"origin"` // LabelSource, LabelTranslated or LabelCorrected
	// JobID is the translation job that wrote it (LabelTranslated).
	JobID     string `json:"job_id,omitempty"`
	UpdatedAt string `json:"updated_at"`
}

// UILabelHash is the hash a source text is compared by: a translation made
// from another text is stale.
func UILabelHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:16])
}

// uiLabelTimeLayout is how a label's updated_at is written: as every time
// the API shows, RFC 3339 in UTC with milliseconds.
const uiLabelTimeLayout = "2006-01-02T15:04:05.000Z07:00"

func uiLabelSortKey(language, key string) string { return kindUILabel + language + "#" + key }

// ErrUILabelLanguage is a store whose labels' default language is another
// than the one asked to be it.
var ErrUILabelLanguage = errors.New("catalog: the store's UI labels have another default language")

// UILabelLanguage returns the default language of the store's labels, ""
// while it has none.
func (s *Store) UILabelLanguage(ctx context.Context, storeID string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(storeID, uiLabelSettingsKey),
		ProjectionExpression: aws.String("default_language"), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("catalog: read the UI labels' language: %w", err)
	}
	return str(out.Item["default_language"]), nil
}

// ClaimUILabelLanguage makes language the default language of the store's
// labels if it has none yet, and returns the default language after: the
// first labels a store writes set it, and a race of two first writes in
// two languages has one winner.
func (s *Store) ClaimUILabelLanguage(ctx context.Context, storeID, language string) (string, error) {
	item := key(storeID, uiLabelSettingsKey)
	item["default_language"] = &types.AttributeValueMemberS{Value: language}
	item["updated_at"] = &types.AttributeValueMemberS{Value: s.clock.Now().UTC().Format(time.RFC3339Nano)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if errors.As(err, new(*types.ConditionalCheckFailedException)) {
		return s.UILabelLanguage(ctx, storeID)
	}
	if err != nil {
		return "", fmt.Errorf("catalog: set the UI labels' language: %w", err)
	}
	return language, nil
}

// UILabels reads the store's labels in language, in key order, from after
// the key after (the start when empty), up to limit (at most 1,000). more
// reports that labels may follow the last one.
func (s *Store) UILabels(ctx context.Context, storeID, language, after string, limit int) (labels []UILabel, more bool, err error) {
	limit = min(max(limit, 1), 1000)
	prefix := kindUILabel + language + "#"
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: PartitionKey(storeID)},
			":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
		ProjectionExpression: aws.String("doc"),
		ConsistentRead:       aws.Bool(true),
	}
	if after != "" {
		in.ExclusiveStartKey = key(storeID, prefix+after)
	}
	for {
		in.Limit = aws.Int32(int32(limit - len(labels)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, false, fmt.Errorf("catalog: list UI labels in %s: %w", language, err)
		}
		for _, item := range out.Items {
			var l UILabel
			if err := json.Unmarshal([]byte(str(item["doc"])), &l); err != nil {
				return nil, false, fmt.Errorf("catalog: decode UI label: %w", err)
			}
			labels = append(labels, l)
		}
		if out.LastEvaluatedKey == nil {
			return labels, false, nil
		}
		if len(labels) == limit {
			return labels, true, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey // a page cut at 1 MB
	}
}

// UILabelsByKey reads the store's labels of the given keys in language,
// keyed by key; keys it lacks are absent.
func (s *Store) UILabelsByKey(ctx context.Context, storeID, language string, keys []string) (map[string]UILabel, error) {
	var ids []map[string]types.AttributeValue
	for _, k := range slices.Compact(slices.Sorted(slices.Values(keys))) {
		ids = append(ids, key(storeID, uiLabelSortKey(language, k)))
	}
	found := make(map[string]UILabel, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	items, err := s.batchGet(ctx, ids, "doc")
	if err != nil {
		return nil, err
	}
	for _, item := range items {
		var l UILabel
		if err := json.Unmarshal([]byte(str(item["doc"])), &l); err != nil {
			return nil, fmt.Errorf("catalog: decode UI label: %w", err)
		}
		found[l.Key] = l
	}
	return found, nil
}

// PutUILabels writes labels of one store, 25 a request.
func (s *Store) PutUILabels(ctx context.Context, storeID string, labels []UILabel) error {
	writes := make([]types.WriteRequest, 0, len(labels))
	for _, l := range labels {
		item, err := s.uiLabelItem(storeID, l)
		if err != nil {
			return err
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for batch := range slices.Chunk(writes, 25) { // BatchWriteItem's limit
		if err := dynamo.BatchWrite(ctx, s.db, s.table, batch); err != nil {
			return fmt.Errorf("catalog: write UI labels: %w", err)
		}
	}
	return nil
}

// PutUILabel writes one label: a translation the moment it is known, so no
// crash translates it again.
func (s *Store) PutUILabel(ctx context.Context, storeID string, l UILabel) error {
	item, err := s.uiLabelItem(storeID, l)
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("catalog: write UI label %s in %s: %w", l.Key, l.Language, err)
	}
	return nil
}

// uiLabelItem is l's item, stamped with the time it is written unless it
// says when.
func (s *Store) uiLabelItem(storeID string, l UILabel) (map[string]types.AttributeValue, error) {
	if !ValidUILabelKey(l.Key) || l.Language == "" {
		return nil, fmt.Errorf("catalog: UI label %q in %q: not a label key and language", l.Key, l.Language)
	}
	if l.UpdatedAt == "" {
		l.UpdatedAt = s.clock.Now().UTC().Format(uiLabelTimeLayout)
	}
	doc, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode UI label %s: %w", l.Key, err)
	}
	item := key(storeID, uiLabelSortKey(l.Language, l.Key))
	item["doc"] = &types.AttributeValueMemberS{Value: string(doc)}
	item["content_hash"] = &types.AttributeValueMemberS{Value: l.SourceHash}
	item["updated_at"] = &types.AttributeValueMemberS{Value: l.UpdatedAt}
	return item, nil
}
