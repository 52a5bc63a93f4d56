package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/translation"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/translatefake"
	"github.com/dainostore/jobs/internal/testenv"
	translator "github.com/dainostore/jobs/internal/translation"
)

// A translation's sandbox: the shop and PIM are not used.
var translationSandbox = sandbox.Options{ShopifyProducts: 1, ShopifyCollections: 1, AkeneoProducts: 1, AkeneoCategories: 1}

const translationJob = "translation:ui-labels:bulk"

// translationBundle is a store with its UI labels in English and AI
// credits, and the system running against the sandbox.
type translationBundle struct {
	a       *app.App
	base    string
	box     *sandbox.Sandbox
	waits   *recordedWaits
	storeID string
}

// translationSetup runs the system against a sandbox, gives the store
// credits and writes the first n of the sandbox's labels through the API.
func translationSetup(t *testing.T, o sandbox.Options, storeID string, credits int64, n int) *translationBundle {
	t.Helper()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}
	b := &translationBundle{box: startSandbox(t, env, o), waits: &recordedWaits{}, storeID: storeID}
	b.a = env.App(t, app.Overrides{RateLimitWait: b.waits.wait})
	b.base = testenv.Serve(t, b.a)
	b.box.Ledger.SetBalance(storeID, credits)
	b.putLabels(t, storeID, "en", sandbox.UILabels(n))
	return b
}

// putLabels writes labels through the API, as the store's owner.
func (b *translationBundle) putLabels(t *testing.T, storeID, language string, labels []catalog.UILabel) {
	t.Helper()
	body := map[string]any{"labels": []map[string]string{}}
	for _, l := range labels {
		body["labels"] = append(body["labels"].([]map[string]string), map[string]string{"key": l.Key, "text": l.Text})
	}
	status, out := call(t, http.MethodPut, b.base+"/api/catalog/ui-labels?language="+language, body, bearer(testenv.StoreToken(t, storeID))...)
	if status != http.StatusOK || out["written"] != float64(len(labels)) {
		t.Fatalf("PUT %d labels in %s: %d %v", len(labels), language, status, out)
	}
}

// labelsIn reads the store's labels in a language through the API, by key.
func (b *translationBundle) labelsIn(t *testing.T, storeID, language string) map[string]map[string]any {
	t.Helper()
	status, out := call(t, http.MethodGet, b.base+"/api/catalog/ui-labels?language="+language, nil, bearer(testenv.StoreToken(t, storeID))...)
	if status != http.StatusOK || out["next_cursor"] != "" {
		t.Fatalf("GET labels in %s: %d %v", language, status, out)
	}
	labels := map[string]map[string]any{}
	for _, l := range out["labels"].([]any) {
		label := l.(map[string]any)
		labels[label["key"].(string)] = label
	}
	return labels
}

// translate starts a translation through the API, as the store's owner.
func (b *translationBundle) translate(t *testing.T, payload map[string]any) string {
	t.Helper()
	return startImport(t, b.base, b.storeID, translationJob, payload)
}

// result reads a translation's result, of a completed or a failed job.
func (b *translationBundle) result(t *testing.T, id string) translation.Result {
	t.Helper()
	j, err := b.a.Jobs.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var r translation.Result
	if err := json.Unmarshal(j.Result, &r); err != nil {
		t.Fatalf("result of %s: %v (%s)", id, err, j.Result)
	}
	return r
}

// debitKeys are the idempotency keys of the store's debits.
func (b *translationBundle) debitKeys() []string {
	var keys []string
	for _, d := range b.box.Ledger.Debits(b.storeID) {
		keys = append(keys, d.Key)
	}
	return keys
}

// checkTranslated checks that each label is translated as Translate (the
// fake) translates its source text, with its placeholders and markup, by
// the job.
func checkTranslated(t *testing.T, got map[string]map[string]any, sources []catalog.UILabel, language, jobID string) {
	t.Helper()
	for _, s := range sources {
		l := got[s.Key]
		want := translator.Unprotect(translatefake.Translate(translator.Protect(s.Text), "en", language))
		if l["text"] != want || l["missing"] != false || l["stale"] != false || l["origin"] != catalog.LabelTranslated ||
			l["source_hash"] != s.SourceHash || (jobID != "" && l["job_id"] != jobID) {
			t.Errorf("%s in %s: %v, want %q translated by %s", s.Key, language, l, want, jobID)
			continue
		}
		if lost, gained := translator.CompareMarkup(s.Text, want); len(lost)+len(gained) > 0 {
			t.Errorf("%s: the markup changed: lost %v, gained %v", s.Key, lost, gained)
		}
	}
}

