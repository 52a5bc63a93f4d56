package ebayfake

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// InventoryItem is an inventory item as the Sell Inventory API reads and
// writes it (InventoryItemWithSkuLocaleGroupid), with the fields a store's
// export fills.
type InventoryItem struct {
	SKU          string        `json:"sku"`
	Locale       string        `json:"locale,omitempty"`
	Condition    string        `json:"condition,omitempty"`
	Availability *Availability `json:"availability,omitempty"`
	Product      *Product      `json:"product,omitempty"`
}

// Availability is the quantity an item can be sold in.
type Availability struct {
	ShipToLocationAvailability ShipToLocationAvailability `json:"shipToLocationAvailability"`
}

// ShipToLocationAvailability is the quantity available to ship to buyers.
type ShipToLocationAvailability struct {
	Quantity int `json:"quantity"`
}

// Product is an inventory item's product details.
type Product struct {
	Title       string              `json:"title,omitempty"`
	Description string              `json:"description,omitempty"`
	Aspects     map[string][]string `json:"aspects,omitempty"`
	Brand       string              `json:"brand,omitempty"`
	MPN         string              `json:"mpn,omitempty"`
	EAN         []string            `json:"ean,omitempty"`
	UPC         []string            `json:"upc,omitempty"`
	ImageURLs   []string            `json:"imageUrls,omitempty"`
}

// apiError is one entry of eBay's {"errors":[…]} body (ErrorDetailV3),
// and of the errors and warnings of a bulk call's per-item answers.
type apiError struct {
	ErrorID     int              `json:"errorId"`
	Domain      string           `json:"domain"`
	Category    string           `json:"category"`
	Message     string           `json:"message"`
	LongMessage string           `json:"longMessage,omitempty"`
	Parameters  []errorParameter `json:"parameters,omitempty"`
}

// errorParameter names what an error is about: a field, an offer id.
type errorParameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type apiErrorList struct {
	Errors []apiError `json:"errors"`
}

// refusal is an API error answer.
type refusal struct {
	status int
	error  apiError
}

var (
	invalidAccessToken = refusal{http.StatusUnauthorized, apiError{
		ErrorID: 1001, Domain: "OAuth", Category: "REQUEST",
		Message:     "Invalid access token",
		LongMessage: "Invalid access token. Check the value of the Authorization HTTP request header.",
	}}
	insufficientPermissions = refusal{http.StatusForbidden, apiError{
		ErrorID: 1100, Domain: "ACCESS", Category: "REQUEST",
		Message:     "Access denied",
		LongMessage: "Insufficient permissions to fulfill the request.",
	}}
	tooManyRequests = refusal{http.StatusTooManyRequests, apiError{
		ErrorID: 2001, Domain: "ACCESS", Category: "REQUEST",
		Message:     "Too many requests.",
		LongMessage: "The request limit has been reached for the resource.",
	}}
	systemError = refusal{http.StatusInternalServerError, apiError{
		ErrorID: 25001, Domain: "API_INVENTORY", Category: "APPLICATION",
		Message: "A system error has occurred. Please try again later.",
	}}
)

func (e refusal) write(w http.ResponseWriter) {
	fakeserver.WriteJSON(w, e.status, apiErrorList{Errors: []apiError{e.error}})
}

// api wraps the handler of a Sell Inventory operation with what every call
// goes through: the user token, then its scopes (any of anyOfScopes will
// do), then the app's daily quota. Injected faults come after the token
// and its scopes, so a call with a bad token is still refused as such, and
// before the quota, so a refused call does not count.
func (s *Server) api(anyOfScopes []string, handle func(http.ResponseWriter, *http.Request, *seller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.now()
		s.mu.Lock()
		s.counters.APICalls++
		grant, ok := s.grantOf(r.Header.Get("Authorization"), now)
		caller := s.sellers[grant.refreshToken]
		var refused *refusal
		var retryAfter time.Duration
		switch {
		case !ok:
			refused = &invalidAccessToken
		case !slices.ContainsFunc(anyOfScopes, func(scope string) bool { return slices.Contains(grant.scopes, scope) }):
			// An application token lands here too: it carries no Sell scope.
			refused = &insufficientPermissions
		case caller == nil:
			refused = &invalidAccessToken
		default:
			refused, retryAfter = s.injectedFault()
			if refused == nil && !s.takeInventoryCall(caller.ClientID, now) {
				// A daily quota: no Retry-After, as eBay sends none.
				refused = &tooManyRequests
			}
		}
		s.mu.Unlock()

		if refused != nil {
			if retryAfter > 0 {
				w.Header().Set("Retry-After", retryAfterSeconds(retryAfter))
			}
			refused.write(w)
			return
		}
		handle(w, r, caller)
	}
}

