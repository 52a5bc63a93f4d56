package translation

import (
	"context"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/ledger"
	translator "github.com/dainostore/jobs/internal/translation"
)

// Args is translation:ui-labels:bulk's payload.
type Args struct {
	// TargetLanguage is the language to translate into: one of Amazon
	// Translate's codes (de, fr, es-MX, zh-TW, …).
	TargetLanguage string `json:"target_language"`
	// OnlyMissing translates only the labels without a translation and
	// those whose translation is stale; false translates every label again
	// (the store's own corrections too). Default true.
	OnlyMissing *bool `json:"only_missing,omitempty"`
}

// Kind names the job type.
func (Args) Kind() string { return "translation:ui-labels:bulk" }

// Validate checks the target language.
func (a Args) Validate() error {
	switch {
	case a.TargetLanguage == "":
		return jobtype.InvalidField("target_language", "target_language is required: the language to translate the UI labels into, such as de, fr or es-MX")
	case !translator.Supported(a.TargetLanguage):
		return jobtype.InvalidField("target_language", "target_language %q is not a language Amazon Translate translates into; use one of its codes, such as de, fr, es-MX, pt-PT or zh-TW", a.TargetLanguage)
	}
	return nil
}

func (a Args) onlyMissing() bool { return a.OnlyMissing == nil || *a.OnlyMissing }

// Deps are what a translation needs.
type Deps struct {
	Catalog *catalog.Store
	// Translator translates the labels; Ledger is the credits ledger they
	// are paid on. Without either, the job fails at once.
	Translator *translator.Translator
	Ledger     *ledger.Client
	// CreditsPerBatch is what translating a batch of up to 25 labels costs.
	CreditsPerBatch int64
	// Concurrency bounds the Translate calls in flight (zero: 4).
	Concurrency int
	// MaxInlineWait is the longest throttling wait a job sleeps through
	// itself; a longer one becomes a retry at that time. Zero means 30 s.
	MaxInlineWait time.Duration
	// Sleep waits inside a job; nil is a timer that honours the context.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) that spreads backoffs; nil is
	// math/rand.
	Jitter func() float64
}

// DefaultConcurrency is the Translate calls a job has in flight: at the
// 0.1–0.3 s a label's call takes, about 20 calls a second, the rate
// Translate once published per language pair (it now publishes none, and
// raises an account's limits on request), so a job keeps clear of
// throttling while 500 labels take under half a minute.
const DefaultConcurrency = 4

// Register adds translation:ui-labels:bulk to r.
func Register(r *jobtype.Registry, d Deps) {
	jobtype.Register[Args](r, jobtype.Func[Args](func(ctx context.Context, rt jobtype.Runtime, a Args) (any, error) {
		return d.run(ctx, rt, a)
	}))
}

// Result is what a translation reports when it ends; its checkpoint is the
// same with the place it is at.
type Result struct {
	SourceLanguage string `json:"source_language"`
	TargetLanguage string `json:"target_language"`
	OnlyMissing    bool   `json:"only_missing"`
	// Labels is the store's labels in its default language when the job
	// started; Total those it set out to translate, UpToDate the others
	// (translated already, from the same source text).
	Labels   int `json:"labels"`
	Total    int `json:"total"`
	UpToDate int `json:"up_to_date"`
	// Processed counts the labels through (translated, failed or not
	// translated for lack of credits).
	Processed     int `json:"processed"`
	Translated    int `json:"translated"`
	Failed        int `json:"failed"`
	NotTranslated int `json:"not_translated"`
	// TranslateCalls and Characters are what Amazon Translate answered and
	// bills; CreditsCharged the credits debited.
	TranslateCalls int   `json:"translate_calls"`
	Characters     int   `json:"characters"`
	CreditsCharged int64 `json:"credits_charged"`
	// FailedLabels lists the labels that could not be translated, with
	// what was wrong.
	FailedLabels        []LabelFailure `json:"failed_labels"`
	FailedLabelsOmitted int            `json:"failed_labels_omitted,omitempty"`
	RateLimitWaitMS     int64          `json:"rate_limit_wait_ms"`
}

// LabelFailure is a label that could not be translated: why, and the
// placeholders and tags the translation lost and gained when that was it.
type LabelFailure struct {
	Key    string   `json:"key"`
	Reason string   `json:"reason"`
	Lost   []string `json:"lost,omitempty"`
	Gained []string `json:"gained,omitempty"`
}