// A translation of 60 labels: three batches, each paid for once; every
// label translated with its placeholders and markup intact, written for
// the store to read; the progress says the guide's words. Running it again
// finds every label up to date: nothing is asked or charged.
func TestATranslationTranslatesEveryLabelWithItsPlaceholders(t *testing.T) {
	t.Parallel()
	b := translationSetup(t, translationSandbox, "tr-full", 10, 60)
	sources := sandbox.UILabels(60)

	id := b.translate(t, map[string]any{"target_language": "de"})
	done := waitForStatus(t, b.base, id, "completed")
	if msg := done["progress_message"]; msg != "Translating UI labels: 60/60" {
		t.Errorf("last progress message %q, want \"Translating UI labels: 60/60\"", msg)
	}
	r := b.result(t, id)
	if r.SourceLanguage != "en" || r.TargetLanguage != "de" || r.Labels != 60 || r.Total != 60 || r.Translated != 60 ||
		r.Failed != 0 || r.TranslateCalls != 60 || r.CreditsCharged != 3 || len(r.FailedLabels) != 0 {
		t.Errorf("result %+v, want 60 translated in 60 calls for 3 credits", r)
	}
	checkTranslated(t, b.labelsIn(t, b.storeID, "de"), sources, "de", id)
	keys := b.debitKeys()
	if len(keys) != 3 || b.box.Ledger.Balance(b.storeID) != 7 {
		t.Errorf("debits %v, balance %d; want 3 debits (one a batch of 25) and 7 credits left", keys, b.box.Ledger.Balance(b.storeID))
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "ui-labels:"+id+":de:") {
			t.Errorf("debit key %q does not name the job and the language", k)
		}
	}
	if c := b.box.Translate.Counters(); c.Answered != 60 || c.AnsweredByPair["en>de"] != 60 {
		t.Errorf("Translate counters %+v, want 60 answers", c)
	}

	again := b.translate(t, map[string]any{"target_language": "de"})
	waitForStatus(t, b.base, again, "completed")
	if r := b.result(t, again); r.Total != 0 || r.UpToDate != 60 || r.TranslateCalls != 0 || r.CreditsCharged != 0 {
		t.Errorf("a second translation %+v, want every label up to date and nothing spent", r)
	}
	if c := b.box.Translate.Counters(); c.Calls != 60 || len(b.debitKeys()) != 3 {
		t.Errorf("the second translation called Translate %d times and debited %d times", c.Calls-60, len(b.debitKeys())-3)
	}
}

// After the store edits source texts and adds labels, their translations
// are stale or missing, and only those are translated again; a
// translation the store corrected stays, unless every label is asked for.
func TestOnlyMissingTranslatesTheMissingAndStaleLabels(t *testing.T) {
	t.Parallel()
	b := translationSetup(t, translationSandbox, "tr-stale", 10, 40)
	sources := sandbox.UILabels(42)
	waitForStatus(t, b.base, b.translate(t, map[string]any{"target_language": "fr"}), "completed")

	// Three texts edited, two labels added, one translation corrected.
	edited := slices.Clone(sources[3:6])
	for i := range edited {
		edited[i].Text += " now"
		edited[i].SourceHash = catalog.UILabelHash(edited[i].Text)
	}
	b.putLabels(t, b.storeID, "en", append(slices.Clone(edited), sources[40:42]...))
	corrected := sources[9] // "Cart"
	b.putLabels(t, b.storeID, "fr", []catalog.UILabel{{Key: corrected.Key, Text: "Panier"}})
	before := b.labelsIn(t, b.storeID, "fr")
	stale, missing := 0, 0
	for _, l := range before {
		if l["stale"] == true {
			stale++
		}
		if l["missing"] == true {
			missing++
		}
	}
	if stale != 3 || missing != 2 || len(before) != 42 || before[corrected.Key]["origin"] != catalog.LabelCorrected || before[corrected.Key]["stale"] != false {
		t.Fatalf("before the second translation: %d stale, %d missing of %d; corrected %v", stale, missing, len(before), before[corrected.Key])
	}

	id := b.translate(t, map[string]any{"target_language": "fr"})
	waitForStatus(t, b.base, id, "completed")
	if r := b.result(t, id); r.Labels != 42 || r.Total != 5 || r.UpToDate != 37 || r.Translated != 5 || r.CreditsCharged != 1 {
		t.Errorf("only_missing %+v, want the 5 stale or missing translated for 1 credit", r)
	}
	after := b.labelsIn(t, b.storeID, "fr")
	checkTranslated(t, after, append(slices.Clone(edited), sources[40:42]...), "fr", id)
	if after[corrected.Key]["text"] != "Panier" {
		t.Errorf("the correction was replaced: %v", after[corrected.Key])
	}

	all := b.translate(t, map[string]any{"target_language": "fr", "only_missing": false})
	waitForStatus(t, b.base, all, "completed")
	if r := b.result(t, all); r.Total != 42 || r.Translated != 42 || r.CreditsCharged != 2 {
		t.Errorf("only_missing false %+v, want all 42 translated for 2 credits", r)
	}
	if got := b.labelsIn(t, b.storeID, "fr")[corrected.Key]; got["origin"] != catalog.LabelTranslated || got["job_id"] != all {
		t.Errorf("after translating every label, the corrected one is %v", got)
	}
}

