package app

import (
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/cleanup"
	"github.com/dainostore/jobs/internal/jobtype/credits"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
)

// jobTypes registers the job types this deployment runs, as its
// configuration says.
func jobTypes(cfg config.Config, jobs *jobtable.Table) *jobtype.Registry {
	r := jobtype.NewRegistry()
	jobtype.Register[cleanup.Args](r, cleanup.Handler{Jobs: jobs}, jobtype.AsSystem())
	if cfg.CreditsLedgerURL != "" {
		ledger := credits.Ledger{URL: cfg.CreditsLedgerURL, Token: cfg.CreditsLedgerToken}
		jobtype.Register[credits.Args](r, credits.Handler{Ledger: ledger}, jobtype.AsSystem())
	}
	// dev:simulate: on in local runs, off by default when deployed.
	if cfg.DiagnosticJobs {
		jobtype.Register[simulate.Args](r, simulate.Handler{})
	}
	return r
}
