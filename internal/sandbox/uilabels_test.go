package sandbox_test

import (
	"strings"
	"testing"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/translatefake"
	"github.com/dainostore/jobs/internal/translation"
)

// The sandbox store has a real store's 500 and more labels, every one a
// label the catalog takes, many with placeholders and inline HTML, and all
// of them come back from Translate (the fake) with their markup intact.
func TestTheSandboxStoresLabelsAreARealStores(t *testing.T) {
	t.Parallel()
	labels := sandbox.UILabels(0)
	if len(labels) < 500 {
		t.Fatalf("%d labels, want 500 or more", len(labels))
	}
	seen := map[string]bool{}
	placeholders, markup := 0, 0
	for _, l := range labels {
		if !catalog.ValidUILabelKey(l.Key) || seen[l.Key] || l.Text == "" || len(l.Text) > catalog.MaxUILabelBytes ||
			l.SourceHash != catalog.UILabelHash(l.Text) || l.Language != sandbox.UILabelsLanguage {
			t.Errorf("label %+v: a bad or repeated key, or a bad text", l)
		}
		seen[l.Key] = true
		for _, token := range translation.Markup(l.Text) {
			if translation.IsPlaceholder(token) {
				placeholders++
			} else {
				markup++
			}
		}
		translated := translation.Unprotect(translatefake.Translate(translation.Protect(l.Text), "en", "de"))
		words := l.Text // what is left to translate
		for _, token := range translation.Markup(l.Text) {
			words = strings.Replace(words, token, "", 1)
		}
		if lost, gained := translation.CompareMarkup(l.Text, translated); len(lost)+len(gained) > 0 || translated == l.Text && strings.ContainsAny(words, "aeiou") {
			t.Errorf("%s: %q translated as %q (lost %v, gained %v)", l.Key, l.Text, translated, lost, gained)
		}
	}
	if placeholders < 100 || markup < 40 {
		t.Errorf("%d placeholders and %d tags in all: too few for the labels of a real store", placeholders, markup)
	}
	if got := sandbox.UILabels(30); len(got) != 30 || got[0].Key != labels[0].Key {
		t.Errorf("UILabels(30): %d labels", len(got))
	}
}
