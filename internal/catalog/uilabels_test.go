package catalog_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/testenv"
)

func uiLabelStore(t *testing.T) *catalog.Store {
	t.Helper()
	env := testenv.New(t)
	return catalog.NewStore(env.DynamoDB(), env.Config.CatalogTableName, nil)
}

// The first labels a store writes set its default language, once: a later
// claim in another language gets the first back.
func TestTheFirstLanguageClaimedIsTheDefault(t *testing.T) {
	t.Parallel()
	store := uiLabelStore(t)
	ctx := context.Background()

	if got, err := store.UILabelLanguage(ctx, "labels-1"); err != nil || got != "" {
		t.Fatalf("before any label: %q, %v", got, err)
	}
	if got, err := store.ClaimUILabelLanguage(ctx, "labels-1", "en"); err != nil || got != "en" {
		t.Fatalf("first claim: %q, %v", got, err)
	}
	if got, err := store.ClaimUILabelLanguage(ctx, "labels-1", "de"); err != nil || got != "en" {
		t.Errorf("a claim of de after en: %q, %v; want en", got, err)
	}
	if got, err := store.UILabelLanguage(ctx, "labels-1"); err != nil || got != "en" {
		t.Errorf("default language %q, %v", got, err)
	}
	if got, _ := store.UILabelLanguage(ctx, "labels-2"); got != "" {
		t.Errorf("another store's default language: %q", got)
	}
}

// Labels are read a page at a time in key order, per store and language,
// or by key.
func TestUILabelsAreReadInKeyOrderPerStoreAndLanguage(t *testing.T) {
	t.Parallel()
	store := uiLabelStore(t)
	ctx := context.Background()
	var labels []catalog.UILabel
	for i := range 60 {
		text := fmt.Sprintf("Label %d of {count}", i)
		labels = append(labels, catalog.UILabel{Key: fmt.Sprintf("page.label_%02d", i), Language: "en", Text: text,
			SourceHash: catalog.UILabelHash(text), Origin: catalog.LabelSource})
	}
	if err := store.PutUILabels(ctx, "labels-1", labels); err != nil {
		t.Fatal(err)
	}
	german := catalog.UILabel{Key: "page.label_07", Language: "de", Text: "Etikett 7 von {count}", SourceHash: labels[7].SourceHash,
		Origin: catalog.LabelTranslated, JobID: "job-1"}
	if err := store.PutUILabel(ctx, "labels-1", german); err != nil {
		t.Fatal(err)
	}

	var read []string
	after, pages := "", 0
	for {
		page, more, err := store.UILabels(ctx, "labels-1", "en", after, 25)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, l := range page {
			read = append(read, l.Key)
			if l.UpdatedAt == "" || l.Language != "en" {
				t.Errorf("label %+v", l)
			}
		}
		if !more {
			break
		}
		after = page[len(page)-1].Key
	}
	if len(read) != 60 || !slices.IsSorted(read) || pages != 3 {
		t.Errorf("read %d labels in %d pages, sorted %t", len(read), pages, slices.IsSorted(read))
	}

	found, err := store.UILabelsByKey(ctx, "labels-1", "de", []string{"page.label_07", "page.label_08", "page.label_07"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found["page.label_07"].Text != german.Text || found["page.label_07"].JobID != "job-1" {
		t.Errorf("German labels by key: %+v", found)
	}
	if other, _, err := store.UILabels(ctx, "labels-2", "en", "", 100); err != nil || len(other) != 0 {
		t.Errorf("another store's labels: %d, %v", len(other), err)
	}
	if de, _, err := store.UILabels(ctx, "labels-1", "de", "", 100); err != nil || len(de) != 1 {
		t.Errorf("German labels: %d, %v", len(de), err)
	}
}

func TestUILabelKeysAndHashes(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"checkout.place_order", "account.orderCount", "404.title", "nav-menu.open"} {
		if !catalog.ValidUILabelKey(k) {
			t.Errorf("%q is refused", k)
		}
	}
	for _, k := range []string{"", ".hidden", "a b", "cart#total", "ä", string(make([]byte, 129))} {
		if catalog.ValidUILabelKey(k) {
			t.Errorf("%q is taken", k)
		}
	}
	sum := sha256.Sum256([]byte("Cart"))
	if got := catalog.UILabelHash("Cart"); got != hex.EncodeToString(sum[:16]) || got == catalog.UILabelHash("Cart ") {
		t.Errorf("the hash of Cart is %s: not the text's", got)
	}
}
