package app

import (
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/catalogimport"
	"github.com/dainostore/jobs/internal/jobtype/cleanup"
	"github.com/dainostore/jobs/internal/jobtype/credits"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
)

// jobTypes registers the job types this deployment runs, as its
// configuration says.
func jobTypes(cfg config.Config, a *App, o Overrides) *jobtype.Registry {
	r := jobtype.NewRegistry()
	jobtype.Register[cleanup.Args](r, cleanup.Handler{Jobs: a.Jobs}, jobtype.AsSystem())
	if cfg.CreditsLedgerURL != "" {
		ledger := credits.Ledger{URL: cfg.CreditsLedgerURL, Token: cfg.CreditsLedgerToken}
		jobtype.Register[credits.Args](r, credits.Handler{Ledger: ledger}, jobtype.AsSystem())
	}
	catalogimport.Register(r, catalogimport.Deps{
		Connections: a.Connections, Clients: a.Marketplaces, Catalog: a.Catalog, Images: a.Images, Sleep: o.ImportWait, Clock: a.Clock,
	})
	// dev:simulate: on in local runs, off by default when deployed.
	if cfg.DiagnosticJobs {
		jobtype.Register[simulate.Args](r, simulate.Handler{})
	}
	return r
}
