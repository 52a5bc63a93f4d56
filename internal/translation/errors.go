package translation

import (
	"fmt"
	"strings"
)

// ItemError is a label that cannot be translated as it is: Translate
// refused its text, or its answer lost or gained a placeholder or a tag.
// Retrying the job would not help this label; the job records it and goes
// on with the next.
type ItemError struct {
	Reason string
	// Lost and Gained are the placeholders and tags the answer lost and
	// gained, when that was what was wrong.
	Lost, Gained []string
	Err          error // the cause, when there is one
}

func (e *ItemError) Error() string {
	return "the label cannot be translated: " + e.Reason
}

func (e *ItemError) Unwrap() error { return e.Err }

// Throttled is Translate refusing the call for now, after the SDK's own
// retry. Translate gives no hint of when to come back, so the job backs
// off.
type Throttled struct {
	Err error
}

func (e *Throttled) Error() string {
	return fmt.Sprintf("amazon translate is throttling the calls: %v", e.Err)
}

func (e *Throttled) Unwrap() error { return e.Err }

// UnsupportedPairError is a pair of languages Translate does not translate
// between: no label of the job can be translated.
type UnsupportedPairError struct {
	Source, Target string
	Err            error
}

func (e *UnsupportedPairError) Error() string {
	return fmt.Sprintf("amazon translate does not translate from %s to %s: %v", e.Source, e.Target, e.Err)
}

func (e *UnsupportedPairError) Unwrap() error { return e.Err }

// ConfigError is Translate refusing the service itself: the role's
// permissions, the credentials or the region are wrong. No retry helps
// until an operator fixes it.
type ConfigError struct {
	Region string
	Err    error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("amazon translate in region %s cannot be used; check the role's translate:TranslateText permission, the credentials and the region: %v", e.Region, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// markupChanged is the ItemError of an answer whose placeholders or tags
// are not the label's.
func markupChanged(lost, gained []string) *ItemError {
	var what []string
	if len(lost) > 0 {
		what = append(what, "lost "+strings.Join(lost, " "))
	}
	if len(gained) > 0 {
		what = append(what, "gained "+strings.Join(gained, " "))
	}
	return &ItemError{
		Reason: "the translation changed the label's placeholders or markup: " + strings.Join(what, "; "),
		Lost:   lost, Gained: gained,
	}
}
