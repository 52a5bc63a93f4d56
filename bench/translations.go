package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/dainostore/jobs/internal/jobtype/translation"
	"github.com/dainostore/jobs/internal/meter"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/translatefake"
)

// The limits a translation is measured against. Amazon Translate
// publishes no rate for TranslateText (it scales, and raises an account's
// limits on request), so what bounds a job is the time a call takes: a
// short label's, from inside the region, 0.1 to 0.3 s.
var (
	translateLatencyLow  = 100 * time.Millisecond
	translateLatencyHigh = 300 * time.Millisecond
)

// translationLabelsPerBatch is what a credit buys (translation's batch).
const translationLabelsPerBatch = 25

// TranslationRun is one translation of a store's UI labels measured end to
// end.
type TranslationRun struct {
	Job            string `json:"job"`
	Labels         int    `json:"labels"`
	TargetLanguage string `json:"target_language"`
	Limit          string `json:"limit"`
	// Concurrency is the Translate calls the job keeps in flight.
	Concurrency int `json:"concurrency"`
	// Outcome is the job's end: completed or failed (Error says why,
	// Progress how far it got).
	Outcome  string `json:"outcome"`
	Error    string `json:"error,omitempty"`
	Progress string `json:"progress"`
	// WallSeconds runs from the create call to the job's completion.
	WallSeconds float64 `json:"wall_seconds"`
	// FloorSeconds is the least time Translate's answers allow: every
	// label's call at the run's mean answer time, with every place in
	// flight kept busy, as FloorDefinition says; FloorRatio is the wall
	// time over it.
	FloorSeconds    float64 `json:"floor_seconds"`
	FloorDefinition string  `json:"floor_definition"`
	FloorRatio      float64 `json:"ratio_to_floor"`
	// Calls is what the job asked of Translate, as the job and the fake
	// counted it; Credits what it paid, as the job and the ledger did.
	Calls   TranslationCalls   `json:"translate"`
	Credits TranslationCredits `json:"credits"`
	// The job's own report, without its list of failed labels.
	Result      translation.Result `json:"result"`
	Attempts    int                `json:"attempts"`
	MaxAttempts int                `json:"max_attempts"`
	Time        TranslationTime    `json:"time"`
	// AWS is what the translation asked of AWS, by operation, counted as
	// for the imports; Translate's calls are among them.
	AWS []AWSOperation `json:"aws"`
}

// TranslationCalls are the translation's Translate calls: each count must
// be the labels translated, one call each.
type TranslationCalls struct {
	Calls      int `json:"calls"`      // the job's result
	Answered   int `json:"answered"`   // answers of the Translate fake
	Throttled  int `json:"throttled"`  // the fake's TooManyRequestsException answers
	Characters int `json:"characters"` // billed, the job's result
	// MeanLatencyMS is the mean time of a call as the sandbox served it:
	// the answer time the floor counts.
	MeanLatencyMS float64 `json:"mean_latency_ms"`
}

// TranslationCredits is what the translation paid: one debit a batch of
// 25 labels.
type TranslationCredits struct {
	Debits         int   `json:"debits"`          // the ledger fake's debits of the store
	CreditsCharged int64 `json:"credits_charged"` // the job's result
	CreditsDebited int64 `json:"credits_debited"` // the ledger fake's debits, added up
}

// TranslationTime splits the wall time: wall = before the first call + the
// calls' span + after the last answer.
type TranslationTime struct {
	// BeforeFirstCall is from the create call to the first Translate call:
	// the pickup, the count of the labels, the first batch's read and
	// debit.
	BeforeFirstCall float64 `json:"before_first_call_s"`
	// CallSpan is from the first call to the last answer, and
	// MeanInFlight the calls in flight over it on average (the time of
	// every call over the span): the floor assumes Concurrency.
	CallSpan        float64 `json:"call_span_s"`
	MeanInFlight    float64 `json:"mean_in_flight"`
	AfterLastAnswer float64 `json:"after_last_answer_s"`
	LabelsPerSecond float64 `json:"labels_per_second"`
}

