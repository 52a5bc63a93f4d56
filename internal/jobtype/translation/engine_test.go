package translation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/ledger"
	translator "github.com/dainostore/jobs/internal/translation"
)

// testRuntime is a runtime of a job with an id, that records nothing.
type testRuntime struct {
	jobtype.Runtime
	jobID string
}

func (testRuntime) Log(slog.Level, string, ...slog.Attr) {}
func (rt testRuntime) JobID() string                     { return rt.jobID }
func (testRuntime) StoreID() string                      { return "store-1" }

func TestATranslationNamesASupportedTargetLanguage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		payload string
		wantErr string
	}{
		{`{"target_language": "de"}`, ""},
		{`{"target_language": "es-MX", "only_missing": false}`, ""},
		{`{}`, "target_language is required"},
		{`{"target_language": "xx"}`, `"xx" is not a language Amazon Translate translates into`},
		{`{"target_language": "de-DE"}`, "not a language"},
	} {
		var a Args
		if err := json.Unmarshal([]byte(tt.payload), &a); err != nil {
			t.Fatal(err)
		}
		err := a.Validate()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: %v, want %q", tt.payload, err, tt.wantErr)
		}
	}
	if !(Args{}).onlyMissing() {
		t.Error("only_missing is off by default")
	}
}

// Missing and stale translations are translated; up-to-date ones only
// when every label is asked for; a label this job translated before is
// taken back into its batch, as done.
func TestWhichLabelsAJobTranslates(t *testing.T) {
	t.Parallel()
	source := catalog.UILabel{Key: "cart.title", Text: "Your cart", SourceHash: catalog.UILabelHash("Your cart")}
	translated := func(hash, origin, jobID string) map[string]catalog.UILabel {
		return map[string]catalog.UILabel{"cart.title": {Key: "cart.title", SourceHash: hash, Origin: origin, JobID: jobID}}
	}
	old := catalog.UILabelHash("Cart")
	for _, tt := range []struct {
		name         string
		translations map[string]catalog.UILabel
		onlyMissing  bool
		take, before bool
	}{
		{"missing", nil, true, true, false},
		{"stale", translated(old, catalog.LabelTranslated, "job-0"), true, true, false},
		{"up to date", translated(source.SourceHash, catalog.LabelTranslated, "job-0"), true, false, false},
		{"corrected", translated(source.SourceHash, catalog.LabelCorrected, ""), true, false, false},
		{"every label", translated(source.SourceHash, catalog.LabelCorrected, ""), false, true, false},
		{"this job's", translated(source.SourceHash, catalog.LabelTranslated, "job-1"), true, true, true},
		{"this job's, since edited", translated(old, catalog.LabelTranslated, "job-1"), true, true, false},
	} {
		r := &run{rt: testRuntime{jobID: "job-1"}, args: Args{TargetLanguage: "de", OnlyMissing: &tt.onlyMissing}}
		take, before := r.choose(source, tt.translations)
		if take != tt.take || before != tt.before {
			t.Errorf("%s: take %t before %t, want %t %t", tt.name, take, before, tt.take, tt.before)
		}
	}
}

// A batch's debit is named by its labels and their source texts: the same
// batch again is the same debit, an edit makes another.
func TestABatchIsNamedByItsLabelsAndTexts(t *testing.T) {
	t.Parallel()
	batch := func(texts ...string) []*label {
		var labels []*label
		for i, text := range texts {
			labels = append(labels, &label{source: catalog.UILabel{Key: fmt.Sprintf("k%d", i), SourceHash: catalog.UILabelHash(text)}})
		}
		return labels
	}
	first, again := batchHash(batch("a", "b")), batchHash(batch("a", "b"))
	if first != again {
		t.Error("the same batch hashes differently")
	}
	if first == batchHash(batch("a", "c")) || first == batchHash(batch("a")) {
		t.Error("another batch hashes the same")
	}
}

