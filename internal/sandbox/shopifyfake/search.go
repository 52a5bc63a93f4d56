package shopifyfake

import (
	"slices"
	"strings"
	"time"
)

// The query argument of products, collections and their counts is
// Shopify's search syntax. The fake understands field:value filters joined
// by spaces (AND), with the comparators :>, :>=, :< and :<= on dates, which
// covers what an import sends (updated_at:>'2026-05-01T00:00:00Z'). Like
// Shopify, it ignores a filter it cannot apply and says so in the
// response's extensions.search warnings instead of failing the query.

type searchTerm struct {
	field, comparator, value string
	at                       time.Time // the value of a date filter
}

type searchReport struct {
	Path     []any           `json:"path"`
	Query    string          `json:"query"`
	Warnings []searchWarning `json:"warnings"`
}

type searchWarning struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

var (
	productSearchFields    = map[string]bool{"updated_at": true, "created_at": true, "status": true, "handle": true, "product_type": true, "vendor": true, "tag": true}
	collectionSearchFields = map[string]bool{"updated_at": true, "handle": true, "title": true, "collection_type": true}
)

func parseSearch(query string, known map[string]bool) ([]searchTerm, []searchWarning) {
	var terms []searchTerm
	var warnings []searchWarning
	for _, word := range splitSearch(query) {
		if word == "AND" {
			continue
		}
		field, value, ok := strings.Cut(word, ":")
		if !ok || word == "OR" || word == "NOT" || strings.HasPrefix(word, "-") {
			warnings = append(warnings, searchWarning{Message: "The sandbox supports field:value filters joined by AND only; ignored " + word})
			continue
		}
		if !known[field] {
			warnings = append(warnings, searchWarning{Field: field, Message: "Invalid search field for this query."})
			continue
		}
		term := searchTerm{field: field, value: value}
		for _, comparator := range []string{">=", "<=", ">", "<"} {
			if rest, ok := strings.CutPrefix(value, comparator); ok {
				term.comparator, term.value = comparator, rest
				break
			}
		}
		if field == "updated_at" || field == "created_at" {
			at, err := parseSearchTime(term.value)
			if err != nil {
				warnings = append(warnings, searchWarning{Field: field, Message: "Input `" + term.value + "` is not a valid date."})
				continue
			}
			term.at = at
		}
		terms = append(terms, term)
	}
	return terms, warnings
}

// splitSearch splits a search query into words at spaces outside quotes,
// dropping the quotes.
func splitSearch(query string) []string {
	var words []string
	var word strings.Builder
	var quote rune
	for _, r := range query {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '\'' || r == '"'):
			quote = r
		case quote == 0 && (r == ' ' || r == '\t' || r == '\n'):
			if word.Len() > 0 {
				words = append(words, word.String())
				word.Reset()
			}
		default:
			word.WriteRune(r)
		}
	}
	if word.Len() > 0 {
		words = append(words, word.String())
	}
	return words
}

func parseSearchTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

func (t searchTerm) matchesTime(v time.Time) bool {
	switch t.comparator {
	case ">":
		return v.After(t.at)
	case ">=":
		return !v.Before(t.at)
	case "<":
		return v.Before(t.at)
	case "<=":
		return !v.After(t.at)
	}
	return v.Equal(t.at)
}

func (t searchTerm) matchesText(v string) bool {
	return slices.ContainsFunc(strings.Split(t.value, ","), func(want string) bool { return strings.EqualFold(want, v) })
}

func productMatches(p Product, terms []searchTerm) bool {
	for _, t := range terms {
		var ok bool
		switch t.field {
		case "updated_at":
			ok = t.matchesTime(p.UpdatedAt)
		case "created_at":
			ok = t.matchesTime(p.CreatedAt)
		case "status":
			ok = t.matchesText(p.Status)
		case "handle":
			ok = t.matchesText(p.Handle)
		case "product_type":
			ok = t.matchesText(p.ProductType)
		case "vendor":
			ok = t.matchesText(p.Vendor)
		case "tag":
			ok = slices.ContainsFunc(p.Tags, t.matchesText)
		}
		if !ok {
			return false
		}
	}
	return true
}

func collectionMatches(c Collection, terms []searchTerm) bool {
	for _, t := range terms {
		var ok bool
		switch t.field {
		case "updated_at":
			ok = t.matchesTime(c.UpdatedAt)
		case "handle":
			ok = t.matchesText(c.Handle)
		case "title":
			ok = t.matchesText(c.Title)
		case "collection_type":
			kind := "custom"
			if c.Smart() {
				kind = "smart"
			}
			ok = t.matchesText(kind)
		}
		if !ok {
			return false
		}
	}
	return true
}
