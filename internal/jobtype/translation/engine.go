package translation

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/jobtype"
	creditsjob "github.com/dainostore/jobs/internal/jobtype/credits"
	"github.com/dainostore/jobs/internal/ledger"
	translator "github.com/dainostore/jobs/internal/translation"
)

// batchSize is how many labels are paid for and checkpointed together: a
// credit buys a batch, and a kill loses at most the batches in flight.
const batchSize = 25

// pageSize is how many source labels the walk reads at a time.
const pageSize = 100

// maxFailedLabels bounds the labels a result lists one by one; the count
// covers all. The result is kept in the job, whose item DynamoDB limits to
// 400 KB.
const maxFailedLabels = 100

// Label outcomes.
const (
	outcomeTranslated = "translated"
	outcomeFailed     = "failed"
)

// state is the checkpoint: the result so far and where the walk is.
type state struct {
	Result
	// After is the last source key of the last batch done: every label up
	// to it is done.
	After string `json:"after"`
}

// label is one label on its way through a translation.
type label struct {
	source catalog.UILabel
	// before is a label this job translated before a crash, from the same
	// source text: counted, not sent again.
	before bool
	// outcome is empty until the label is done.
	outcome string
	failure *LabelFailure
	usage   translator.Usage
	waited  time.Duration
}

// batch is up to batchSize labels to translate, paid for together.
type batch struct {
	labels []*label
	last   string // the walk's place after it
	done   bool   // the walk ends with it
	// err is what stopped paying for it: *ledger.InsufficientCreditsError or a fault.
	err     error
	credits int64 // what it was charged
	// pending counts its labels whose translation is in flight.
	pending sync.WaitGroup
}

// run is one run of a translation job.
type run struct {
	Deps
	rt   jobtype.Runtime
	args Args
	// source is the labels' default language, the one translated from.
	source string

	st state // read and written by the walk's consumer (and start) only

	mu sync.Mutex // guards what the labels in flight share
	// done counts the labels through, total the labels to translate, for
	// "Translating UI labels: 120/500".
	done, total int
	// failure is the first error that stops the job; stop cancels the
	// labels in flight with it.
	failure error
	stop    context.CancelCauseFunc
}

// run translates the store's labels from where the checkpoint left off.
func (d Deps) run(ctx context.Context, rt jobtype.Runtime, a Args) (any, error) {
	if d.Translator == nil || d.Ledger == nil {
		return nil, jobtype.Permanent(errors.New("UI label translation is not available on this platform: no credits ledger is configured to pay for it"))
	}
	r := &run{Deps: d, rt: rt, args: a}
	resumed, err := rt.Resume(&r.st)
	if err != nil {
		return nil, err
	}
	if resumed {
		rt.Log(slog.LevelInfo, "resuming the translation", slog.String("after", r.st.After), slog.Int("processed", r.st.Processed))
	} else if err := r.start(ctx); err != nil {
		return nil, err
	}
	r.source, r.done, r.total = r.st.SourceLanguage, r.st.Processed, r.st.Total
	return r.walk(ctx)
}

// start checks the languages and counts the labels to translate.
func (r *run) start(ctx context.Context) error {
	storeID, target := r.rt.StoreID(), r.args.TargetLanguage
	source, err := r.Catalog.UILabelLanguage(ctx, storeID)
	if err != nil {
		return err
	}
	switch source {
	case "":
		return jobtype.Permanent(fmt.Errorf("store %s has no UI labels to translate: write them in its default language first (PUT /api/catalog/ui-labels?language=en)", storeID))
	case target:
		return jobtype.Permanent(fmt.Errorf("the store's UI labels are written in %s: choose another target_language to translate them into", source))
	}
	r.source = source
	r.st.Result = Result{SourceLanguage: source, TargetLanguage: target, OnlyMissing: r.args.onlyMissing(), FailedLabels: []LabelFailure{}}
	labels, total, err := r.count(ctx)
	if err != nil {
		return err
	}
	r.st.Labels, r.st.Total, r.st.UpToDate = labels, total, labels-total
	r.rt.Progress(0, fmt.Sprintf("Translating UI labels: 0/%d", total))
	return nil
}