// Translate's throttling is backed off: doubling, each wait between half
// and all of it; once a wait would pass the inline limit, the job is
// retried at that time instead.
func TestThrottlingBacksOffWithJitterThenBecomesARetry(t *testing.T) {
	t.Parallel()
	var waits []time.Duration
	jitters := []float64{0, 0.5, 1}
	r := &run{rt: testRuntime{}}
	r.MaxInlineWait = 5 * time.Second
	r.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	r.Jitter = func() float64 { j := jitters[0]; jitters = append(jitters[1:], j); return j }
	throttled := &translator.Throttled{Err: errors.New("TooManyRequestsException")}
	l := &label{source: catalog.UILabel{Key: "cart.title"}}

	calls := 0
	err := r.call(context.Background(), l, func() error {
		if calls++; calls <= 3 {
			return throttled
		}
		return nil
	})
	want := []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 4 * time.Second}
	if err != nil || fmt.Sprint(waits) != fmt.Sprint(want) || l.waited != 6*time.Second {
		t.Fatalf("waits %v (%s in all), %v; want %v then success", waits, l.waited, err, want)
	}

	waits = nil
	err = r.call(context.Background(), l, func() error { return throttled })
	var retry *jobtype.RateLimitedError
	if !errors.As(err, &retry) || retry.RetryAfter <= r.MaxInlineWait || fmt.Sprint(waits) != "[500ms 1.5s 4s 4s]" {
		t.Errorf("a throttling that goes on: %v after waits %v, want a retry of the job after %s", err, waits, r.MaxInlineWait)
	}

	item := &translator.ItemError{Reason: "too long"}
	if err := r.call(context.Background(), l, func() error { return item }); !errors.Is(err, item) {
		t.Errorf("an item error: %v, want it as it is", err)
	}
}

// The result lists at most maxFailedLabels labels; the counts cover all.
func TestTheResultListsTheFailedLabels(t *testing.T) {
	t.Parallel()
	r := &run{}
	b := &batch{credits: 1}
	for i := range maxFailedLabels + 2 {
		l := &label{source: catalog.UILabel{Key: fmt.Sprint(i)}, usage: translator.Usage{Calls: 1, Characters: 10}}
		l.outcome, l.failure = outcomeFailed, &LabelFailure{Key: fmt.Sprint(i), Reason: "lost {count}", Lost: []string{"{count}"}}
		b.labels = append(b.labels, l)
	}
	b.labels = append(b.labels, &label{outcome: outcomeTranslated, usage: translator.Usage{Calls: 1, Characters: 5}})
	r.account(b)
	res := r.st.Result
	if res.Failed != maxFailedLabels+2 || len(res.FailedLabels) != maxFailedLabels || res.FailedLabelsOmitted != 2 ||
		res.Translated != 1 || res.Processed != maxFailedLabels+3 || res.TranslateCalls != maxFailedLabels+3 || res.CreditsCharged != 1 {
		t.Errorf("result %+v", res)
	}
}

// Out of credits, the job says how many labels are left, what they need
// and both numbers the owner acts on; the guide's only way out is more
// credits.
func TestOutOfCreditsSaysWhatIsLeftAndTheWayOut(t *testing.T) {
	t.Parallel()
	r := &run{}
	r.CreditsPerBatch = 2
	r.st.Result = Result{TargetLanguage: "de", Total: 120, Processed: 50, Translated: 49, Failed: 1}
	err := r.outOfCredits(&ledger.InsufficientCreditsError{Balance: 1})
	var failed *jobtype.PermanentError
	if !errors.As(err, &failed) || failed.Kind != jobtype.KindInsufficientCredits {
		t.Fatalf("error %v, want a failure of kind %s", err, jobtype.KindInsufficientCredits)
	}
	for _, want := range []string{"Insufficient credits", "the 70 UI labels left to de needs up to 6 credits, and the store has 1", "Buy more AI credits", "49 labels translated so far"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if res := failed.Result.(Result); res.NotTranslated != 70 || res.Processed != 120 {
		t.Errorf("result %+v", res)
	}
}