// An answer that broke a label's placeholder: the label is listed with what
// changed and not written, every other label is; the job fails in the
// guide's "validation" kind. Translating again translates only that label.
func TestABrokenPlaceholderIsTheLabelsFailureAndIsNotWritten(t *testing.T) {
	t.Parallel()
	b := translationSetup(t, translationSandbox, "tr-broken", 10, 30)
	b.box.Translate.SetFaults(translatefake.Faults{BreakPlaceholdersNext: 1})

	id := b.translate(t, map[string]any{"target_language": "es"})
	failed := waitForStatus(t, b.base, id, "failed")
	msg, _ := failed["error"].(string)
	mustContain(t, "error", msg, "1 of 30 labels could not be translated to es")
	mustContain(t, "error", msg, "PUT /api/catalog/ui-labels?language=es")
	if failed["attempts"] != float64(1) {
		t.Errorf("attempts %v, want 1: a broken label is not retried", failed["attempts"])
	}
	r := b.result(t, id)
	if r.Translated != 29 || r.Failed != 1 || len(r.FailedLabels) != 1 {
		t.Fatalf("result %+v, want 29 translated and 1 failed", r)
	}
	// Which label's answer broke depends on which came back first; each
	// loses one placeholder (or, without one, a tag).
	broken := r.FailedLabels[0]
	if len(broken.Lost) != 1 || !strings.Contains(broken.Reason, "lost "+broken.Lost[0]) {
		t.Errorf("the failed label %+v, want what it lost", broken)
	}
	got := b.labelsIn(t, b.storeID, "es")
	if l := got[broken.Key]; l["missing"] != true || l["text"] != nil {
		t.Errorf("the broken label was written: %v", l)
	}
	var others []catalog.UILabel
	for _, l := range sandbox.UILabels(30) {
		if l.Key != broken.Key {
			others = append(others, l)
		}
	}
	checkTranslated(t, got, others, "es", id)

	again := b.translate(t, map[string]any{"target_language": "es"})
	waitForStatus(t, b.base, again, "completed")
	if r := b.result(t, again); r.Total != 1 || r.Translated != 1 {
		t.Errorf("translating again %+v, want only the broken label", r)
	}
	if l := b.labelsIn(t, b.storeID, "es")[broken.Key]; l["missing"] != false {
		t.Errorf("the label after translating again: %v", l)
	}
}

