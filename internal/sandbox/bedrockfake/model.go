package bedrockfake

import (
	"bytes"
	"encoding/json"
	"html"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dainostore/jobs/internal/ai"
)

// answerShape is how the model answers a call: as the prompt asks, or in
// one of the ways real models stray from it.
type answerShape int

const (
	shapeFollowed      answerShape = iota
	shapeProse                     // chatty prose instead of JSON
	shapeOverlongTitle             // the JSON, with a title over the limit
	shapeCutOff                    // the JSON, cut off halfway: stop reason max_tokens
	shapeFenced                    // the JSON in a Markdown ```json fence
)

// charsPerToken is the rough size of a token in English text.
const charsPerToken = 4

// answer is the model's reply to one call.
type answer struct {
	text                      string
	stopReason                string
	inputTokens, outputTokens int
}

// converseResponse is Converse's answer body.
type converseResponse struct {
	Output     converseOutput `json:"output"`
	StopReason string         `json:"stopReason"`
	Usage      tokenUsage     `json:"usage"`
	Metrics    metrics        `json:"metrics"`
}

type converseOutput struct {
	Message message `json:"message"`
}

type tokenUsage struct {
	InputTokens  int `json:"inputTokens"`
	OutputTokens int `json:"outputTokens"`
	TotalTokens  int `json:"totalTokens"`
}

type metrics struct {
	LatencyMs int64 `json:"latencyMs"`
}

// response is the answer as Converse sends it; latencyMs is the time the
// model was made to take.
func (a answer) response(latency time.Duration) converseResponse {
	text := a.text
	return converseResponse{
		Output:     converseOutput{Message: message{Role: "assistant", Content: []contentBlock{{Text: &text}}}},
		StopReason: a.stopReason,
		Usage:      tokenUsage{InputTokens: a.inputTokens, OutputTokens: a.outputTokens, TotalTokens: a.inputTokens + a.outputTokens},
		Metrics:    metrics{LatencyMs: latency.Milliseconds()},
	}
}

// reply plays a model that follows package ai's prompt: it reads the limits
// from the system prompt and the product from the first user message that
// carries one, and rewrites it, the same way for the same product. A
// request without them gets a polite refusal in prose, as a model gives.
// The answer stops at the request's maxTokens, as a model's does.
func reply(req converseRequest, shape answerShape) answer {
	var system strings.Builder
	for _, block := range req.System {
		if block.Text != nil {
			system.WriteString(*block.Text)
		}
	}
	input := utf8.RuneCountInString(system.String())
	productText := ""
	for _, m := range req.Messages {
		for _, block := range m.Content {
			if block.Text == nil {
				continue
			}
			input += utf8.RuneCountInString(*block.Text)
			if productText == "" && m.Role == "user" && strings.Contains(*block.Text, ai.ProductOpen) {
				productText = *block.Text
			}
		}
	}

	text, stopReason := compose(system.String(), productText, shape)
	if req.InferenceConfig.MaxTokens != nil && tokens(text) > *req.InferenceConfig.MaxTokens {
		text = string([]rune(text)[:*req.InferenceConfig.MaxTokens*charsPerToken])
		stopReason = "max_tokens"
	}
	return answer{text: text, stopReason: stopReason, inputTokens: max(1, (input+charsPerToken-1)/charsPerToken), outputTokens: tokens(text)}
}

// tokens estimates the tokens of text.
func tokens(text string) int {
	return max(1, (utf8.RuneCountInString(text)+charsPerToken-1)/charsPerToken)
}

// compose writes the answer's text in the shape asked for.
func compose(system, productText string, shape answerShape) (text, stopReason string) {
	limits, limitsErr := ai.ParseLimitsBlock(system)
	product, productErr := ai.ParseProductBlock(productText)
	if limitsErr != nil || productErr != nil {
		return "I can rewrite a product's listing when the request gives me the product and the marketplace's limits. " +
			"Please send the product's details.", "end_turn"
	}
	t := rewrite(product, limits)
	switch shape {
	case shapeProse:
		return "Here is an optimized listing for " + limits.Marketplace + ":\n\n" +
			"Title: " + t.Title + "\n\nDescription: " + t.Description, "end_turn"
	case shapeOverlongTitle:
		t.Title = overlong(t.Title, product, limits.TitleMax)
	}
	encoded := encode(t)
	switch shape {
	case shapeCutOff:
		return string([]rune(encoded)[:utf8.RuneCountInString(encoded)/2]), "max_tokens"
	case shapeFenced:
		return "```json\n" + encoded + "\n```", "end_turn"
	}
	return encoded, "end_turn"
}

