package ai_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/sandbox/bedrockfake"
)

const model = "amazon.nova-lite-v1:0"

type testBundle struct {
	fake      *bedrockfake.Server
	client    *bedrockruntime.Client
	optimizer *ai.Optimizer
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	fake := bedrockfake.New(bedrockfake.Options{})
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	client := ai.NewClient(testConfig(), server.URL)
	return &testBundle{fake: fake, client: client, optimizer: ai.New(client, model)}
}

// testConfig is the configuration of a client that reaches the fake: the
// SDK's standard retryer, without its backoff so a retry costs no time.
// NewClient still sets how many attempts it makes.
func testConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

var (
	shirt = ai.Product{
		Title:       "Linen Shirt",
		Description: "<p>A breezy shirt in <b>washed linen</b>.</p>",
		Brand:       "Acme",
		ProductType: "SHIRT",
		Features:    []string{"Colour: Sand", "Material: 100% linen", "Relaxed fit"},
		Language:    "en-US",
	}
	amazonLimits = ai.Limits{Marketplace: "Amazon", TitleMax: 200, DescriptionMax: 2000, BulletMax: 500, BulletsMax: 5}
	ebayLimits   = ai.Limits{Marketplace: "eBay", TitleMax: 80, DescriptionMax: 4000}
)

// shirtText is the fake model's rewrite of shirt for Amazon.
var shirtText = ai.Text{
	Title:       "Acme Linen Shirt – Sand",
	Description: "A breezy shirt in washed linen.\n\nDetails: Colour: Sand; Material: 100% linen; Relaxed fit.",
	Bullets:     []string{"Colour: Sand", "Material: 100% linen", "Relaxed fit"},
}

func equalText(a, b ai.Text) bool {
	return a.Title == b.Title && a.Description == b.Description && strings.Join(a.Bullets, "\n") == strings.Join(b.Bullets, "\n")
}

// checkUsage checks that usage is what the fake counted.
func (b *testBundle) checkUsage(t *testing.T, usage ai.Usage, calls int) {
	t.Helper()
	c := b.fake.Counters()
	if usage.Calls != calls || c.Answered != calls || usage.InputTokens != c.InputTokens || usage.OutputTokens != c.OutputTokens {
		t.Errorf("usage = %+v, want %d calls and the fake's counts %+v", usage, calls, c)
	}
}

func TestOptimizeRewritesWithinTheLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)

	text, usage, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits)

	if err != nil {
		t.Fatal(err)
	}
	if !equalText(text, shirtText) {
		t.Errorf("text = %#v\nwant   %#v", text, shirtText)
	}
	b.checkUsage(t, usage, 1)
	if usage.InputTokens < 200 || usage.OutputTokens < 20 {
		t.Errorf("usage = %+v: the prompt and answer are larger", usage)
	}
	if c := b.fake.Counters(); c.CallsByModel[model] != 1 {
		t.Errorf("calls by model = %v", c.CallsByModel)
	}
}

func TestOptimizeWritesNoBulletPointsForEbay(t *testing.T) {
	t.Parallel()
	b := setup(t)

	text, _, err := b.optimizer.Optimize(context.Background(), shirt, ebayLimits)

	if err != nil {
		t.Fatal(err)
	}
	if text.Title != shirtText.Title || text.Bullets == nil || len(text.Bullets) != 0 {
		t.Errorf("text = %#v", text)
	}
}

func TestOptimizeAsksAgainWhenALimitIsBroken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(bedrockfake.Faults{OverlongNext: 1})

	text, usage, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits)

	if err != nil {
		t.Fatal(err)
	}
	if !equalText(text, shirtText) {
		t.Errorf("text = %#v", text)
	}
	// The fake refuses a conversation that does not alternate user and
	// assistant, so the second call carried the first answer and the
	// complaint; it is the longer prompt.
	b.checkUsage(t, usage, 2)
}

func TestOptimizeAcceptsJSONInAFence(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(bedrockfake.Faults{FencedNext: 1})

	text, usage, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits)

	if err != nil || !equalText(text, shirtText) {
		t.Fatalf("Optimize = %#v, %v", text, err)
	}
	b.checkUsage(t, usage, 1)
}

func TestUnusableAnswerTwiceIsAnItemError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(bedrockfake.Faults{InvalidJSONNext: 1, OverlongNext: 1})

	_, usage, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits)

	var item *ai.ItemError
	if !errors.As(err, &item) || !strings.Contains(item.Reason, "the title has ") || !strings.Contains(item.Reason, "over the limit of 200") {
		t.Fatalf("err = %v, want an ItemError about the title's length", err)
	}
	b.checkUsage(t, usage, 2)
}