// A storm of TooManyRequestsException (Translate sends no hint) is waited
// out with jittered backoff inside the job, which completes in one attempt.
// While throttled answers remain, every call meets one, so the 4 labels in
// flight share them: each wait is one label's SDK attempt and its retry
// both throttled, at least 4 waits in all. 11 of them keep any one label's
// backoff under the 30 s a job waits itself (12 in a row could double it
// past, making a retry of the job at that time instead, which
// TestThrottlingBacksOffWithJitterThenBecomesARetry covers).
func TestATranslateThrottlingStormIsWaitedOut(t *testing.T) {
	t.Parallel()
	b := translationSetup(t, translationSandbox, "tr-storm", 10, 50)
	b.box.Translate.SetFaults(translatefake.Faults{ThrottleNext: 11})

	id := b.translate(t, map[string]any{"target_language": "it"})
	done := waitForStatus(t, b.base, id, "completed")
	if done["attempts"] != float64(1) {
		t.Errorf("attempts %v, want 1: the throttling is waited out", done["attempts"])
	}
	if r := b.result(t, id); r.Translated != 50 || r.RateLimitWaitMS == 0 || r.CreditsCharged != 2 {
		t.Errorf("result %+v, want 50 translated after waiting, for 2 credits", r)
	}
	if c := b.box.Translate.Counters(); c.Throttled != 11 || c.Answered != 50 {
		t.Errorf("Translate counters %+v, want 11 throttled and 50 answered", c)
	}
	waits := b.waits.all()
	if len(waits) < 4 {
		t.Errorf("%d waits for 11 throttled calls among 4 in flight", len(waits))
	}
	distinct := map[time.Duration]bool{}
	for _, w := range waits {
		if w <= 0 || w > 30*time.Second {
			t.Errorf("a wait of %s", w)
		}
		distinct[w] = true
	}
	if len(distinct) < 2 {
		t.Errorf("every wait was %v: no jitter", waits)
	}
	if len(b.debitKeys()) != 2 {
		t.Errorf("debits %v, want 2", b.debitKeys())
	}
}

// Credits run out at the third batch of 60 labels: the 50 paid are
// translated, then the job fails with the guide's "Insufficient credits",
// how much is needed and left, and the way out. After a top-up, the failed
// job runs again from its checkpoint: only the 10 left are translated, and
// no batch is charged twice.
func TestCreditsRunOutAndARetryAfterATopUpTranslatesOnlyTheRest(t *testing.T) {
	t.Parallel()
	b := translationSetup(t, translationSandbox, "tr-credits", 2, 60)

	id := b.translate(t, map[string]any{"target_language": "nl"})
	failed := waitForStatus(t, b.base, id, "failed")
	msg, _ := failed["error"].(string)
	for _, want := range []string{"Insufficient credits", "the 10 UI labels left to nl needs up to 1 credit, and the store has 0",
		"Buy more AI credits", "50 labels translated so far"} {
		mustContain(t, "error", msg, want)
	}
	if failed["attempts"] != float64(1) {
		t.Errorf("attempts %v: insufficient credits must fail at once", failed["attempts"])
	}
	groups, err := b.a.Jobs.FailureGroups(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(groups, func(g jobtable.FailureGroup) bool {
		return g.Type == translationJob && g.Kind == jobtype.KindInsufficientCredits
	}) {
		t.Errorf("failure groups %+v, want %s under %s", groups, translationJob, jobtype.KindInsufficientCredits)
	}
	r := b.result(t, id)
	if r.Translated != 50 || r.NotTranslated != 10 || r.CreditsCharged != 2 {
		t.Errorf("result %+v, want 50 translated, 10 not, 2 credits", r)
	}
	missing := 0
	for _, l := range b.labelsIn(t, b.storeID, "nl") {
		if l["missing"] == true {
			missing++
		}
	}
	if missing != 10 {
		t.Errorf("%d labels missing, want the 10 not paid for", missing)
	}

	b.box.Ledger.TopUp(b.storeID, 5)
	if status, body := call(t, http.MethodPost, b.base+"/api/background-jobs/"+id+"/retry", nil); status != http.StatusAccepted {
		t.Fatalf("retry: %d %v", status, body)
	}
	waitForStatus(t, b.base, id, "completed")
	if r := b.result(t, id); r.Translated != 60 || r.Processed != 60 || r.CreditsCharged != 3 || r.NotTranslated != 0 {
		t.Errorf("after a top-up %+v, want all 60 translated, each batch charged once", r)
	}
	if keys := b.debitKeys(); len(keys) != 3 || b.box.Ledger.Balance(b.storeID) != 4 {
		t.Errorf("debits %v, balance %d; want 3 debits and 4 credits left (2 + 5 - 3)", keys, b.box.Ledger.Balance(b.storeID))
	}
	if c := b.box.Translate.Counters(); c.Answered != 60 {
		t.Errorf("Translate answered %d calls, want each of the 60 labels once", c.Answered)
	}
	checkTranslated(t, b.labelsIn(t, b.storeID, "nl"), sandbox.UILabels(60), "nl", id)
}

// A translation reaches only its store's labels; a job with nothing to
// translate, or into the labels' own language, fails at once saying why;
// a language Translate does not know is refused at create.
func TestATranslationTouchesOnlyItsStoresLabels(t *testing.T) {
	t.Parallel()
	b := translationSetup(t, translationSandbox, "tr-own", 10, 20)
	b.putLabels(t, "tr-other", "en", sandbox.UILabels(20))
	b.putLabels(t, "tr-german", "de", []catalog.UILabel{{Key: "cart.title", Text: "Ihr Warenkorb"}})

	waitForStatus(t, b.base, b.translate(t, map[string]any{"target_language": "pt"}), "completed")
	checkTranslated(t, b.labelsIn(t, b.storeID, "pt"), sandbox.UILabels(20), "pt", "")
	for key, l := range b.labelsIn(t, "tr-other", "pt") {
		if l["missing"] != true {
			t.Errorf("the other store's %s was written: %v", key, l)
		}
	}
	if debits := b.box.Ledger.Debits("tr-other"); len(debits) != 0 {
		t.Errorf("the other store was charged: %+v", debits)
	}

	for _, tt := range []struct{ storeID, target, want string }{
		{"tr-none", "de", "has no UI labels to translate"},
		{"tr-german", "de", "written in de: choose another target_language"},
	} {
		id := startImport(t, b.base, tt.storeID, translationJob, map[string]any{"target_language": tt.target})
		failed := waitForStatus(t, b.base, id, "failed")
		mustContain(t, "error", failed["error"].(string), tt.want)
	}
	status, body := call(t, http.MethodPost, b.base+"/api/background-jobs", map[string]any{"type": translationJob, "payload": map[string]any{"target_language": "xx"}},
		bearer(testenv.StoreToken(t, b.storeID))...)
	if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body), "not a language Amazon Translate translates into") {
		t.Errorf("create with target_language xx: %d %v", status, body)
	}
}

