package translatefake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/translate"
	"github.com/aws/aws-sdk-go-v2/service/translate/types"

	"github.com/dainostore/jobs/internal/sandbox/translatefake"
)

type testBundle struct {
	fake   *translatefake.Server
	server *httptest.Server
	client *translate.Client
}

func setup(t *testing.T, opts translatefake.Options) *testBundle {
	t.Helper()
	fake := translatefake.New(opts)
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	client := translate.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}, func(o *translate.Options) {
		o.BaseEndpoint = aws.String(server.URL)
		o.RetryMaxAttempts = 1 // every answer reaches the test as sent
	})
	return &testBundle{fake: fake, server: server, client: client}
}

func (b *testBundle) translate(text, source, target string) (*translate.TranslateTextOutput, error) {
	return b.client.TranslateText(context.Background(), &translate.TranslateTextInput{
		SourceLanguageCode: aws.String(source), TargetLanguageCode: aws.String(target), Text: aws.String(text),
	})
}

// The words are marked for the language; tags, entities, placeholders and
// do-not-translate elements are kept as they are; the same text always
// gets the same answer.
func TestTranslateTextKeepsWhatTranslateKeeps(t *testing.T) {
	t.Parallel()
	b := setup(t, translatefake.Options{})
	const text = `Hello <span translate="no">{{name}}</span>, you have {count} items &amp; <a href="/cart?ref=home">a cart</a> for %1$s. <p translate=no>Keep me</p>`

	out, err := b.translate(text, "en", "de")
	if err != nil {
		t.Fatal(err)
	}
	const want = `Hëllö <span translate="no">{{name}}</span>, yöü hävë {count} ïtëms &amp; <a href="/cart?ref=home">ä cärt</a> för %1$s. <p translate=no>Keep me</p>`
	if got := aws.ToString(out.TranslatedText); got != want {
		t.Errorf("answer %s\nwant   %s", got, want)
	}
	if aws.ToString(out.SourceLanguageCode) != "en" || aws.ToString(out.TargetLanguageCode) != "de" {
		t.Errorf("languages %s > %s", aws.ToString(out.SourceLanguageCode), aws.ToString(out.TargetLanguageCode))
	}
	if got := translatefake.Translate(text, "en", "de"); got != want {
		t.Errorf("Translate = %s, not the server's answer", got)
	}
	if fr := translatefake.Translate("Add to cart", "en", "fr"); fr != "Àdd tò càrt" {
		t.Errorf("French: %q", fr)
	}
	if same := translatefake.Translate(text, "en", "en"); same != text {
		t.Errorf("en to en changed the text: %q", same)
	}
	c := b.fake.Counters()
	if c.Calls != 1 || c.Answered != 1 || c.Characters != len([]rune(text)) || c.AnsweredByPair["en>de"] != 1 {
		t.Errorf("counters %+v", c)
	}
}

