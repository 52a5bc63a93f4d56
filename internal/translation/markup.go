package translation

import (
	"regexp"
	"slices"
	"strings"
)

// The parts of a label a translation must keep as they are.
var (
	// tagPattern is an HTML tag, attributes and all: <strong>, </a>,
	// <a href="/account">, <br/>. Placeholders inside a tag's attributes
	// belong to the tag.
	tagPattern = `</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>`
	// placeholderPattern is a placeholder of the syntaxes labels use:
	// {{name}} and {{ name }} (Handlebars, Vue), {count} and {0} (ICU's
	// simple arguments), printf's %s, %d, %1$s, %.2f and %@, and %%. A space
	// is no printf flag here, so "100% secure" holds none.
	placeholderPattern = `\{\{\s*[\p{L}\p{N}_.-]+\s*\}\}|\{[\p{L}\p{N}_.-]+\}|%%|%(?:\d+\$)?[-+0#]*\d*(?:\.\d+)?[sdifuxXeEgGc@]`
	markupPattern      = regexp.MustCompile(tagPattern + `|` + placeholderPattern)
	placeholderOnly    = regexp.MustCompile(`^(?:` + placeholderPattern + `)$`)
	// protectedPattern is a placeholder as Protect wraps it, and as
	// Translate may give it back (the attribute's quotes changed).
	protectedPattern = regexp.MustCompile(`<span\s+translate\s*=\s*["']?no["']?\s*>([^<]*)</span>`)
)

// protectOpen and protectClose wrap what Translate must leave alone: its
// documented do-not-translate tags.
const (
	protectOpen  = `<span translate="no">`
	protectClose = `</span>`
)

// Markup returns the placeholders and tags of text, in order.
func Markup(text string) []string {
	return markupPattern.FindAllString(text, -1)
}

// IsPlaceholder reports whether token (one of Markup's) is a placeholder
// rather than a tag.
func IsPlaceholder(token string) bool { return placeholderOnly.MatchString(token) }

// Protect wraps each placeholder of text in a do-not-translate span, so
// Translate leaves it as it is; tags go as they are, Translate keeps them.
func Protect(text string) string {
	var b strings.Builder
	last := 0
	for _, loc := range markupPattern.FindAllStringIndex(text, -1) {
		token := text[loc[0]:loc[1]]
		b.WriteString(text[last:loc[0]])
		if IsPlaceholder(token) {
			b.WriteString(protectOpen + token + protectClose)
		} else {
			b.WriteString(token)
		}
		last = loc[1]
	}
	b.WriteString(text[last:])
	return b.String()
}

// Unprotect removes the do-not-translate spans Protect added from a
// translation, keeping what they hold.
func Unprotect(text string) string {
	return protectedPattern.ReplaceAllString(text, "$1")
}

// CompareMarkup returns the placeholders and tags translated lost and
// gained against source: each counted as often as it occurs, their order
// free, as a translation may move them. Both empty means the markup
// survived.
func CompareMarkup(source, translated string) (lost, gained []string) {
	count := map[string]int{}
	for _, token := range Markup(source) {
		count[token]++
	}
	for _, token := range Markup(translated) {
		count[token]--
	}
	for token, n := range count {
		for ; n > 0; n-- {
			lost = append(lost, token)
		}
		for ; n < 0; n++ {
			gained = append(gained, token)
		}
	}
	slices.Sort(lost)
	slices.Sort(gained)
	return lost, gained
}