// retryAfterSeconds is a Retry-After header's value for d: whole seconds,
// rounded up.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// injectedFault spends one of the faults that refuse the next calls, if
// any is left, and returns its answer. s.mu is held.
func (s *Server) injectedFault() (*refusal, time.Duration) {
	switch {
	case s.faults.ServerErrorsNext > 0:
		s.faults.ServerErrorsNext--
		return &systemError, 0
	case s.faults.RateLimitNext > 0:
		s.faults.RateLimitNext--
		return &tooManyRequests, s.faults.RateLimitRetryAfter
	}
	return nil, 0
}

// inventoryItems is getInventoryItems' answer (InventoryItems).
type inventoryItems struct {
	Href           string          `json:"href"`
	InventoryItems []InventoryItem `json:"inventoryItems"`
	Limit          int             `json:"limit"`
	Next           string          `json:"next,omitempty"`
	Prev           string          `json:"prev,omitempty"`
	// Size is the number of pages, as eBay's API defines it.
	Size  int `json:"size"`
	Total int `json:"total"`
}

// handleGetInventoryItems is getInventoryItems: the seller's items by SKU,
// a page at a time. Its offset is a page number, not an item count.
func (s *Server) handleGetInventoryItems(w http.ResponseWriter, r *http.Request, caller *seller) {
	limit, limitErr := pagingParameter(r.URL.Query(), "limit", 25, 1, 200)
	offset, offsetErr := pagingParameter(r.URL.Query(), "offset", 0, 0, 1<<30)
	if err := cmp.Or(limitErr, offsetErr); err != nil {
		refusal{http.StatusBadRequest, apiError{
			ErrorID: 25706, Domain: "API_INVENTORY", Category: "REQUEST",
			Message: "You have provided invalid pagination values. " + err.Error() + ".",
		}}.write(w)
		return
	}

	s.mu.Lock()
	skus := make([]string, 0, len(caller.inventory))
	for sku := range caller.inventory {
		skus = append(skus, sku)
	}
	slices.Sort(skus)
	page := make([]InventoryItem, 0, limit)
	for _, sku := range skus[min(offset*limit, len(skus)):min((offset+1)*limit, len(skus))] {
		page = append(page, caller.inventory[sku])
	}
	s.mu.Unlock()

	pages := (len(skus) + limit - 1) / limit
	pageURL := func(offset int) string {
		return s.publicURL.Of(r) + "/sell/inventory/v1/inventory_item?limit=" + strconv.Itoa(limit) + "&offset=" + strconv.Itoa(offset)
	}
	answer := inventoryItems{
		Href:           pageURL(offset),
		InventoryItems: page,
		Limit:          limit,
		Size:           pages,
		Total:          len(skus),
	}
	if offset+1 < pages {
		answer.Next = pageURL(offset + 1)
	}
	if offset > 0 && offset-1 < pages {
		answer.Prev = pageURL(offset - 1)
	}
	fakeserver.WriteJSON(w, http.StatusOK, answer)
}

// pagingParameter reads an integer query parameter, which eBay types as a
// string.
func pagingParameter(query url.Values, name string, fallback, least, most int) (int, error) {
	raw := query.Get(name)
	if raw == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < least || n > most {
		return 0, fmt.Errorf("%s %q is not an integer from %d to %d", name, raw, least, most)
	}
	return n, nil
}