// count is how many source labels the store has, and how many of them the
// job translates.
func (r *run) count(ctx context.Context) (labels, total int, err error) {
	after := ""
	for {
		page, translations, more, err := r.page(ctx, after, 1000)
		if err != nil {
			return 0, 0, err
		}
		for _, s := range page {
			labels++
			if take, _ := r.choose(s, translations); take {
				total++
			}
		}
		if !more || len(page) == 0 {
			return labels, total, nil
		}
		after = page[len(page)-1].Key
	}
}

// page reads source labels after the key after, with their translations.
func (r *run) page(ctx context.Context, after string, limit int) ([]catalog.UILabel, map[string]catalog.UILabel, bool, error) {
	storeID := r.rt.StoreID()
	page, more, err := r.Catalog.UILabels(ctx, storeID, r.source, after, limit)
	if err != nil || len(page) == 0 {
		return nil, nil, more, err
	}
	keys := make([]string, len(page))
	for i, l := range page {
		keys[i] = l.Key
	}
	translations, err := r.Catalog.UILabelsByKey(ctx, storeID, r.args.TargetLanguage, keys)
	return page, translations, more, err
}

// choose says whether the job translates the source label s, given the
// translations found, and whether this job translated it already (before a
// crash or a retry, from the same text): such a label belongs to its batch
// as it did then, so the batch and its debit are the same again.
func (r *run) choose(s catalog.UILabel, translations map[string]catalog.UILabel) (take, before bool) {
	t, translated := translations[s.Key]
	switch {
	case translated && t.Origin == catalog.LabelTranslated && t.JobID == r.rt.JobID() && t.SourceHash == s.SourceHash:
		return true, true
	case !translated || t.SourceHash != s.SourceHash:
		return true, false // missing or stale
	}
	return !r.args.onlyMissing(), false
}

// nextBatch gathers the next labels to translate after the source key
// after, up to a batch.
func (r *run) nextBatch(ctx context.Context, after string) (*batch, error) {
	b := &batch{last: after}
	for {
		page, translations, more, err := r.page(ctx, b.last, pageSize)
		if err != nil {
			return nil, err
		}
		for _, s := range page {
			b.last = s.Key
			if take, before := r.choose(s, translations); take {
				b.labels = append(b.labels, &label{source: s, before: before})
				if len(b.labels) == batchSize {
					return b, nil
				}
			}
		}
		if !more || len(page) == 0 {
			b.done = true
			return b, nil
		}
	}
}

// walk runs the batches: one goroutine reads, pays for and starts each
// batch's labels, which share the job's places in flight with the next
// batch's, so no place waits for a batch's slowest call; the walk checks
// the batches in order as their labels end, and checkpoints after each.
func (r *run) walk(ctx context.Context) (any, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.stop = cancel
	places := make(chan struct{}, cmp.Or(r.Concurrency, DefaultConcurrency))
	batches := make(chan *batch, 1)
	var walkErr error // read once batches is closed
	go func() {
		defer close(batches)
		after := r.st.After
		for {
			b, err := r.nextBatch(ctx, after)
			if err != nil {
				walkErr = err
				return
			}
			if len(b.labels) == 0 {
				return
			}
			after = b.last
			if b.err = r.pay(ctx, b); b.err == nil {
				r.dispatch(ctx, b, places)
			}
			batches <- b
			if b.err != nil || b.done {
				return
			}
		}
	}()
	// drain stops the batches under way and waits for their labels:
	// nothing runs on after the walk returns.
	drain := func(err error) {
		cancel(err)
		for b := range batches {
			b.pending.Wait()
		}
	}

	for b := range batches {
		b.pending.Wait()
		var short *ledger.InsufficientCreditsError
		switch {
		case b.err == nil && b.complete():
			r.account(b)
			r.st.After = b.last
			if err := r.rt.Checkpoint(r.st); err != nil {
				drain(err)
				return nil, err
			}
			continue
		case errors.As(b.err, &short):
			drain(b.err)
			return nil, r.outOfCredits(short)
		}
		// What stopped the batch: a label's failure (which stopped the
		// others), the context's end, or its debit's fault.
		err := r.stopped(ctx)
		if err == nil {
			err = cmp.Or(b.err, errors.New("a batch ended with labels neither translated nor failed"))
		}
		drain(err)
		return nil, err
	}
	if walkErr != nil {
		return nil, walkErr
	}
	return r.end()
}