// rewrite is the listing a modest model writes: the brand, the title and
// the first feature as the title; the description's text without its HTML
// and the features listed as facts; the features as bullet points. Each
// is cut to its limit at a word boundary.
func rewrite(p ai.Product, l ai.Limits) ai.Text {
	name := strings.TrimSpace(p.Title)
	if name == "" {
		name = strings.TrimSpace(p.ProductType)
	}
	title := name
	if brand := strings.TrimSpace(p.Brand); brand != "" && !hasPrefixFold(title, brand) {
		title = brand + " " + title
	}
	if len(p.Features) > 0 {
		title += " – " + featureValue(p.Features[0])
	}
	title = cutAtWord(strings.TrimSpace(title), l.TitleMax)
	if title == "" {
		title = cutAtWord("Product", l.TitleMax)
	}

	description := plainText(p.Description)
	if description == "" {
		description = name + "."
	}
	if len(p.Features) > 0 {
		description += "\n\nDetails: " + strings.Join(p.Features, "; ") + "."
	}
	description = cutAtWord(description, l.DescriptionMax)

	bullets := []string{}
	for _, f := range p.Features {
		if len(bullets) == l.BulletsMax {
			break
		}
		if b := cutAtWord(strings.TrimSpace(f), l.BulletMax); b != "" {
			bullets = append(bullets, b)
		}
	}
	return ai.Text{Title: title, Description: description, Bullets: bullets}
}

// featureValue is the value of an attribute fact ("Colour: Sand" → "Sand"),
// or the feature itself.
func featureValue(feature string) string {
	if _, value, ok := strings.Cut(feature, ": "); ok && strings.TrimSpace(value) != "" {
		return strings.TrimSpace(value)
	}
	return strings.TrimSpace(feature)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// overlong makes a title longer than max, from the product's own words, as
// a model that ignored the limit writes it.
func overlong(title string, p ai.Product, max int) string {
	words := strings.Fields(plainText(p.Description) + " " + strings.Join(p.Features, " "))
	if len(words) == 0 {
		words = []string{"Premium", "Quality"}
	}
	for i := 0; utf8.RuneCountInString(title) <= max; i++ {
		title += " " + words[i%len(words)]
	}
	return title
}

// cutAtWord cuts s to at most max runes, at the last word boundary that
// fits, without dangling punctuation; a single word longer than max is cut
// where it must be.
func cutAtWord(s string, max int) string {
	runes := []rune(s)
	if len(runes) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	cut := runes[:max]
	if !unicode.IsSpace(runes[max]) {
		if i := lastSpace(cut); i > 0 {
			cut = cut[:i]
		}
	}
	return strings.TrimRightFunc(string(cut), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("–-,;:", r)
	})
}

func lastSpace(runes []rune) int {
	for i := len(runes) - 1; i >= 0; i-- {
		if unicode.IsSpace(runes[i]) {
			return i
		}
	}
	return -1
}

// plainText is HTML as a reader sees it: the tags dropped (a block's end
// still ends a word), the entities decoded, the white space collapsed. A
// "<" that starts no tag ("< 5 kg") is text.
func plainText(s string) string {
	runes := []rune(s)
	var b strings.Builder
	for i := 0; i < len(runes); i++ {
		if runes[i] == '<' && i+1 < len(runes) && (unicode.IsLetter(runes[i+1]) || runes[i+1] == '/' || runes[i+1] == '!') {
			end := i + 1
			for end < len(runes) && runes[end] != '>' {
				end++
			}
			if blockTags[tagName(runes[i+1:end])] {
				b.WriteByte(' ')
			}
			i = end
			continue
		}
		b.WriteRune(runes[i])
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}

// blockTags are the HTML elements that break a line.
var blockTags = map[string]bool{
	"p": true, "br": true, "div": true, "li": true, "ul": true, "ol": true, "tr": true, "td": true, "th": true,
	"table": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "hr": true,
}

// tagName is the lower-case name of the tag whose text (after "<") is tag.
func tagName(tag []rune) string {
	name := strings.TrimPrefix(string(tag), "/")
	if i := strings.IndexFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }); i >= 0 {
		name = name[:i]
	}
	return strings.ToLower(name)
}

// encode is t as compact JSON, without the \u003c escapes a model never
// writes.
func encode(t ai.Text) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(t) // strings always encode
	return strings.TrimSpace(buf.String())
}