// A PUT of labels is checked whole: one bad label refuses the request and
// writes nothing; a store writes only its own labels.
func TestUILabelWritesAreCheckedWhole(t *testing.T) {
	t.Parallel()
	b := translationSetup(t, translationSandbox, "tr-api", 10, 5)
	token := bearer(testenv.StoreToken(t, b.storeID))
	labels := b.base + "/api/catalog/ui-labels"
	sources := sandbox.UILabels(5)
	withPlaceholder := sources[slices.IndexFunc(sources, func(l catalog.UILabel) bool { return strings.Contains(l.Text, "{count}") })]

	for _, tt := range []struct {
		name, url string
		body      any
		want      string
	}{
		{"a bad key among good ones", labels + "?language=en", map[string]any{"labels": []map[string]string{
			{"key": "cart.new", "text": "New"}, {"key": "bad key", "text": "Bad"}}}, `labels[1]: key "bad key" is not a label key`},
		{"a key twice", labels + "?language=en", map[string]any{"labels": []map[string]string{
			{"key": "cart.new", "text": "New"}, {"key": "cart.new", "text": "Newer"}}}, "named twice"},
		{"an empty text", labels + "?language=en", map[string]any{"labels": []map[string]string{{"key": "cart.new", "text": "  "}}}, "text is empty"},
		{"a text too long", labels + "?language=en", map[string]any{"labels": []map[string]string{{"key": "cart.new", "text": strings.Repeat("a", 2001)}}}, "at most 2000"},
		{"no language", labels, map[string]any{"labels": []map[string]string{{"key": "cart.new", "text": "New"}}}, "language is required"},
		{"an unknown language", labels + "?language=klingon", map[string]any{"labels": []map[string]string{{"key": "cart.new", "text": "New"}}}, `language "klingon"`},
		{"an unknown field", labels + "?language=en", `{"labels": [{"key": "cart.new", "text": "New", "note": "x"}]}`, "unknown field"},
		{"a translation of no label", labels + "?language=de", map[string]any{"labels": []map[string]string{
			{"key": sources[0].Key, "text": "Zum Inhalt"}, {"key": "cart.new", "text": "Neu"}}}, `no label "cart.new" in its default language en`},
		{"a translation that lost a placeholder", labels + "?language=de", map[string]any{"labels": []map[string]string{
			{"key": withPlaceholder.Key, "text": "Ergebnisse"}}}, "it lost {count}"},
	} {
		status, body := call(t, http.MethodPut, tt.url, tt.body, token...)
		if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body), tt.want) {
			t.Errorf("%s: %d %v, want 400 saying %q", tt.name, status, body, tt.want)
		}
	}
	en, de := b.labelsIn(t, b.storeID, "en"), b.labelsIn(t, b.storeID, "de")
	if len(en) != 5 || en["cart.new"] != nil || de[sources[0].Key]["missing"] != true {
		t.Errorf("a refused PUT wrote: %d labels in en, %v in de", len(en), de[sources[0].Key])
	}
	if status, _ := call(t, http.MethodGet, labels+"?store_id=someone-else", nil, token...); status != http.StatusNotFound {
		t.Errorf("another store's labels: %d, want 404", status)
	}
	if status, body := call(t, http.MethodGet, labels+"?limit=2", nil, token...); status != http.StatusOK || len(body["labels"].([]any)) != 2 || body["next_cursor"] == "" {
		t.Errorf("a page of 2: %d %v", status, body)
	} else {
		status, next := call(t, http.MethodGet, labels+"?limit=10&cursor="+body["next_cursor"].(string), nil, token...)
		if status != http.StatusOK || len(next["labels"].([]any)) != 3 {
			t.Errorf("the page after: %d %v", status, next)
		}
	}
}