// complete reports whether every label of the batch is done.
func (b *batch) complete() bool {
	for _, l := range b.labels {
		if l.outcome == "" {
			return false
		}
	}
	return true
}

// stopped is what stopped the job: the first label's failure, or the
// context's end.
func (r *run) stopped(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failure != nil {
		return r.failure
	}
	return ctx.Err()
}

// fail stops the job with err, unless it is stopping already.
func (r *run) fail(err error) {
	r.mu.Lock()
	if r.failure == nil {
		r.failure = err
	}
	r.mu.Unlock()
	r.stop(err)
}

// dispatch starts the translation of each label of b as a place in flight
// frees; a label this job translated before is done at once.
func (r *run) dispatch(ctx context.Context, b *batch, places chan struct{}) {
	for _, l := range b.labels {
		if l.before {
			r.finished(l, outcomeTranslated)
			continue
		}
		select {
		case places <- struct{}{}:
		case <-ctx.Done():
			return
		}
		b.pending.Add(1)
		go func() {
			defer func() {
				<-places
				b.pending.Done()
			}()
			r.translate(ctx, l)
		}()
	}
}

// translate has Translate translate one label and writes the translation
// the moment it comes. A label Translate refuses or breaks is the label's
// failure; anything else that goes wrong stops the job.
func (r *run) translate(ctx context.Context, l *label) {
	source, target := r.source, r.args.TargetLanguage
	var text string
	err := r.call(ctx, l, func() error {
		var usage translator.Usage
		var err error
		text, usage, err = r.Translator.Translate(ctx, l.source.Text, source, target)
		l.usage.Calls += usage.Calls
		l.usage.Characters += usage.Characters
		return err
	})
	var (
		item   *translator.ItemError
		pair   *translator.UnsupportedPairError
		config *translator.ConfigError
	)
	switch {
	case err == nil:
		if err := r.write(ctx, l, text); err != nil {
			r.fail(err)
			return
		}
		r.finished(l, outcomeTranslated)
	case errors.As(err, &item):
		l.failure = &LabelFailure{Key: l.source.Key, Reason: item.Reason, Lost: item.Lost, Gained: item.Gained}
		r.finished(l, outcomeFailed)
	case ctx.Err() != nil:
		// Stopped by another label's failure or the job's end, which the
		// walk reports.
	case errors.As(err, &pair):
		r.fail(jobtype.Permanent(fmt.Errorf("the store's UI labels cannot be translated from %s to %s: Amazon Translate refuses the pair in this region (%v); choose another target_language", source, target, pair.Err)))
	case errors.As(err, &config):
		r.fail(jobtype.Permanent(err))
	default:
		// A throttling too long to wait here (a retry at its time), or a
		// fault the retry schedule is for.
		r.fail(fmt.Errorf("translate UI label %s: %w", l.source.Key, err))
	}
}

// write records a label's translation, the moment it is known: whatever
// stops the job after, it is not translated again.
func (r *run) write(ctx context.Context, l *label, text string) error {
	return r.Catalog.PutUILabel(context.WithoutCancel(ctx), r.rt.StoreID(), catalog.UILabel{
		Key: l.source.Key, Language: r.args.TargetLanguage, Text: text, SourceHash: l.source.SourceHash,
		Origin: catalog.LabelTranslated, JobID: r.rt.JobID(),
	})
}

// finished counts one more label through and reports the progress.
func (r *run) finished(l *label, outcome string) {
	l.outcome = outcome
	r.mu.Lock()
	r.done++
	done, total := r.done, max(r.total, r.done)
	r.mu.Unlock()
	r.rt.Progress(min(99, done*100/max(total, 1)), fmt.Sprintf("Translating UI labels: %d/%d", done, total))
}