// measureTranslations writes the sandbox store's labels in English for a
// store, then translates them into German with translation:ui-labels:bulk.
func measureTranslations(ctx context.Context, s settings) ([]TranslationRun, error) {
	labels := sandbox.UILabels(s.translationLabels)
	if len(labels) < s.translationLabels {
		return nil, fmt.Errorf("the sandbox has %d UI labels, %d are asked for", len(labels), s.translationLabels)
	}
	progress("translations: %d UI labels into German, Translate answering in %s to %s", len(labels), translateLatencyLow, translateLatencyHigh)
	sys := &exportSystem{
		importSystem: &importSystem{box: sandbox.New(sandbox.Options{
			ShopifyProducts: 1, ShopifyCollections: 1, AkeneoProducts: 1, AkeneoCategories: 1,
			TranslateLatency: translatefake.UniformLatency(translateLatencyLow, translateLatencyHigh),
		}), log: &marketplaceLog{}, code: meter.New(), sdk: newSDKCounter(), ends: newEndWriter(), done: make(chan struct{})},
		outside: &outsideLog{},
	}
	if err := sys.start(ctx, "translation", sys.outside.wrap(sys.box)); err != nil {
		return nil, err
	}
	defer sys.Close()

	// The store writes its labels as its owner would, through the API.
	var body struct {
		Labels []map[string]string `json:"labels"`
	}
	for _, l := range labels {
		body.Labels = append(body.Labels, map[string]string{"key": l.Key, "text": l.Text})
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	if err := sys.call(ctx, http.MethodPut, "/api/catalog/ui-labels?language="+sandbox.UILabelsLanguage, string(data), http.StatusOK, nil); err != nil {
		return nil, err
	}
	// Enough credits for the translation, and as much again.
	batches := (len(labels) + translationLabelsPerBatch - 1) / translationLabelsPerBatch
	sys.box.Ledger.SetBalance(importStore, 2*int64(batches)*int64(sys.app.Config.TranslationCreditsPerBatch))

	run, err := sys.measureTranslation(ctx, "de", len(labels))
	if run.Job == "" {
		return nil, err
	}
	return []TranslationRun{run}, err
}

// measureTranslation creates one translation through the API, follows it
// to its end and checks its counts against the fakes'. Anything short of
// every label translated in one call each, each batch paid once, is an
// error: the figures would not measure what the floor describes.
func (s *exportSystem) measureTranslation(ctx context.Context, target string, labels int) (TranslationRun, error) {
	const jobType = "translation:ui-labels:bulk"
	progress("translations: %s to %s, %d Translate calls in flight", jobType, target, translation.DefaultConcurrency)
	translateBefore := s.box.Translate.Counters()
	debitsBefore := len(s.box.Ledger.Debits(importStore))
	m, err := s.runJob(ctx, jobType, map[string]any{"target_language": target})
	if err != nil {
		return TranslationRun{}, err
	}
	j, id, began, ended, usage, sdk, calls := m.job, m.job.ID, m.began, m.ended, m.usage, m.sdk, m.calls
	run := TranslationRun{Job: jobType, Labels: labels, TargetLanguage: target, Concurrency: translation.DefaultConcurrency,
		Limit:   fmt.Sprintf("no published rate; %s to %s an answer, at most 10,000 bytes a call", translateLatencyLow, translateLatencyHigh),
		Outcome: string(j.Status), Error: j.Error, Progress: j.ProgressMessage, WallSeconds: ended.Sub(began).Seconds(),
		Attempts: j.Attempts, MaxAttempts: j.MaxAttempts, AWS: awsOperations(usage, sdk)}
	if len(j.Result) > 0 {
		if err := json.Unmarshal(j.Result, &run.Result); err != nil {
			return TranslationRun{}, fmt.Errorf("result of %s: %w (%s)", id, err, j.Result)
		}
	}
	failed := run.Result.FailedLabels
	run.Result.FailedLabels = nil

	after := s.box.Translate.Counters()
	run.Calls = TranslationCalls{Calls: run.Result.TranslateCalls, Answered: after.Answered - translateBefore.Answered,
		Throttled: after.Throttled - translateBefore.Throttled, Characters: run.Result.Characters}
	debits := s.box.Ledger.Debits(importStore)[debitsBefore:]
	run.Credits = TranslationCredits{Debits: len(debits), CreditsCharged: run.Result.CreditsCharged}
	for _, d := range debits {
		run.Credits.CreditsDebited += d.Credits
	}
	var first, last time.Time
	var callTime time.Duration
	answered := 0
	for _, c := range calls {
		if c.service != "translate" || c.status != http.StatusOK {
			continue
		}
		answered++
		callTime += c.done.Sub(c.at)
		if first.IsZero() || c.at.Before(first) {
			first = c.at
		}
		if c.done.After(last) {
			last = c.done
		}
	}
	if answered > 0 {
		run.Calls.MeanLatencyMS = callTime.Seconds() * 1000 / float64(answered)
		run.Time.BeforeFirstCall = first.Sub(began).Seconds()
		run.Time.CallSpan = last.Sub(first).Seconds()
		run.Time.MeanInFlight = callTime.Seconds() / run.Time.CallSpan
		run.Time.AfterLastAnswer = ended.Sub(last).Seconds()
	}
	run.Time.LabelsPerSecond = float64(run.Result.Processed) / run.WallSeconds
	meanLatency := run.Calls.MeanLatencyMS / 1000
	run.FloorSeconds = float64(answered) * meanLatency / float64(run.Concurrency)
	run.FloorDefinition = fmt.Sprintf("%d calls × %.3f s mean answer time ÷ %d in flight", answered, meanLatency, run.Concurrency)
	if run.FloorSeconds > 0 && run.Outcome == "completed" {
		run.FloorRatio = run.WallSeconds / run.FloorSeconds
	}
	progress("translations: %s %s after %.1f s and %d attempts (floor %.1f s): %d translated, %d calls, %d debits of %d credits, %d throttled",
		jobType, run.Outcome, run.WallSeconds, run.Attempts, run.FloorSeconds, run.Result.Translated, run.Calls.Calls, run.Credits.Debits, run.Credits.CreditsDebited, run.Calls.Throttled)

	if run.Outcome != "completed" || run.Result.Translated != labels {
		return run, fmt.Errorf("the translation %s ended %s with %d of %d labels translated (%s; %s); failed: %+v",
			id, run.Outcome, run.Result.Translated, labels, run.Progress, run.Error, failed[:min(len(failed), 5)])
	}
	batches := (labels + translationLabelsPerBatch - 1) / translationLabelsPerBatch
	perBatch := int64(s.app.Config.TranslationCreditsPerBatch)
	if c, d := run.Calls, run.Credits; c.Calls != labels || c.Answered != labels || answered != labels ||
		d.Debits != batches || d.CreditsCharged != int64(batches)*perBatch || d.CreditsDebited != d.CreditsCharged {
		return run, fmt.Errorf("%d labels translated, but the job counts %d calls and %d credits, Translate answered %d calls (%d seen), the ledger made %d debits of %d credits: each label must be one call, each batch of %d one debit of %d",
			labels, c.Calls, d.CreditsCharged, c.Answered, answered, d.Debits, d.CreditsDebited, translationLabelsPerBatch, perBatch)
	}
	return run, nil
}
