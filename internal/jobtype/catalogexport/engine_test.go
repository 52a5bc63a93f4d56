package catalogexport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/marketplace"
)

// quietRuntime is a runtime that records nothing: call only logs.
type quietRuntime struct{ jobtype.Runtime }

func (quietRuntime) Log(slog.Level, string, ...slog.Attr) {}

func TestAnExportChoosesExactlyOneSelection(t *testing.T) {
	t.Parallel()
	tooMany := make([]string, MaxProductIDs+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("shopify-%d", i)
	}
	for _, tt := range []struct {
		payload string
		wantErr string
	}{
		{`{"all": true}`, ""},
		{`{"product_ids": ["shopify-1", "shopify-2"], "ai_optimize": false}`, ""},
		{`{"collection": "shopify-77"}`, ""},
		{`{"category": "mugs"}`, ""},
		{`{}`, "exactly one of"},
		{`{"all": true, "collection": "shopify-77"}`, "exactly one of"},
		{`{"product_ids": [""]}`, "not a catalog product id"},
		{`{"product_ids": ` + mustJSON(tooMany) + `}`, "at most 1000"},
	} {
		var o Options
		if err := json.Unmarshal([]byte(tt.payload), &o); err != nil {
			t.Fatal(err)
		}
		err := o.Validate()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%.60s: %v, want %q", tt.payload, err, tt.wantErr)
		}
	}
	if !(Options{}).aiOptimize() {
		t.Error("AI optimization is off by default")
	}
}

func mustJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// Amazon never says how long to wait: the backoff doubles, each wait
// between half and all of it; once a wait would pass the inline limit, the
// job is retried at that time instead. A hint is taken as it is.
func TestRateLimitsBackOffWithJitterThenBecomeARetry(t *testing.T) {
	t.Parallel()
	var waits []time.Duration
	jitters := []float64{0, 0.5, 1}
	e := &export{rt: quietRuntime{}, target: target{longWait: retryAt}}
	e.MaxInlineWait = 5 * time.Second
	e.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	e.Jitter = func() float64 { j := jitters[0]; jitters = append(jitters[1:], j); return j }
	limited := &marketplace.RateLimitError{Marketplace: marketplace.Amazon, Reason: "You exceeded your quota"}

	calls := 0
	err := e.call(context.Background(), func() error {
		if calls++; calls <= 3 {
			return limited
		}
		return nil
	})
	want := []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 4 * time.Second}
	if err != nil || fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, %v; want %v then success", waits, err, want)
	}
	if e.st.RateLimitWaitMS != 6000 {
		t.Errorf("waited %d ms in all, want 6000", e.st.RateLimitWaitMS)
	}

	waits = nil
	err = e.call(context.Background(), func() error { return limited })
	var retry *jobtype.RateLimitedError
	if !errors.As(err, &retry) || retry.RetryAfter <= e.MaxInlineWait || fmt.Sprint(waits) != "[500ms 1.5s 4s 4s]" {
		t.Errorf("a rate limit that goes on: %v after waits %v, want a retry of the job after %s", err, waits, e.MaxInlineWait)
	}

	waits = nil
	hinted := &marketplace.RateLimitError{Marketplace: marketplace.Ebay, Wait: time.Hour}
	err = e.call(context.Background(), func() error { return hinted })
	if !errors.As(err, &retry) || retry.RetryAfter != time.Hour || len(waits) != 0 {
		t.Errorf("an hour's hint: %v after waits %v, want a retry in an hour", err, waits)
	}
}

// The result lists at most maxProductResults products, keeping the refused
// ones the owner must act on over the exported ones.
func TestTheResultKeepsTheRefusedProducts(t *testing.T) {
	t.Parallel()
	var lines []ProductResult
	omitted := 0
	for i := range maxProductResults {
		lines = keepProductResult(lines, ProductResult{ProductID: fmt.Sprint(i), Status: outcomeExported}, &omitted)
	}
	lines = keepProductResult(lines, ProductResult{ProductID: "bad", Status: outcomeInvalid}, &omitted)
	lines = keepProductResult(lines, ProductResult{ProductID: "more", Status: outcomeExported}, &omitted)
	if len(lines) != maxProductResults || omitted != 2 || lines[len(lines)-1].ProductID != "bad" || lines[0].ProductID != "1" {
		t.Errorf("%d lines, %d omitted, last %q, first %q", len(lines), omitted, lines[len(lines)-1].ProductID, lines[0].ProductID)
	}
}

func TestProductFieldsAsTheMarketplacesTakeThem(t *testing.T) {
	t.Parallel()
	p := &catalog.Product{
		Description: "<p>Made from <b>stoneware</b> &amp; glazed.</p><ul><li>350 ml</li><li>Dishwasher safe</li></ul>",
		Variants: []catalog.Variant{
			{SKU: "MUG-1", InventoryQuantity: 3},
			{SKU: "MUG-2", Price: "18.50", Currency: "EUR", Barcode: "012345678905", InventoryQuantity: -2},
			{SKU: "MUG-3", InventoryQuantity: 4},
		},
		Attributes: map[string][]catalog.AttributeValue{"brand": {{Data: json.RawMessage(`"Daino"`)}}},
	}
	if got := plainText(p.Description); got != "Made from stoneware & glazed.\n350 ml\nDishwasher safe" {
		t.Errorf("plain text %q", got)
	}
	if amount, currency := price(p); amount != 18.5 || currency != "EUR" {
		t.Errorf("price %v %s", amount, currency)
	}
	if kind, code := barcode(p); kind != "upc" || code != "012345678905" {
		t.Errorf("barcode %s %s", kind, code)
	}
	if n := quantity(p); n != 7 {
		t.Errorf("quantity %d, want 7 (a negative stock counts as none)", n)
	}
	if got := brand(p); got != "Daino" {
		t.Errorf("brand %q, want the attribute's", got)
	}
	p.ContentHash = "abc"
	if exportHash(p, true) == exportHash(p, false) {
		t.Error("an export with AI and one without send different things, yet hash the same")
	}
}
