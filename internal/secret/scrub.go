package secret

import (
	"cmp"
	"slices"
	"strings"
)

// Scrub returns text with every occurrence of each of the values replaced by
// [Placeholder]. All occurrences are found in the original text before any
// is replaced, so a value that is part of a longer one does not break the
// longer one up (as if the longest values were replaced first), and values
// whose occurrences overlap in the text are hidden whole, by one
// placeholder for the overlapping run. Empty values are ignored.
func Scrub(text string, values []string) string {
	var hits []span
	for _, v := range values {
		if v == "" {
			continue
		}
		for from := 0; ; {
			i := strings.Index(text[from:], v)
			if i < 0 {
				break
			}
			hits = append(hits, span{from + i, from + i + len(v)})
			from += i + 1
		}
	}
	if len(hits) == 0 {
		return text
	}
	slices.SortFunc(hits, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	var b strings.Builder
	b.Grow(len(text))
	last := 0 // end of the text hidden so far
	for i := 0; i < len(hits); {
		start, end := hits[i].start, hits[i].end
		for i++; i < len(hits) && hits[i].start < end; i++ {
			end = max(end, hits[i].end)
		}
		b.WriteString(text[last:start])
		b.WriteString(Placeholder)
		last = end
	}
	b.WriteString(text[last:])
	return b.String()
}
