package secret

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// terms are the credential terms of the naming rule, as documented in the
// package comment. Words of a term are separated by "_".
var terms = []string{
	"password", "passwd", "secret", "token", "api_key", "apikey",
	"access_key", "private_key", "client_secret", "credentials",
	"credential", "authorization", "auth", "cookie", "session", "signature",
}

// phrases are the terms split into words; a term of several words is also
// present written as one word.
var phrases = func() [][]string {
	var out [][]string
	seen := make(map[string]bool)
	add := func(words []string) {
		k := strings.Join(words, " ")
		if !seen[k] {
			seen[k] = true
			out = append(out, words)
		}
	}
	for _, t := range terms {
		words := strings.Split(t, "_")
		add(words)
		if len(words) > 1 {
			add([]string{strings.Join(words, "")})
		}
	}
	return out
}()

// IsSecretKey reports whether a JSON object key names a credential by the
// naming rule of the package documentation.
func IsSecretKey(key string) bool {
	words := splitWords(key)
	for _, p := range phrases {
		if containsPhrase(words, p) {
			return true
		}
	}
	return false
}

// containsPhrase reports whether words holds the phrase as a run of
// consecutive words. The first word of the run may have anything before
// the phrase's first word (accesstoken), and the last may carry a plural
// "s" (api_keys).
func containsPhrase(words, phrase []string) bool {
	n := len(phrase)
	for i := 0; i+n <= len(words); i++ {
		if matchPhraseAt(words[i:i+n], phrase) {
			return true
		}
	}
	return false
}

func matchPhraseAt(words, phrase []string) bool {
	last := len(phrase) - 1
	for j, p := range phrase {
		w := words[j]
		if j == last {
			// The plural "s" is optional, and may belong to the term.
			if !matchWord(w, p, j == 0) && !matchWord(strings.TrimSuffix(w, "s"), p, j == 0) {
				return false
			}
			continue
		}
		if !matchWord(w, p, j == 0) {
			return false
		}
	}
	return true
}

// matchWord reports whether w is p, or, if suffix is set, ends with p.
func matchWord(w, p string, suffix bool) bool {
	if suffix {
		return strings.HasSuffix(w, p)
	}
	return w == p
}

// splitWords splits a key into lower-case words as the naming rule
// describes.
func splitWords(key string) []string {
	var words []string
	start := -1 // byte offset where the current word began, or -1
	var prev rune
	flush := func(end int) {
		if start >= 0 {
			words = append(words, strings.ToLower(key[start:end]))
			start = -1
		}
	}
	for i := 0; i < len(key); {
		r, size := utf8.DecodeRuneInString(key[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			prev = r
			i += size
			continue
		}
		if start >= 0 {
			switch {
			case unicode.IsDigit(r) != unicode.IsDigit(prev):
				flush(i) // letters and digits meet
			case unicode.IsUpper(r) && unicode.IsLower(prev):
				flush(i) // refreshToken
			case unicode.IsUpper(r) && unicode.IsUpper(prev) && nextIsLower(key[i+size:]):
				flush(i) // APIKey: the K starts a word
			}
		}
		if start < 0 {
			start = i
		}
		prev = r
		i += size
	}
	flush(len(key))
	return words
}

// nextIsLower reports whether s begins with a lower-case letter.
func nextIsLower(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}
