package translation_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dainostore/jobs/internal/sandbox/translatefake"
	"github.com/dainostore/jobs/internal/translation"
)

type testBundle struct {
	fake       *translatefake.Server
	translator *translation.Translator
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	fake := translatefake.New(translatefake.Options{})
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	return &testBundle{fake: fake, translator: translation.New(translation.NewClient(testConfig(), server.URL))}
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

const label = `<strong>{count}</strong> items in your cart, {{name}}. <a href="/cart">View cart</a> (%s)`

// The placeholders travel protected and come back as they went; the words
// are the fake's German; Translate billed the protected text's characters.
func TestTranslateKeepsPlaceholdersAndMarkup(t *testing.T) {
	t.Parallel()
	b := setup(t)

	got, usage, err := b.translator.Translate(context.Background(), label, "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	const want = `<strong>{count}</strong> ïtëms ïn yöür cärt, {{name}}. <a href="/cart">Vïëw cärt</a> (%s)`
	if got != want {
		t.Errorf("translation = %s\nwant          %s", got, want)
	}
	protected := translation.Protect(label)
	if usage.Calls != 1 || usage.Characters != len([]rune(protected)) {
		t.Errorf("usage %+v, want 1 call of %d characters", usage, len([]rune(protected)))
	}
	if c := b.fake.Counters(); c.Answered != 1 || c.Characters != usage.Characters || c.AnsweredByPair["en>de"] != 1 {
		t.Errorf("counters %+v", c)
	}
}

// An answer that lost a placeholder is the label's failure, saying what
// changed; the call was answered, so it counts.
func TestABrokenPlaceholderIsTheLabelsItemError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(translatefake.Faults{BreakPlaceholdersNext: 1})

	_, usage, err := b.translator.Translate(context.Background(), label, "en", "de")
	var item *translation.ItemError
	if !errors.As(err, &item) || strings.Join(item.Lost, " ") != "{count}" || strings.Join(item.Gained, " ") != "{cöünt}" {
		t.Fatalf("error %v, want an item error that lost {count} and gained {cöünt}", err)
	}
	if !strings.Contains(item.Error(), "lost {count}; gained {cöünt}") || usage.Calls != 1 {
		t.Errorf("message %q, usage %+v", item.Error(), usage)
	}

	// The fault is used up: the same label comes through next time.
	if _, _, err := b.translator.Translate(context.Background(), label, "en", "de"); err != nil {
		t.Errorf("after the fault: %v", err)
	}
}

// One TooManyRequestsException is absorbed by the SDK's retry; two in a
// row are the job's to wait out.
func TestThrottlingOutlivingTheSDKsRetryIsThrottled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(translatefake.Faults{ThrottleNext: 1})
	if _, _, err := b.translator.Translate(context.Background(), "Checkout", "en", "fr"); err != nil {
		t.Fatalf("one throttled call: %v", err)
	}

	b.fake.SetFaults(translatefake.Faults{ThrottleNext: 2})
	_, usage, err := b.translator.Translate(context.Background(), "Checkout", "en", "fr")
	var throttled *translation.Throttled
	if !errors.As(err, &throttled) || usage.Calls != 0 {
		t.Errorf("two throttled calls: %v, usage %+v; want *Throttled and nothing billed", err, usage)
	}
	if c := b.fake.Counters(); c.Calls != 4 || c.Throttled != 3 {
		t.Errorf("counters %+v, want 4 calls of which 3 throttled", c)
	}
}

// Server faults that outlive the SDK's retry are transient: none of the
// classes the job acts on.
func TestServerErrorsAreTransient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(translatefake.Faults{ServerErrorsNext: 2})

	_, _, err := b.translator.Translate(context.Background(), "Checkout", "en", "fr")
	var (
		item      *translation.ItemError
		throttled *translation.Throttled
		config    *translation.ConfigError
		pair      *translation.UnsupportedPairError
	)
	if err == nil || errors.As(err, &item) || errors.As(err, &throttled) || errors.As(err, &config) || errors.As(err, &pair) {
		t.Errorf("error %v (%T), want a transient one", err, err)
	}
}

// A label too long for one call is refused before it is sent; one that
// fits alone but not once its placeholders are protected too.
func TestALabelOverTheLimitIsRefusedWithoutACall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var item *translation.ItemError
	long := strings.Repeat("Lorem ipsum ", 900) // 10,800 bytes
	if _, _, err := b.translator.Translate(context.Background(), long, "en", "de"); !errors.As(err, &item) {
		t.Errorf("a label of %d bytes: %v, want an item error", len(long), err)
	}
	crowded := strings.Repeat("{n} ", 2400) // 9,600 bytes, 76,800 protected
	if _, _, err := b.translator.Translate(context.Background(), crowded, "en", "de"); !errors.As(err, &item) || !strings.Contains(item.Reason, "protected") {
		t.Errorf("a label of %d bytes with 2,400 placeholders: %v", len(crowded), err)
	}
	if c := b.fake.Counters(); c.Calls != 0 {
		t.Errorf("%d calls made", c.Calls)
	}
}

// A language the region refuses makes every label of the job fail: the
// pair's error, not the label's.
func TestAnUnsupportedPairIsItsOwnError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetFaults(translatefake.Faults{UnsupportedLanguages: []string{"mt"}})

	_, _, err := b.translator.Translate(context.Background(), "Checkout", "en", "mt")
	var pair *translation.UnsupportedPairError
	if !errors.As(err, &pair) || pair.Source != "en" || pair.Target != "mt" {
		t.Errorf("error %v, want the pair en to mt refused", err)
	}
}

// An account that may not call Translate is the operator's to fix.
func TestAccessDeniedIsAConfigError(t *testing.T) {
	t.Parallel()
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"AccessDeniedException","Message":"User is not authorized to perform: translate:TranslateText"}`))
	}))
	t.Cleanup(denied.Close)
	translator := translation.New(translation.NewClient(testConfig(), denied.URL))

	_, _, err := translator.Translate(context.Background(), "Checkout", "en", "de")
	var config *translation.ConfigError
	if !errors.As(err, &config) || config.Region != "us-east-1" {
		t.Errorf("error %v, want a config error in us-east-1", err)
	}
}
