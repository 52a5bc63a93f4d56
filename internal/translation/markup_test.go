package translation_test

import (
	"fmt"
	"testing"

	"github.com/dainostore/jobs/internal/translation"
)

func TestMarkupFindsPlaceholdersAndTags(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text string
		want string
	}{
		{"You have {count} items", "[{count}]"},
		{"Hello, {{name}}! Hi {{ name }}", "[{{name}} {{ name }}]"},
		{"Page %1$s of %2$d, %.2f%% off, %@", "[%1$s %2$d %.2f %% %@]"},
		{`<strong>Free</strong> shipping over %s. <a href="/help?topic={topic}">Details</a><br/>`,
			`[<strong> </strong> %s <a href="/help?topic={topic}"> </a> <br/>]`},
		// Not placeholders: a percentage, braces around words, a "<" in text.
		{"100% secure, { not one }, < 5 items", "[]"},
	} {
		if got := fmt.Sprint(translation.Markup(tt.text)); got != tt.want {
			t.Errorf("Markup(%q) = %s, want %s", tt.text, got, tt.want)
		}
	}
}

// Each placeholder goes to Translate in a do-not-translate span; tags go
// as they are; unwrapping gives the label back.
func TestProtectWrapsPlaceholdersOnly(t *testing.T) {
	t.Parallel()
	label := `Hi {{name}}, <strong>{count}</strong> items for %s`
	protected := translation.Protect(label)
	want := `Hi <span translate="no">{{name}}</span>, <strong><span translate="no">{count}</span></strong> items for <span translate="no">%s</span>`
	if protected != want {
		t.Errorf("Protect = %s\nwant      %s", protected, want)
	}
	if back := translation.Unprotect(protected); back != label {
		t.Errorf("Unprotect(Protect) = %s", back)
	}
	// Translate may give the attribute back with other quotes.
	if got := translation.Unprotect(`<span translate=no>{count}</span> und <span translate='no'>%s</span>`); got != "{count} und %s" {
		t.Errorf("Unprotect with other quotes = %q", got)
	}
}

func TestCompareMarkupCountsEachTokenInAnyOrder(t *testing.T) {
	t.Parallel()
	source := `<strong>{count}</strong> of {total} – {count} left`
	for _, tt := range []struct {
		translated   string
		lost, gained string
	}{
		{`{total} von <strong>{count}</strong>, {count} übrig`, "[]", "[]"},                                 // moved: fine
		{`<strong>{count}</strong> von {total}`, "[{count}]", "[]"},                                         // one of two lost
		{`<b>{count}</b> von {total}, {cöunt} übrig`, "[</strong> <strong> {count}]", "[</b> <b> {cöunt}]"}, // changed
	} {
		lost, gained := translation.CompareMarkup(source, tt.translated)
		if fmt.Sprint(lost) != tt.lost || fmt.Sprint(gained) != tt.gained {
			t.Errorf("%s: lost %v gained %v, want %s and %s", tt.translated, lost, gained, tt.lost, tt.gained)
		}
	}
}

func TestSupportedLanguagesAreTranslatesCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"de", "es-MX", "zh-TW", "pt-PT", "fa-AF"} {
		if !translation.Supported(code) {
			t.Errorf("%s is not supported", code)
		}
	}
	for _, code := range []string{"", "xx", "es-mx", "es_MX", "DE", "auto", "en-US"} {
		if translation.Supported(code) {
			t.Errorf("%q is supported", code)
		}
	}
}
