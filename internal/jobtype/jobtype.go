// Package jobtype registers the job types this deployment runs.
package jobtype

import (
	"github.com/dainostore/jobs/internal/handler"
	"github.com/dainostore/jobs/internal/jobtype/cleanup"
	"github.com/dainostore/jobs/internal/jobtype/credits"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/store"
)

// Options choose which job types are registered.
type Options struct {
	// Diagnostic registers dev:simulate: on in local runs, off by default when deployed.
	Diagnostic bool
	// Store is what the system jobs work on.
	Store *store.Store
	// CreditsLedger, when set, registers system:daily_credit_deduction.
	CreditsLedger *credits.Ledger
}

// Registry returns the handlers of every job type this deployment runs.
func Registry(opts Options) *handler.Registry {
	r := handler.NewRegistry()
	handler.Register[cleanup.Args](r, cleanup.Handler{Store: opts.Store}, handler.AsSystem())
	if opts.CreditsLedger != nil {
		handler.Register[credits.Args](r, credits.Handler{Ledger: *opts.CreditsLedger}, handler.AsSystem())
	}
	if opts.Diagnostic {
		handler.Register[simulate.Args](r, simulate.Handler{})
	}
	return r
}
