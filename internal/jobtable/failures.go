package jobtable

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/schema"
)

// Failure is what went wrong in a failed attempt: its kind (permanent,
// rate_limited, error, panic, lost_worker) and message.
type Failure struct {
	Kind    string
	Message string
}

// FailureGroup is the same failure counted over a day: "the same error 40
// times" reads as one line with a count.
type FailureGroup struct {
	Date    string    `json:"date"`
	Type    string    `json:"type"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Count   int64     `json:"count"`
	LastAt  time.Time `json:"last_at"`
}

// varyingParts are what differs between two occurrences of the same error:
// numbers and ids.
var varyingParts = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,}|\d+`)

// fingerprint groups messages that differ only in numbers and ids.
func fingerprint(message string) string {
	sum := sha256.Sum256([]byte(varyingParts.ReplaceAllString(message, "#")))
	return hex.EncodeToString(sum[:8])
}

// failureWrite counts a failure in its day's group, in the transition's
// transaction.
func (t *Table) failureWrite(jobType string, f Failure, at time.Time) types.TransactWriteItem {
	message := f.Message
	if len(message) > 1000 {
		message = message[:1000]
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &t.name,
		Key: map[string]types.AttributeValue{
			schema.PartitionKey: str("FAILURES#" + day(at)),
			schema.SortKey:      str(jobType + "|" + f.Kind + "|" + fingerprint(f.Message)),
		},
		UpdateExpression:         aws.String("ADD #count :one SET #message = if_not_exists(#message, :message), last_at = :at, expires_at = :expires"),
		ExpressionAttributeNames: map[string]string{"#count": "count", "#message": "message"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": number(1), ":message": str(message), ":at": str(formatTime(at)),
			":expires": number(at.Add(metricRetention).Unix()),
		},
	}}
}

// FailureGroups lists the failures of the last `days` days grouped by job
// type, kind and message, most frequent first.
func (t *Table) FailureGroups(ctx context.Context, days int) ([]FailureGroup, error) {
	today := t.opts.Clock.Now().UTC()
	var groups []FailureGroup
	for i := 0; i < days; i++ {
		date := day(today.AddDate(0, 0, -i))
		in := &dynamodb.QueryInput{
			TableName:                 &t.name,
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("FAILURES#" + date)},
		}
		err := t.queryEach(ctx, in, func(item map[string]types.AttributeValue) error {
			parts := strings.SplitN(stringAttr(item, schema.SortKey), "|", 3)
			if len(parts) != 3 {
				return nil
			}
			g := FailureGroup{Date: date, Type: parts[0], Kind: parts[1], Message: stringAttr(item, "message"), Count: numberAttr(item, "count")}
			if at, err := parseTime(stringAttr(item, "last_at")); err == nil && at != nil {
				g.LastAt = at.Time
			}
			groups = append(groups, g)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read failure groups: %w", err)
		}
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].Count > groups[j].Count })
	return groups, nil
}
