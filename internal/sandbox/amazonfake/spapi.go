package amazonfake

import (
	"net/http"
	"strconv"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// operation is an SP-API operation as its quota knows it: by name, with
// its usage plan.
type operation struct {
	name string
	plan usagePlan
}

// The operations served, with the usage plans of their API models.
var (
	getMarketplaceParticipations = operation{name: "getMarketplaceParticipations", plan: usagePlan{rate: 0.016, burst: 15}}
	putListingsItem              = operation{name: "putListingsItem", plan: usagePlan{rate: 5, burst: 10}}
	getListingsItem              = operation{name: "getListingsItem", plan: usagePlan{rate: 5, burst: 10}}
)

// apiError is one entry of SP-API's {"errors":[…]} body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details string `json:"details"`
}

type apiErrorList struct {
	Errors []apiError `json:"errors"`
}

// refusal is an SP-API error answer.
type refusal struct {
	status        int
	code, message string
}

var (
	unauthorized    = refusal{http.StatusForbidden, "Unauthorized", "Access to requested resource is denied."}
	internalFailure = refusal{http.StatusInternalServerError, "InternalFailure", "We encountered an internal error. Please try again."}
	// quotaExceeded carries neither Retry-After nor a rate limit header, as
	// on SP-API.
	quotaExceeded = refusal{http.StatusTooManyRequests, "QuotaExceeded", "You exceeded your quota for the requested resource."}
)

func (e refusal) write(w http.ResponseWriter) {
	fakeserver.WriteJSON(w, e.status, apiErrorList{Errors: []apiError{{Code: e.code, Message: e.message, Details: ""}}})
}

// spapi wraps the handler of an SP-API operation with what every SP-API
// call goes through: the access token, then the operation's quota.
// Injected faults sit between the two, so a call with a bad token is still
// refused as such.
func (s *Server) spapi(op operation, handle func(http.ResponseWriter, *http.Request, Seller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-amzn-RequestId", newRequestID())
		now := s.now()

		s.mu.Lock()
		s.counters.APICalls++
		seller, ok := s.sellerOf(r.Header.Get("x-amz-access-token"), now)
		var refused *refusal
		switch {
		case !ok:
			refused = &unauthorized
		case s.faults.ServerErrorsNext > 0:
			s.faults.ServerErrorsNext--
			refused = &internalFailure
		case s.faults.RateLimitNext > 0:
			s.faults.RateLimitNext--
			refused = &quotaExceeded
		case !s.bucket(seller, op, now).take(op.plan, now):
			refused = &quotaExceeded
		}
		s.mu.Unlock()

		if refused != nil {
			refused.write(w)
			return
		}
		w.Header().Set("x-amzn-RateLimit-Limit", strconv.FormatFloat(op.plan.rate, 'f', -1, 64))
		handle(w, r, seller)
	}
}

// marketplaceParticipation is the Sellers API's MarketplaceParticipation.
type marketplaceParticipation struct {
	Marketplace   marketplace   `json:"marketplace"`
	Participation participation `json:"participation"`
}

type participation struct {
	IsParticipating      bool `json:"isParticipating"`
	HasSuspendedListings bool `json:"hasSuspendedListings"`
}

func (s *Server) handleMarketplaceParticipations(w http.ResponseWriter, _ *http.Request, seller Seller) {
	payload := make([]marketplaceParticipation, 0, len(seller.MarketplaceIDs))
	for _, id := range seller.MarketplaceIDs {
		payload = append(payload, marketplaceParticipation{
			Marketplace:   knownMarketplaces[id],
			Participation: participation{IsParticipating: true},
		})
	}
	fakeserver.WriteJSON(w, http.StatusOK, struct {
		Payload []marketplaceParticipation `json:"payload"`
	}{payload})
}
