package ai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The delimiters of the two data blocks of a request. The system prompt
// ends with the limits as JSON between LimitsOpen and LimitsClose; the
// first user message carries the product as JSON between ProductOpen and
// ProductClose. A model reads them as data, apart from the instructions,
// and bedrockfake reads them with ParseLimitsBlock and ParseProductBlock,
// so this file is the one contract between the two.
const (
	LimitsOpen   = "<limits>"
	LimitsClose  = "</limits>"
	ProductOpen  = "<product>"
	ProductClose = "</product>"
)

// systemPrompt asks for the rewrite within the marketplace's limits, and
// for nothing but the JSON object. It depends on the limits alone, so every
// product of an export sends the same one.
func systemPrompt(l Limits) string {
	var b strings.Builder
	fmt.Fprintf(&b, "You write product listings for the %s marketplace. Rewrite the product in the user's message "+
		"into a title, a description and bullet points that help a shopper decide, in the language named by the "+
		"product's \"language\" field (the language of its text when there is none).\n\n", l.Marketplace)
	b.WriteString("Rules:\n")
	b.WriteString("- Use only facts the product states: its title, description, brand, product type and features. " +
		"Never invent materials, sizes, quantities, certifications, compatibility, awards or claims.\n")
	fmt.Fprintf(&b, "- The title is at most %d characters and never empty.\n", l.TitleMax)
	fmt.Fprintf(&b, "- The description is plain text of at most %d characters: no HTML tags, no Markdown. "+
		"Separate paragraphs with a blank line.\n", l.DescriptionMax)
	if l.BulletsMax > 0 {
		fmt.Fprintf(&b, "- At most %d bullet points, each plain text of at most %d characters, each stating a different fact.\n",
			l.BulletsMax, l.BulletMax)
	} else {
		fmt.Fprintf(&b, "- %s shows no bullet points: answer an empty list.\n", l.Marketplace)
	}
	b.WriteString("- Characters are counted as Unicode characters, spaces included.\n")
	b.WriteString("- Answer with one JSON object and nothing else: no Markdown fence, no comment before or after it. " +
		"It has exactly these fields:\n")
	b.WriteString(`{"title":"…","description":"…","bullet_points":["…"]}` + "\n\n")
	b.WriteString("The limits as data:\n")
	b.WriteString(LimitsOpen)
	b.Write(encodeBlock(l))
	b.WriteString(LimitsClose)
	return b.String()
}

// userMessage is the first user message: the product as a JSON block.
func userMessage(p Product) string {
	return "Rewrite this product's listing text.\n\n" + ProductOpen + "\n" + string(encodeBlock(p)) + "\n" + ProductClose
}

// reaskMessage tells the model what was wrong with its answer.
func reaskMessage(problems []string) string {
	return "Your answer cannot be used: " + strings.Join(problems, "; ") +
		". Answer again with the corrected JSON object only, within every limit."
}

// encodeBlock is v as compact JSON that cannot end its block early: "</"
// is written "<\/", an escape JSON allows, so an HTML description holding
// "</product>" stays inside the product block. Other HTML is left readable
// rather than escaped to \u003c, which costs the model tokens.
func encodeBlock(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("ai: encode %T: %v", v, err)) // plain strings and ints always encode
	}
	return bytes.ReplaceAll(bytes.TrimSpace(buf.Bytes()), []byte("</"), []byte(`<\/`))
}

// ParseLimitsBlock reads the limits from a system prompt of Optimize.
func ParseLimitsBlock(systemPrompt string) (Limits, error) {
	var l Limits
	if err := decodeBlock(systemPrompt, LimitsOpen, LimitsClose, &l); err != nil {
		return Limits{}, fmt.Errorf("limits block: %w", err)
	}
	return l, nil
}

// ParseProductBlock reads the product from the first user message of
// Optimize.
func ParseProductBlock(userMessage string) (Product, error) {
	var p Product
	if err := decodeBlock(userMessage, ProductOpen, ProductClose, &p); err != nil {
		return Product{}, fmt.Errorf("product block: %w", err)
	}
	return p, nil
}

// decodeBlock decodes the JSON between the first open and the close after
// it. Unknown fields are refused, so the two sides cannot drift apart
// unnoticed.
func decodeBlock(text, open, close string, v any) error {
	_, rest, ok := strings.Cut(text, open)
	if !ok {
		return fmt.Errorf("no %s", open)
	}
	body, _, ok := strings.Cut(rest, close)
	if !ok {
		return fmt.Errorf("no %s after %s", close, open)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// maxTokens bounds the answer: the characters the limits allow, at two
// characters a token (English runs near four, but German, accents and
// JSON escapes run denser), and room for the JSON around them. It is a
// ceiling, not a charge (a call pays for the tokens written), so a generous
// one only keeps a valid answer from being cut off. It never exceeds
// 4,096, the smallest output limit among the models an export may use
// (Claude 3 Haiku's).
func maxTokens(l Limits) int32 {
	chars := l.TitleMax + l.DescriptionMax + l.BulletsMax*(l.BulletMax+8)
	return int32(min(chars/2+256, 4096))
}
