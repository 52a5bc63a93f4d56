package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// Product is what the model rewrites, in plain words.
type Product struct {
	Title string `json:"title"`
	// Description may be HTML; the model writes plain text from it.
	Description string `json:"description,omitempty"`
	Brand       string `json:"brand,omitempty"`
	ProductType string `json:"product_type,omitempty"`
	// Features are the options, tags and attribute facts, each readable on
	// its own: "Colour: Sand", "Organic cotton".
	Features []string `json:"features,omitempty"`
	// Language is the language to write in, e.g. "en-US"; empty means the
	// language of the product's text.
	Language string `json:"language,omitempty"`
}

// Limits are the marketplace's limits on the text, in characters (runes).
type Limits struct {
	// Marketplace is named in the prompt: "Amazon", "eBay".
	Marketplace    string `json:"marketplace"`
	TitleMax       int    `json:"title_max_characters"`
	DescriptionMax int    `json:"description_max_characters"`
	// BulletMax bounds each bullet point; BulletsMax their number, 0 for a
	// marketplace that shows none (eBay).
	BulletMax  int `json:"bullet_point_max_characters"`
	BulletsMax int `json:"bullet_points_max"`
}

// Text is the rewritten text, within the limits.
type Text struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Bullets     []string `json:"bullet_points"`
}

// Usage is what the model was paid for: the tokens of every call answered.
// A call the service refused costs nothing and is not counted.
type Usage struct {
	InputTokens, OutputTokens int
	Calls                     int
}

// Optimizer rewrites products with one model of Amazon Bedrock. It is safe
// for concurrent use.
type Optimizer struct {
	client  *bedrockruntime.Client
	modelID string
}

// New returns an optimizer that calls modelID (a base model id such as
// "amazon.nova-lite-v1:0", or an inference profile id such as
// "us.amazon.nova-lite-v1:0") through client.
func New(client *bedrockruntime.Client, modelID string) *Optimizer {
	return &Optimizer{client: client, modelID: modelID}
}

// sdkMaxAttempts is how often the SDK sends one Converse call. Its default
// (3 attempts, backoff up to 20 s) would hold an export's Lambda while a
// throttled model recovers; one quick retry absorbs a blip, and whatever
// survives it goes back to the job, whose retry schedule waits minutes
// without holding a Lambda.
const sdkMaxAttempts = 2

// NewClient returns the Bedrock Runtime client for New. A non-empty
// endpoint replaces the regional one (bedrockfake, in tests and the
// sandbox).
func NewClient(cfg aws.Config, endpoint string) *bedrockruntime.Client {
	return bedrockruntime.NewFromConfig(cfg, func(o *bedrockruntime.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.RetryMaxAttempts = sdkMaxAttempts
	})
}

// ModelID is the model the optimizer calls.
func (o *Optimizer) ModelID() string { return o.modelID }

// temperature is low: a listing should say what the product says, the same
// way each time, not be creative.
const temperature = 0.2

// Optimize rewrites p within l. An answer that is not the JSON asked for,
// or breaks a limit, is sent back once with what was wrong; a second such
// answer is an *ItemError, as is an answer the model could not finish
// (max_tokens) or a filter stopped. A throttled model is a *Throttled, a
// model the account cannot use a *ConfigError, and any other error is
// transient. Usage counts every call answered, whatever the outcome.
func (o *Optimizer) Optimize(ctx context.Context, p Product, l Limits) (Text, Usage, error) {
	var usage Usage
	if err := l.validate(); err != nil {
		return Text{}, usage, fmt.Errorf("optimize %q: %w", p.Title, err)
	}
	input := &bedrockruntime.ConverseInput{
		ModelId: aws.String(o.modelID),
		System:  []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: systemPrompt(l)}},
		Messages: []types.Message{{
			Role:    types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: userMessage(p)}},
		}},
		InferenceConfig: &types.InferenceConfiguration{
			MaxTokens:   aws.Int32(maxTokens(l)),
			Temperature: aws.Float32(temperature),
		},
	}
	var problems []string
	for range 2 {
		out, err := o.client.Converse(ctx, input)
		if err != nil {
			return Text{}, usage, o.classify(err)
		}
		usage.add(out.Usage)
		reply, ok := out.Output.(*types.ConverseOutputMemberMessage)
		if !ok {
			return Text{}, usage, &ItemError{Reason: fmt.Sprintf("the model answered no message (stop reason %q)", out.StopReason)}
		}
		if err := stopped(out.StopReason); err != nil {
			return Text{}, usage, err
		}
		var text Text
		if text, problems = parseAnswer(reply.Value.Content, l); len(problems) == 0 {
			return text, usage, nil
		}
		input.Messages = append(input.Messages, reply.Value, types.Message{
			Role:    types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: reaskMessage(problems)}},
		})
	}
	return Text{}, usage, &ItemError{Reason: "the model's answer was unusable twice; the last: " + strings.Join(problems, "; ")}
}