func TestInvalidJSONTwiceIsAnItemError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(bedrockfake.Faults{InvalidJSONNext: 2})

	_, usage, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits)

	var item *ai.ItemError
	if !errors.As(err, &item) || !strings.Contains(item.Reason, "not the JSON object asked for") {
		t.Fatalf("err = %v", err)
	}
	b.checkUsage(t, usage, 2)
}

func TestAnswerCutOffIsAnItemError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(bedrockfake.Faults{MaxTokensNext: 1})

	_, usage, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits)

	var item *ai.ItemError
	if !errors.As(err, &item) || !strings.Contains(item.Reason, "max_tokens") {
		t.Fatalf("err = %v", err)
	}
	b.checkUsage(t, usage, 1) // asking again would be cut off again
}

func TestThrottlingOutlastingTheSDKRetryIsThrottled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(bedrockfake.Faults{ThrottleNext: 3})

	_, usage, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits)

	var throttled *ai.Throttled
	var cause *types.ThrottlingException
	if !errors.As(err, &throttled) || throttled.ModelID != model || !errors.As(err, &cause) {
		t.Fatalf("err = %v, want Throttled caused by a ThrottlingException", err)
	}
	if c := b.fake.Counters(); c.Throttled != 2 || usage != (ai.Usage{}) {
		t.Errorf("the SDK made %d attempts, usage %+v; want 2 attempts and no usage", c.Throttled, usage)
	}
}

func TestTheSDKRetryAbsorbsOneRefusal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(bedrockfake.Faults{ThrottleNext: 1})

	if _, usage, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits); err != nil || usage.Calls != 1 {
		t.Fatalf("Optimize = %+v, %v", usage, err)
	}
	if c := b.fake.Counters(); c.Calls != 2 {
		t.Errorf("calls = %d, want 2", c.Calls)
	}
}

func TestServerErrorsAreTransient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(bedrockfake.Faults{ServerErrorsNext: 2})

	_, _, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits)

	var (
		throttled   *ai.Throttled
		config      *ai.ConfigError
		item        *ai.ItemError
		unavailable *types.ServiceUnavailableException
	)
	if err == nil || errors.As(err, &throttled) || errors.As(err, &config) || errors.As(err, &item) || !errors.As(err, &unavailable) {
		t.Fatalf("err = %v, want a plain error caused by the last attempt's ServiceUnavailableException", err)
	}
	if !strings.Contains(err.Error(), model) {
		t.Errorf("err = %q does not name the model", err)
	}
}

func TestAccessDeniedIsAConfigError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(bedrockfake.Faults{DeniedModels: []string{model}})

	_, _, err := b.optimizer.Optimize(context.Background(), shirt, amazonLimits)

	var config *ai.ConfigError
	var cause *types.AccessDeniedException
	if !errors.As(err, &config) || !errors.As(err, &cause) || config.ModelID != model || config.Region != "us-east-1" {
		t.Fatalf("err = %v, want a ConfigError caused by AccessDeniedException", err)
	}
	if !strings.Contains(err.Error(), "bedrock model "+model+" in region us-east-1 cannot be used") {
		t.Errorf("err = %q", err)
	}
	if c := b.fake.Counters(); c.Calls != 1 {
		t.Errorf("calls = %d: a config error is not retried", c.Calls)
	}
}

func TestUnknownModelIsAConfigError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	optimizer := ai.New(b.client, "amazon.nova-lite-v9:0")

	_, _, err := optimizer.Optimize(context.Background(), shirt, amazonLimits)

	var config *ai.ConfigError
	var cause *types.ResourceNotFoundException
	if !errors.As(err, &config) || !errors.As(err, &cause) || config.ModelID != "amazon.nova-lite-v9:0" {
		t.Fatalf("err = %v, want a ConfigError caused by ResourceNotFoundException", err)
	}
}

func TestLimitsAreChecked(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, _, err := b.optimizer.Optimize(context.Background(), shirt, ai.Limits{Marketplace: "Amazon", TitleMax: 200, DescriptionMax: 2000, BulletsMax: 5})

	if err == nil || b.fake.Counters().Calls != 0 {
		t.Errorf("Optimize with bullet points of no length = %v, after %d calls", err, b.fake.Counters().Calls)
	}
}
