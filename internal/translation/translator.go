package translation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/translate"
	"github.com/aws/aws-sdk-go-v2/service/translate/types"
	"github.com/aws/smithy-go"
)

// MaxTextBytes is the most text TranslateText takes in one call (UTF-8).
const MaxTextBytes = 10_000

// Usage is what Translate was paid for: the calls it answered and the
// characters they carried (Translate bills characters). A call it refused
// costs nothing and is not counted.
type Usage struct {
	Calls, Characters int
}

// Translator translates UI labels with Amazon Translate. It is safe for
// concurrent use.
type Translator struct {
	client *translate.Client
}

// New returns a translator that calls Translate through client.
func New(client *translate.Client) *Translator { return &Translator{client: client} }

// sdkMaxAttempts is how often the SDK sends one TranslateText call. Its
// default (3 attempts, backoff up to 20 s) would hold a worker through a
// throttling that the job waits out better itself (its backoff is counted
// and bounded); one quick retry absorbs a blip.
const sdkMaxAttempts = 2

// NewClient returns the Translate client for New. A non-empty endpoint
// replaces the regional one (translatefake, in tests and the sandbox).
func NewClient(cfg aws.Config, endpoint string) *translate.Client {
	return translate.NewFromConfig(cfg, func(o *translate.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.RetryMaxAttempts = sdkMaxAttempts
	})
}

// Translate translates the label text from source to target, placeholders
// protected, and checks that the answer has the label's placeholders and
// tags. A label that cannot be sent or whose answer broke them is an
// *ItemError; the other errors are those of the package doc. Usage counts
// the call if Translate answered it, whatever the outcome.
func (t *Translator) Translate(ctx context.Context, text, source, target string) (string, Usage, error) {
	var usage Usage
	if strings.TrimSpace(text) == "" {
		return "", usage, &ItemError{Reason: "the label has no text"}
	}
	protected := Protect(text)
	if n := len(protected); n > MaxTextBytes {
		return "", usage, &ItemError{Reason: fmt.Sprintf("the label is %d bytes with its placeholders protected; Amazon Translate takes at most %d bytes a call", n, MaxTextBytes)}
	}
	out, err := t.client.TranslateText(ctx, &translate.TranslateTextInput{
		SourceLanguageCode: aws.String(source),
		TargetLanguageCode: aws.String(target),
		Text:               aws.String(protected),
	})
	if err != nil {
		return "", usage, t.classify(err, source, target)
	}
	usage = Usage{Calls: 1, Characters: utf8.RuneCountInString(protected)}
	translated := Unprotect(aws.ToString(out.TranslatedText))
	if strings.TrimSpace(translated) == "" {
		return "", usage, &ItemError{Reason: "Amazon Translate answered an empty text"}
	}
	if lost, gained := CompareMarkup(text, translated); len(lost)+len(gained) > 0 {
		return "", usage, markupChanged(lost, gained)
	}
	return translated, usage, nil
}

// configCodes are the error codes of a service that refuses the caller
// itself, which TranslateText does not model.
var configCodes = map[string]bool{
	"AccessDeniedException": true, "UnrecognizedClientException": true, "InvalidSignatureException": true,
	"IncompleteSignature": true, "InvalidClientTokenId": true, "MissingAuthenticationToken": true,
	"NotAuthorized": true, "OptInRequired": true, "SubscriptionRequiredException": true,
}

// classify turns a failed TranslateText call into the error class the job
// acts on, by the exception's type.
func (t *Translator) classify(err error, source, target string) error {
	var (
		tooMany       *types.TooManyRequestsException
		tooLarge      *types.TextSizeLimitExceededException
		invalid       *types.InvalidRequestException
		lowConfidence *types.DetectedLanguageLowConfidenceException
		pair          *types.UnsupportedLanguagePairException
		notFound      *types.ResourceNotFoundException
		api           smithy.APIError
	)
	switch {
	case errors.As(err, &tooMany):
		return &Throttled{Err: err}
	case errors.As(err, &tooLarge):
		return &ItemError{Reason: "Amazon Translate refused the label's size (TextSizeLimitExceededException)", Err: err}
	case errors.As(err, &invalid), errors.As(err, &lowConfidence):
		return &ItemError{Reason: "Amazon Translate refused the label: " + err.Error(), Err: err}
	case errors.As(err, &pair):
		return &UnsupportedPairError{Source: source, Target: target, Err: err}
	case errors.As(err, &notFound):
		return &ConfigError{Region: t.client.Options().Region, Err: err}
	case errors.As(err, &api) && api.ErrorCode() == "LimitExceededException":
		return &Throttled{Err: err}
	case errors.As(err, &api) && configCodes[api.ErrorCode()]:
		return &ConfigError{Region: t.client.Options().Region, Err: err}
	}
	// InternalServerException, ServiceUnavailableException, a timeout or a
	// dropped connection: the job retries them on its schedule.
	return fmt.Errorf("translate from %s to %s: %w", source, target, err)
}
