package amazon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dainostore/jobs/internal/marketplace"
	"golang.org/x/time/rate"
)

// The client spaces its listings calls at the rate of putListingsItem's
// usage plan (5 a second, burst 10) unless Config says otherwise, with half
// the burst: calls in flight together reach Amazon a little out of step
// with the client's spacing, and the other half absorbs that instead of a
// 429.
const (
	DefaultListingsRate  rate.Limit = 5
	DefaultListingsBurst int        = 5
)

// Statuses of a Submission. SP-API's third, VALID, answers only a
// validation preview, which the client does not ask for.
const (
	// SubmissionAccepted means queued: Amazon may still raise issues about
	// the listing later.
	SubmissionAccepted = "ACCEPTED"
	// SubmissionInvalid means refused: the issues of severity ERROR say why,
	// and the listing is as it was.
	SubmissionInvalid = "INVALID"
)

// Issue is one issue SP-API raised about a submission.
type Issue struct {
	Code           string   `json:"code"`     // such as 90220, a required attribute missing
	Message        string   `json:"message"`  // in the issueLocale asked for, en_US
	Severity       string   `json:"severity"` // ERROR, WARNING or INFO
	AttributeNames []string `json:"attributeNames"`
	Categories     []string `json:"categories"` // such as MISSING_ATTRIBUTE, INVALID_ATTRIBUTE
	// MarketplaceIDs are the marketplaces the issue is about: as SP-API
	// says, or else the marketplace of the submission that raised it.
	MarketplaceIDs []string `json:"marketplaceIds"`
}

// Identifier is the catalog item a listing is of, in one marketplace.
type Identifier struct {
	MarketplaceID string `json:"marketplaceId"`
	ASIN          string `json:"asin"`
}

// Submission is putListingsItem's answer.
type Submission struct {
	SKU    string `json:"sku"`
	Status string `json:"status"` // SubmissionAccepted or SubmissionInvalid
	// SubmissionID is SP-API's id of the submission, to quote to Amazon's
	// support; one per marketplace, comma-separated, when the credentials
	// name several.
	SubmissionID string  `json:"submissionId"`
	Issues       []Issue `json:"issues"`
	// Identifiers name the ASIN in each marketplace where SP-API gave it
	// (it may not until the submission is processed).
	Identifiers []Identifier `json:"identifiers"`
}

// putListingsItemRequest is putListingsItem's body.
type putListingsItemRequest struct {
	ProductType  string         `json:"productType"`
	Requirements string         `json:"requirements"`
	Attributes   map[string]any `json:"attributes"`
}

// PutListingsItem creates or fully replaces the seller's listing of sku,
// product facts and offer together (requirements LISTING), in every
// marketplace of the credentials. attributes are SP-API's, keyed by
// attribute name, each a list of value objects (item_name:
// [{"value":…,"language_tag":"en_US","marketplace_id":…}]).
//
// A submission Amazon finds invalid is not an error: it is a Submission
// with Status SubmissionInvalid and the issues, for the caller to record
// against the product. An error is one of the classes of package
// marketplace or transient.
//
// putListingsItem takes one marketplace per request, so the client sends
// one per marketplace and folds the answers into one: INVALID if any was,
// with every issue and identifier. An error in one marketplace ends the
// call; the submissions already accepted stand, and a retry replaces them
// with the same data. Every request first waits its turn at the client's
// listings rate, or returns when ctx ends.
func (c *Client) PutListingsItem(ctx context.Context, sku, productType string, attributes map[string]any) (Submission, error) {
	if sku == "" || productType == "" {
		return Submission{}, &marketplace.PermanentError{Marketplace: marketplace.Amazon,
			Reason: fmt.Sprintf("a listing needs a SKU and a product type (SKU %q, product type %q)", sku, productType)}
	}
	payload, err := json.Marshal(putListingsItemRequest{ProductType: productType, Requirements: "LISTING", Attributes: attributes})
	if err != nil {
		// Attributes that cannot be JSON fail the same way on every try.
		return Submission{}, &marketplace.PermanentError{Marketplace: marketplace.Amazon,
			Reason: fmt.Sprintf("listing %s: encode attributes: %v", sku, err)}
	}
	path := "/listings/2021-08-01/items/" + url.PathEscape(c.creds.SellerID) + "/" + url.PathEscape(sku)

	folded := Submission{SKU: sku, Status: SubmissionAccepted}
	var submissionIDs []string
	for _, marketplaceID := range c.creds.MarketplaceIDs {
		answer, err := c.putListingsItemIn(ctx, marketplaceID, path, payload)
		if err != nil {
			return Submission{}, fmt.Errorf("amazon put listing %s in %s: %w", sku, marketplaceID, err)
		}
		if answer.Status == SubmissionInvalid {
			folded.Status = SubmissionInvalid
		}
		submissionIDs = append(submissionIDs, answer.SubmissionID)
		for _, issue := range answer.Issues {
			if len(issue.MarketplaceIDs) == 0 {
				issue.MarketplaceIDs = []string{marketplaceID}
			}
			folded.Issues = append(folded.Issues, issue)
		}
		for _, id := range answer.Identifiers {
			if id.MarketplaceID == "" {
				id.MarketplaceID = marketplaceID
			}
			folded.Identifiers = append(folded.Identifiers, id)
		}
	}
	folded.SubmissionID = strings.Join(submissionIDs, ",")
	return folded, nil
}

// putListingsItemIn sends the submission payload to one marketplace.
func (c *Client) putListingsItemIn(ctx context.Context, marketplaceID, path string, payload json.RawMessage) (Submission, error) {
	if err := c.listings.Wait(ctx); err != nil {
		if ctx.Err() == nil {
			// The limiter refuses at once a wait that would outlast ctx's
			// deadline; say so in the terms a caller checks for.
			err = fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
		}
		return Submission{}, fmt.Errorf("wait for the listings rate: %w", err)
	}
	query := url.Values{
		"marketplaceIds": {marketplaceID},
		"includedData":   {"issues,identifiers"},
		"issueLocale":    {"en_US"},
	}
	var answer Submission
	if err := c.call(ctx, http.MethodPut, path, query, payload, &answer); err != nil {
		return Submission{}, err
	}
	if answer.Status != SubmissionAccepted && answer.Status != SubmissionInvalid {
		return Submission{}, &marketplace.PermanentError{Marketplace: marketplace.Amazon, Status: http.StatusOK,
			Reason: fmt.Sprintf("putListingsItem answered status %q, neither ACCEPTED nor INVALID", answer.Status)}
	}
	return answer, nil
}

// SellerID is the seller the client acts for, as the Listings Items API's
// paths name it.
func (c *Client) SellerID() string { return c.creds.SellerID }

// MarketplaceIDs are the marketplaces the client lists in, a copy.
func (c *Client) MarketplaceIDs() []string { return slices.Clone(c.creds.MarketplaceIDs) }
