// Package marketplace holds what every client of an outside system shares:
// the marketplaces by name, and the classes of failure a job must tell
// apart (a rejected credential, a rate limit with the server's hint, a
// fault that heals, a request that can never succeed). Each client lives in
// a subpackage and returns these errors, so a job type decides from the
// class, never from a marketplace's wire format.
package marketplace

import (
	"errors"
	"fmt"
	"time"
)

// Names of the marketplaces a store connects.
const (
	Shopify = "shopify"
	Akeneo  = "akeneo"
	Amazon  = "amazon"
	Ebay    = "ebay"
)

// Names lists every marketplace, in the order the API shows them.
var Names = []string{Shopify, Akeneo, Amazon, Ebay}

// Title is how a store owner knows the marketplace: "Shopify", "eBay".
func Title(name string) string {
	switch name {
	case Shopify:
		return "Shopify"
	case Akeneo:
		return "Akeneo"
	case Amazon:
		return "Amazon"
	case Ebay:
		return "eBay"
	}
	return name
}

// InvalidCredentials is the guide's "Invalid credentials" error, as a store
// owner reads it: what the marketplace said, and what to do.
func InvalidCredentials(name, reason string) error {
	//lint:ignore ST1005 the guide's wording, shown to store owners as it is
	return fmt.Errorf("Invalid credentials: %s rejected the store's credentials (%s). Re-configure the %s connection in the Marketplace Hub", Title(name), reason, Title(name))
}

// CredentialError is a credential the marketplace rejected: retrying cannot
// help until the store connects again. Reason is the marketplace's own words.
type CredentialError struct {
	Marketplace string
	Reason      string
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("%s rejected the credentials: %s", e.Marketplace, e.Reason)
}

// RateLimitError is a request the marketplace refused for now; Wait is its
// hint (zero when it gave none).
type RateLimitError struct {
	Marketplace string
	Wait        time.Duration
	Reason      string
}

func (e *RateLimitError) Error() string {
	if e.Wait > 0 {
		return fmt.Sprintf("%s rate limit: %s (retry in %s)", e.Marketplace, e.Reason, e.Wait.Round(time.Millisecond))
	}
	return fmt.Sprintf("%s rate limit: %s", e.Marketplace, e.Reason)
}

// PermanentError is a request that will fail the same way however often it
// is sent: a bad query, a missing permission, a shop that is locked.
type PermanentError struct {
	Marketplace string
	Status      int
	Reason      string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("%s refused the request (HTTP %d): %s", e.Marketplace, e.Status, e.Reason)
}

// Any other error from a client (5xx, a timeout, a dropped connection) is
// transient: the job retries it on its schedule.

// IsCredential reports whether err is a rejected credential.
func IsCredential(err error) (*CredentialError, bool) {
	var ce *CredentialError
	ok := errors.As(err, &ce)
	return ce, ok
}

// IsRateLimit reports whether err is a rate limit.
func IsRateLimit(err error) (*RateLimitError, bool) {
	var re *RateLimitError
	ok := errors.As(err, &re)
	return re, ok
}