// A worker killed in the middle of a translation: another takes over from
// the last batch done; no batch is charged twice, and only the labels in
// flight at the kill are translated again.
func TestAKilledTranslationResumesWithoutTranslatingOrChargingTwice(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.Lease = 5 * time.Second
	env.Config.SweepInterval = time.Second
	o := translationSandbox
	o.TranslateLatency = func() time.Duration { return 150 * time.Millisecond }
	box := startSandbox(t, env, o)
	a := env.App(t, app.Overrides{})
	ctx := withTimeout(t, 3*time.Minute)
	const storeID = "tr-killed"
	box.Ledger.SetBalance(storeID, 10)
	labels := sandbox.UILabels(120)
	if err := a.Catalog.PutUILabels(ctx, storeID, labels); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.ClaimUILabelLanguage(ctx, storeID, "en"); err != nil {
		t.Fatal(err)
	}
	// Until the kill, only the worker process works the queue.
	proc := startWorkerProcess(t, env, "JOBS_TRANSLATE_ENDPOINT="+env.Config.TranslateEndpoint,
		"JOBS_CREDITS_LEDGER_URL="+env.Config.CreditsLedgerURL, "JOBS_CREDITS_LEDGER_TOKEN="+env.Config.CreditsLedgerToken)
	payload, _ := json.Marshal(map[string]any{"target_language": "sv"})
	j, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: storeID, Type: translationJob, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, func() error {
		if n := box.Translate.Counters().Answered; n < 30 {
			return fmt.Errorf("%d labels translated", n)
		}
		return nil
	})
	proc.kill()
	atKill, err := a.Jobs.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if atKill.Status != "running" {
		t.Fatalf("the translation is %s at the kill", atKill.Status)
	}
	answeredAtKill := box.Translate.Counters().Answered

	// Another worker, in this process, takes over once the lease expires.
	base := testenv.Serve(t, a)
	waitForStatus(t, base, j.ID, "completed")
	if done, _ := a.Jobs.Get(ctx, j.ID); done.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the killed run, then the takeover)", done.Attempts)
	}
	debits := box.Ledger.Debits(storeID)
	if len(debits) != 5 || box.Ledger.Balance(storeID) != 5 {
		t.Errorf("%d debits, balance %d: want 5 batches charged once each, 5 credits left", len(debits), box.Ledger.Balance(storeID))
	}
	// A label whose answer was in flight at the kill is translated again: at
	// most the calls in flight.
	if again := box.Translate.Counters().Answered - 120; again < 0 || again > 4 {
		t.Errorf("%d labels translated again after the kill (%d answered at the kill)", again, answeredAtKill)
	}
	b := &translationBundle{a: a, base: base, box: box, storeID: storeID}
	if r := b.result(t, j.ID); r.Translated != 120 || r.Processed != 120 {
		t.Errorf("result %+v, want each of the 120 counted once", r)
	}
	checkTranslated(t, b.labelsIn(t, storeID, "sv"), labels, "sv", j.ID)
}
