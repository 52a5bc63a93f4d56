package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/dainostore/jobs/internal/ledger"
)

// creditsTimeout bounds the ledger's answer well inside the API function's
// 10 s: a slow ledger costs the page its balance, not the whole request.
const creditsTimeout = 5 * time.Second

// credits is a store's balance of AI credits, and what the exports' AI
// optimization costs.
type credits struct {
	StoreID           string `json:"store_id"`
	Balance           int64  `json:"balance"`
	CreditsPerProduct int64  `json:"credits_per_product"`
}

// getCredits serves the store's balance as the credits ledger tells it.
// Without a ledger, or when it does not answer, the answer is 503
// ledger_unavailable: the balance is the ledger's alone, and the API never
// shows a stale or made-up one.
func (s *Server) getCredits(w http.ResponseWriter, r *http.Request) {
	storeID, ok := s.storeOf(w, r)
	if !ok {
		return
	}
	if s.cfg.Ledger == nil {
		writeError(w, http.StatusServiceUnavailable, "ledger_unavailable",
			"no credits ledger is configured for this deployment (JOBS_CREDITS_LEDGER_URL), so there is no balance to show")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), creditsTimeout)
	defer cancel()
	balance, err := s.cfg.Ledger.Balance(ctx, storeID)
	if err != nil {
		if errors.Is(r.Context().Err(), context.Canceled) {
			return
		}
		// The cause (an address, a status) is for operators, in the log.
		s.log.Warn("credits balance failed", "store", storeID, "error", err)
		var unavailable *ledger.UnavailableError
		if errors.As(err, &unavailable) && unavailable.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(unavailable.RetryAfter.Seconds()))))
		}
		writeError(w, http.StatusServiceUnavailable, "ledger_unavailable",
			"the credits ledger did not tell the store's balance; try again in a moment")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, credits{StoreID: storeID, Balance: balance, CreditsPerProduct: s.cfg.CreditsPerProduct})
}