func (l Limits) validate() error {
	if l.TitleMax <= 0 || l.DescriptionMax <= 0 || l.BulletsMax < 0 || (l.BulletsMax > 0 && l.BulletMax <= 0) {
		return fmt.Errorf("limits %+v: the title and description need a positive maximum, and bullet points a positive one when there are any", l)
	}
	return nil
}

func (u *Usage) add(t *types.TokenUsage) {
	u.Calls++
	if t == nil {
		return
	}
	u.InputTokens += int(aws.ToInt32(t.InputTokens))
	u.OutputTokens += int(aws.ToInt32(t.OutputTokens))
}

// stopped returns an *ItemError when the model did not finish its answer:
// asking again would stop the same way.
func stopped(reason types.StopReason) error {
	switch reason {
	case types.StopReasonMaxTokens:
		return &ItemError{Reason: "the model ran out of output tokens before finishing the text (stop reason max_tokens)"}
	case types.StopReasonModelContextWindowExceeded:
		return &ItemError{Reason: "the product is too long for the model's context window (stop reason model_context_window_exceeded)"}
	case types.StopReasonContentFiltered:
		return &ItemError{Reason: "the model's content filter blocked the text (stop reason content_filtered)"}
	case types.StopReasonGuardrailIntervened:
		return &ItemError{Reason: "a guardrail blocked the text (stop reason guardrail_intervened)"}
	}
	return nil
}

// parseAnswer reads the answer's first text block as the JSON asked for
// and checks it against the limits. It returns what is wrong in words the
// model is told on the second try.
func parseAnswer(content []types.ContentBlock, l Limits) (Text, []string) {
	var raw string
	found := false
	for _, block := range content {
		if t, ok := block.(*types.ContentBlockMemberText); ok {
			raw, found = t.Value, true
			break
		}
	}
	if !found {
		return Text{}, []string{"the answer has no text"}
	}
	// Unknown fields are refused: a model that renamed one ("bullets")
	// would otherwise lose its content without a word, and told what was
	// wrong it answers right the second time.
	var text Text
	dec := json.NewDecoder(strings.NewReader(unfence(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&text); err != nil {
		return Text{}, []string{"the answer is not the JSON object asked for (" + err.Error() + ")"}
	}
	if dec.More() {
		return Text{}, []string{"the answer has more after the JSON object"}
	}
	text.Title = strings.TrimSpace(text.Title)
	text.Description = strings.TrimSpace(text.Description)
	for i := range text.Bullets {
		text.Bullets[i] = strings.TrimSpace(text.Bullets[i])
	}
	if problems := text.check(l); len(problems) > 0 {
		return Text{}, problems
	}
	if text.Bullets == nil {
		text.Bullets = []string{}
	}
	return text, nil
}

// unfence strips the Markdown fence (```json … ```) chat-tuned models put
// around JSON even when told not to: the JSON inside is what was asked for.
func unfence(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") || len(s) < 6 {
		return s
	}
	s = strings.TrimSuffix(s, "```")
	_, s, _ = strings.Cut(s, "\n") // the opening fence and its language tag
	return s
}

// check lists the limits t breaks.
func (t Text) check(l Limits) []string {
	var problems []string
	over := func(what string, s string, max int) {
		if n := utf8.RuneCountInString(s); n > max {
			problems = append(problems, fmt.Sprintf("%s has %d characters, over the limit of %d", what, n, max))
		}
	}
	if t.Title == "" {
		problems = append(problems, "the title is empty")
	}
	over("the title", t.Title, l.TitleMax)
	over("the description", t.Description, l.DescriptionMax)
	if len(t.Bullets) > l.BulletsMax {
		problems = append(problems, fmt.Sprintf("there are %d bullet points, over the limit of %d", len(t.Bullets), l.BulletsMax))
	}
	for i, b := range t.Bullets {
		if b == "" {
			problems = append(problems, fmt.Sprintf("bullet point %d is empty", i+1))
		}
		over(fmt.Sprintf("bullet point %d", i+1), b, l.BulletMax)
	}
	return problems
}

// classify turns a failed Converse call into the error class the export
// acts on, by the exception's type.
func (o *Optimizer) classify(err error) error {
	var (
		throttling    *types.ThrottlingException
		notReady      *types.ModelNotReadyException
		accessDenied  *types.AccessDeniedException
		notFound      *types.ResourceNotFoundException
		invalid       *types.ValidationException
		quotaExceeded *types.ServiceQuotaExceededException
	)
	switch {
	case errors.As(err, &throttling), errors.As(err, &notReady):
		return &Throttled{ModelID: o.modelID, Err: err}
	case errors.As(err, &accessDenied), errors.As(err, &notFound), errors.As(err, &invalid), errors.As(err, &quotaExceeded):
		return &ConfigError{ModelID: o.modelID, Region: o.client.Options().Region, Err: err}
	}
	// InternalServerException, ServiceUnavailableException,
	// ModelTimeoutException, ModelErrorException, a timeout or a dropped
	// connection: the job retries them on its schedule.
	return fmt.Errorf("converse with model %s: %w", o.modelID, err)
}