// Translate's refusals come as the SDK's types: a text over 10,000 bytes,
// a language it does not know (naming both codes), a malformed request.
func TestRefusalsAreTranslatesExceptions(t *testing.T) {
	t.Parallel()
	b := setup(t, translatefake.Options{})

	_, err := b.translate(strings.Repeat("a", 10_001), "en", "de")
	var tooLarge *types.TextSizeLimitExceededException
	if !errors.As(err, &tooLarge) || !strings.Contains(tooLarge.ErrorMessage(), "10001 bytes") {
		t.Errorf("10,001 bytes: %v", err)
	}
	if _, err := b.translate(strings.Repeat("ä", 5_000), "en", "de"); err != nil {
		t.Errorf("10,000 bytes: %v", err)
	}

	_, err = b.translate("Checkout", "en", "xx")
	var pair *types.UnsupportedLanguagePairException
	if !errors.As(err, &pair) || aws.ToString(pair.SourceLanguageCode) != "en" || aws.ToString(pair.TargetLanguageCode) != "xx" {
		t.Errorf("en to xx: %v", err)
	}

	// Another operation, and a body without a text, straight on the wire.
	for _, tt := range []struct{ target, body, wantType string }{
		{"AWSShineFrontendService_20170701.TranslateDocument", `{}`, "UnknownOperationException"},
		{"AWSShineFrontendService_20170701.TranslateText", `{"SourceLanguageCode":"en","TargetLanguageCode":"de"}`, "ValidationException"},
	} {
		req, _ := http.NewRequest(http.MethodPost, b.server.URL+"/", strings.NewReader(tt.body))
		req.Header.Set("X-Amz-Target", tt.target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != tt.wantType || body["__type"] != tt.wantType || body["Message"] == "" {
			t.Errorf("%s: %d %s %v", tt.target, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
		}
	}
	if c := b.fake.Counters(); c.Answered != 1 || c.Refused != 3 {
		t.Errorf("counters %+v, want 1 answered and 3 refused", c)
	}
}

// The faults come in order, each call using up one: server errors (500,
// InternalServer then ServiceUnavailable), throttling (400
// TooManyRequests), then answers with a broken placeholder; an answer with
// nothing to break does not use up the fault.
func TestFaultsAreUsedUpInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t, translatefake.Options{})
	b.fake.SetFaults(translatefake.Faults{ServerErrorsNext: 2, ThrottleNext: 1, BreakPlaceholdersNext: 2, UnsupportedLanguages: []string{"mt"}})

	_, err := b.translate("Checkout", "en", "de")
	var internal *types.InternalServerException
	if !errors.As(err, &internal) {
		t.Errorf("call 1: %v, want InternalServerException", err)
	}
	_, err = b.translate("Checkout", "en", "de")
	var unavailable *types.ServiceUnavailableException
	if !errors.As(err, &unavailable) {
		t.Errorf("call 2: %v, want ServiceUnavailableException", err)
	}
	_, err = b.translate("Checkout", "en", "de")
	var tooMany *types.TooManyRequestsException
	if !errors.As(err, &tooMany) {
		t.Errorf("call 3: %v, want TooManyRequestsException", err)
	}
	if _, err := b.translate("Checkout", "en", "mt"); !errors.As(err, new(*types.UnsupportedLanguagePairException)) {
		t.Errorf("en to mt: %v, want the language withdrawn", err)
	}

	for _, tt := range []struct{ text, want string }{
		{"Checkout", "Chëcköüt"}, // nothing to break: the fault waits
		{`You have <span translate="no">{count}</span> items`, "Yöü hävë {cöünt} ïtëms"},
		{"Pay <strong>now</strong>", "Päy nöw</strong>"},
		{"Hello {{name}}", "Hëllö {{name}}"}, // the faults are used up
	} {
		out, err := b.translate(tt.text, "en", "de")
		if err != nil || aws.ToString(out.TranslatedText) != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.text, aws.ToString(out.TranslatedText), err, tt.want)
		}
	}
	if c := b.fake.Counters(); c.ServerErrors != 2 || c.Throttled != 1 || c.Broken != 2 || c.Answered != 4 {
		t.Errorf("counters %+v", c)
	}
}

// A person sets the faults with /_faults, and reads the counters.
func TestFaultsAndCountersOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t, translatefake.Options{})
	resp, err := http.Post(b.server.URL+"/_faults", "application/json",
		strings.NewReader(`{"throttle_next": 3, "break_placeholders_next": 1, "unsupported_languages": ["mt"], "latency": "250ms"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f := b.fake.Faults()
	if resp.StatusCode != http.StatusOK || f.ThrottleNext != 3 || f.BreakPlaceholdersNext != 1 || f.Latency != 250*time.Millisecond || len(f.UnsupportedLanguages) != 1 {
		t.Fatalf("POST /_faults: %d %s, faults %+v", resp.StatusCode, body, f)
	}
	for _, bad := range []string{`{"throttle_next": -1}`, `{"latency": "1h"}`, `{"nope": 1}`} {
		resp, err := http.Post(b.server.URL+"/_faults", "application/json", strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /_faults %s: %d", bad, resp.StatusCode)
		}
	}
	if got := b.fake.Faults(); got.ThrottleNext != 3 {
		t.Errorf("a refused POST changed the faults: %+v", got)
	}
	resp, err = http.Get(b.server.URL + "/_counters")
	if err != nil {
		t.Fatal(err)
	}
	var c translatefake.Counters
	_ = json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if c.AnsweredByPair == nil {
		t.Errorf("counters %+v", c)
	}
}

// The latency holds an answer at least that long; the faults' replaces the
// server's own.
func TestLatencyHoldsTheAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, translatefake.Options{Latency: func() time.Duration { return 10 * time.Millisecond }})
	b.fake.SetFaults(translatefake.Faults{Latency: 80 * time.Millisecond})
	began := time.Now()
	if _, err := b.translate("Checkout", "en", "de"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 80*time.Millisecond {
		t.Errorf("answered after %s, before the 80ms latency", took)
	}
}
