package translatefake

import (
	"hash/fnv"
	"regexp"
	"strings"
)

// The parts of a text a translation engine keeps, as Translate treats them.
var (
	tokenPattern = regexp.MustCompile(
		`</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>` + // an HTML tag
			`|&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);` + // an entity
			`|\{\{\s*[\p{L}\p{N}_.-]+\s*\}\}|\{[\p{L}\p{N}_.-]+\}|%%|%(?:\d+\$)?[-+0#]*\d*(?:\.\d+)?[sdifuxXeEgGc@]`) // a placeholder
	// doNotTranslate is an opening tag marked translate="no": what the
	// element holds is left alone.
	doNotTranslate = regexp.MustCompile(`^<([A-Za-z][A-Za-z0-9-]*)\s[^<>]*\btranslate\s*=\s*["']?no\b`)
)

// Kinds of segments of a text.
const (
	segmentText = iota
	segmentTag
	segmentEntity
	segmentPlaceholder
	// segmentKept is an element marked translate="no", whole.
	segmentKept
)

type segment struct {
	kind int
	text string
}

// segments splits text into what is translated and what is kept.
func segments(text string) []segment {
	var out []segment
	for len(text) > 0 {
		loc := tokenPattern.FindStringIndex(text)
		if loc == nil {
			out = append(out, segment{segmentText, text})
			break
		}
		if loc[0] > 0 {
			out = append(out, segment{segmentText, text[:loc[0]]})
		}
		token := text[loc[0]:loc[1]]
		end := loc[1]
		kind := segmentPlaceholder
		switch token[0] {
		case '<':
			kind = segmentTag
			if m := doNotTranslate.FindStringSubmatch(token); m != nil {
				closing := "</" + m[1] + ">"
				if i := strings.Index(text[end:], closing); i >= 0 {
					kind, end = segmentKept, end+i+len(closing)
				}
			}
		case '&':
			kind = segmentEntity
		}
		out = append(out, segment{kind, text[loc[0]:end]})
		text = text[end:]
	}
	return out
}

// accents are the marked forms of each vowel; a language uses the same
// column of each.
var accents = map[rune][]rune{
	'a': []rune("àáâäãå"), 'e': []rune("èéêë"), 'i': []rune("ìíîï"), 'o': []rune("òóôöõ"), 'u': []rune("ùúûü"),
	'A': []rune("ÀÁÂÄÃÅ"), 'E': []rune("ÈÉÊË"), 'I': []rune("ÌÍÎÏ"), 'O': []rune("ÒÓÔÖÕ"), 'U': []rune("ÙÚÛÜ"),
}

// columns fixes the column of a few languages, so their pseudo-translation
// looks like them (German umlauts, French grave accents, Spanish acute
// ones); any other language gets one from its code.
var columns = map[string]int{"de": 3, "nl": 3, "sv": 3, "fi": 3, "fr": 0, "fr-CA": 0, "it": 0, "es": 1, "es-MX": 1, "pt": 4, "pt-PT": 4}

func column(target string) int {
	if c, ok := columns[target]; ok {
		return c
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(target)) // a hash never fails to write
	return int(h.Sum32() % 60)     // 60: a multiple of every column count
}

// mark gives each vowel of text its form in the target language.
func mark(text, target string) string {
	c := column(target)
	return strings.Map(func(r rune) rune {
		if forms, ok := accents[r]; ok {
			return forms[c%len(forms)]
		}
		return r
	}, text)
}

// Translate is the fake's translation of text from source to target: the
// words of its text segments marked for the target language, the rest
// (tags, entities, placeholders, translate="no" elements) kept as it is.
// The same source and target return text unchanged, as Translate does.
func Translate(text, source, target string) string {
	if source == target {
		return text
	}
	var b strings.Builder
	for _, s := range segments(text) {
		if s.kind == segmentText {
			b.WriteString(mark(s.text, target))
		} else {
			b.WriteString(s.text)
		}
	}
	return b.String()
}

// breakMarkup breaks the answer's first placeholder the way a careless
// engine does (translated, its do-not-translate element dropped), or
// without one drops its first tag. It reports false, the answer as it
// was, when the answer has neither.
func breakMarkup(answer, target string) (string, bool) {
	parts := segments(answer)
	broken := func(i int, with string) string {
		parts[i].text = with
		var b strings.Builder
		for _, s := range parts {
			b.WriteString(s.text)
		}
		return b.String()
	}
	for i, s := range parts {
		switch s.kind {
		case segmentPlaceholder:
			return broken(i, mangle(s.text, target)), true
		case segmentKept:
			inner := segments(s.text[strings.IndexByte(s.text, '>')+1 : strings.LastIndexByte(s.text, '<')])
			if len(inner) == 1 && inner[0].kind == segmentPlaceholder {
				return broken(i, mangle(inner[0].text, target)), true
			}
		}
	}
	for i, s := range parts {
		if s.kind == segmentTag {
			return broken(i, ""), true
		}
	}
	return answer, false
}

// mangle is a placeholder as an engine translates it: its name's vowels
// marked, or, without a vowel, a space after its first character.
func mangle(placeholder, target string) string {
	if marked := mark(placeholder, target); marked != placeholder {
		return marked
	}
	return placeholder[:1] + " " + placeholder[1:]
}