// pay debits a batch's translation from the store's credits. The
// idempotency key is the job, the target language and the batch's labels
// with their source texts: whatever runs this batch again (a crash, a
// retry, a duplicate message, a continuation) is answered as a replay, not
// charged.
func (r *run) pay(ctx context.Context, b *batch) error {
	credits := cmp.Or(r.CreditsPerBatch, 1)
	target := r.args.TargetLanguage
	result, err := r.Ledger.Debit(ctx, ledger.Debit{
		StoreID:        r.rt.StoreID(),
		Credits:        credits,
		Reason:         fmt.Sprintf("Translation of %d UI labels to %s", len(b.labels), target),
		Reference:      r.rt.JobID(),
		IdempotencyKey: fmt.Sprintf("ui-labels:%s:%s:%s", r.rt.JobID(), target, batchHash(b.labels)),
	})
	if err != nil {
		return creditsjob.DebitError(ctx, err)
	}
	b.credits = credits
	if result.Replayed {
		r.rt.Log(slog.LevelInfo, "debit answered as a replay: the batch was paid for before", slog.String("first_label", b.labels[0].source.Key))
	}
	return nil
}

// batchHash names a batch by its labels and their source texts.
func batchHash(labels []*label) string {
	h := sha256.New()
	for _, l := range labels {
		fmt.Fprintf(h, "%s\x00%s\n", l.source.Key, l.source.SourceHash)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// account adds a finished batch's outcomes to the result.
func (r *run) account(b *batch) {
	res := &r.st.Result
	res.CreditsCharged += b.credits
	for _, l := range b.labels {
		res.Processed++
		res.TranslateCalls += l.usage.Calls
		res.Characters += l.usage.Characters
		res.RateLimitWaitMS += l.waited.Milliseconds()
		switch l.outcome {
		case outcomeTranslated:
			res.Translated++
		case outcomeFailed:
			res.Failed++
			if len(res.FailedLabels) < maxFailedLabels {
				res.FailedLabels = append(res.FailedLabels, *l.failure)
			} else {
				res.FailedLabelsOmitted++
			}
		}
	}
}

// outOfCredits ends the translation with the guide's "Insufficient
// credits". The checkpoint is the last batch paid for and done, so a retry
// of this job after a top-up starts with the batch refused.
func (r *run) outOfCredits(short *ledger.InsufficientCreditsError) error {
	res := r.st.Result
	left := max(res.Total-res.Processed, 0)
	res.NotTranslated = left
	res.Processed += left
	needed := int64((left+batchSize-1)/batchSize) * cmp.Or(r.CreditsPerBatch, 1)
	//lint:ignore ST1005 the guide's wording, shown to store owners as it is
	return jobtype.FailedWithResult(jobtype.KindInsufficientCredits, fmt.Errorf(
		"Insufficient credits: translating the %d UI labels left to %s needs up to %s, and the store has %d. "+
			"Buy more AI credits and run the translation again. The %d labels translated so far are kept and not translated again",
		left, res.TargetLanguage, creditsOf(needed), short.Balance, res.Translated), res)
}

func creditsOf(n int64) string {
	if n == 1 {
		return "1 credit"
	}
	return fmt.Sprintf("%d credits", n)
}

// end reports the translation: completed, or failed for the labels that
// could not be translated.
func (r *run) end() (any, error) {
	res := r.st.Result
	r.rt.Log(slog.LevelInfo, "translation done", slog.Int("translated", res.Translated), slog.Int("failed", res.Failed),
		slog.Int("up_to_date", res.UpToDate), slog.Int64("credits_charged", res.CreditsCharged))
	if res.Failed == 0 {
		return res, nil
	}
	return nil, jobtype.FailedWithResult(jobtype.KindValidation, fmt.Errorf(
		"UI labels not translated: %d of %d labels could not be translated to %s (their placeholders or markup changed, or Amazon Translate refused them). "+
			"The result lists each with what was wrong: write their translation yourself (PUT /api/catalog/ui-labels?language=%s) or run the translation again, which translates only those (%d translated)",
		res.Failed, res.Total, res.TargetLanguage, res.TargetLanguage, res.Translated), res)
}
