package ai

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

func TestPromptBlocksRoundTrip(t *testing.T) {
	t.Parallel()
	p := Product{
		Title:       `Mug "Classic"`,
		Description: "<p>Holds 300 ml.</p><!-- </product> -->",
		Brand:       "Acme",
		Features:    []string{"Colour: Blue"},
		Language:    "de-DE",
	}
	l := Limits{Marketplace: "eBay", TitleMax: 80, DescriptionMax: 4000}

	gotP, err := ParseProductBlock(userMessage(p))
	if err != nil || !reflect.DeepEqual(gotP, p) {
		t.Errorf("product = %#v, %v\nwant      %#v", gotP, err, p)
	}
	gotL, err := ParseLimitsBlock(systemPrompt(l))
	if err != nil || gotL != l {
		t.Errorf("limits = %#v, %v", gotL, err)
	}
	if !strings.Contains(systemPrompt(l), "eBay shows no bullet points") {
		t.Errorf("the eBay prompt does not say there are no bullet points:\n%s", systemPrompt(l))
	}

	for _, bad := range []string{"no block", ProductOpen + `{"title":"x"}`, ProductOpen + `{"title":"x","colour":"red"}` + ProductClose} {
		if _, err := ParseProductBlock(bad); err == nil {
			t.Errorf("ParseProductBlock(%q) succeeded", bad)
		}
	}
}

func TestMaxTokensFitsTheLimitsAndTheModels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		limits Limits
		want   int32
	}{
		{Limits{TitleMax: 80, DescriptionMax: 4000}, 2296},
		{Limits{TitleMax: 200, DescriptionMax: 2000, BulletMax: 500, BulletsMax: 5}, 2626},
		{Limits{TitleMax: 200, DescriptionMax: 8000, BulletMax: 1000, BulletsMax: 10}, 4096},
	}
	for _, tt := range tests {
		if got := maxTokens(tt.limits); got != tt.want {
			t.Errorf("maxTokens(%+v) = %d, want %d", tt.limits, got, tt.want)
		}
	}
}

func text(s string) []types.ContentBlock {
	return []types.ContentBlock{&types.ContentBlockMemberText{Value: s}}
}

func TestParseAnswerSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	l := Limits{Marketplace: "Amazon", TitleMax: 10, DescriptionMax: 20, BulletMax: 5, BulletsMax: 2}
	tests := []struct {
		name    string
		content []types.ContentBlock
		want    Text
		wantErr []string
	}{
		{"within the limits, runes counted", text(`{"title":"Café Crème","description":"Smooth.","bullet_points":["Bold"]}`),
			Text{Title: "Café Crème", Description: "Smooth.", Bullets: []string{"Bold"}}, nil},
		{"fenced, padded", text("```json\n {\"title\":\" Mug \",\"description\":\"\",\"bullet_points\":[]}\n```\n"),
			Text{Title: "Mug", Description: "", Bullets: []string{}}, nil},
		{"no bullet points field", text(`{"title":"Mug","description":"A mug."}`),
			Text{Title: "Mug", Description: "A mug.", Bullets: []string{}}, nil},
		{"every limit broken", text(`{"title":"","description":"` + strings.Repeat("x", 21) + `","bullet_points":["123456","",""]}`),
			Text{}, []string{"the title is empty", "the description has 21 characters, over the limit of 20",
				"there are 3 bullet points, over the limit of 2", "bullet point 1 has 6 characters, over the limit of 5",
				"bullet point 2 is empty", "bullet point 3 is empty"}},
		{"unknown field", text(`{"title":"Mug","description":"","bullets":["Big"]}`),
			Text{}, []string{`the answer is not the JSON object asked for (json: unknown field "bullets")`}},
		{"prose", text("Here is your listing: Mug"),
			Text{}, []string{"the answer is not the JSON object asked for (invalid character 'H' looking for beginning of value)"}},
		{"two objects", text(`{"title":"Mug","description":""} {}`),
			Text{}, []string{"the answer has more after the JSON object"}},
		{"no text", []types.ContentBlock{&types.ContentBlockMemberReasoningContent{}},
			Text{}, []string{"the answer has no text"}},
	}
	for _, tt := range tests {
		got, problems := parseAnswer(tt.content, l)
		if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(problems, tt.wantErr) {
			t.Errorf("%s: parseAnswer = %#v, %q\nwant %#v, %q", tt.name, got, problems, tt.want, tt.wantErr)
		}
	}
}

func TestClassifyByExceptionType(t *testing.T) {
	t.Parallel()
	o := New(NewClient(aws.Config{Region: "eu-west-1"}, ""), "eu.amazon.nova-lite-v1:0")
	tests := []struct {
		cause error
		want  string
	}{
		{&types.ThrottlingException{}, "throttled"},
		{&types.ModelNotReadyException{}, "throttled"},
		{&types.AccessDeniedException{}, "config"},
		{&types.ResourceNotFoundException{}, "config"},
		{&types.ValidationException{}, "config"},
		{&types.ServiceQuotaExceededException{}, "config"},
		{&types.InternalServerException{}, "transient"},
		{&types.ServiceUnavailableException{}, "transient"},
		{&types.ModelTimeoutException{}, "transient"},
		{&types.ModelErrorException{}, "transient"},
		{errors.New("connection reset by peer"), "transient"},
	}
	for _, tt := range tests {
		err := o.classify(fmt.Errorf("operation error Bedrock Runtime: Converse: %w", tt.cause))
		var (
			throttled *Throttled
			config    *ConfigError
			got       = "transient"
		)
		switch {
		case errors.As(err, &throttled):
			got = "throttled"
		case errors.As(err, &config):
			got = "config"
			if config.Region != "eu-west-1" || config.ModelID != "eu.amazon.nova-lite-v1:0" {
				t.Errorf("%T: config error = %+v", tt.cause, config)
			}
		}
		if got != tt.want || !errors.Is(err, tt.cause) {
			t.Errorf("%T: classified %s (%v), want %s wrapping the cause", tt.cause, got, err, tt.want)
		}
	}
}
