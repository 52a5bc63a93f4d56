package app

import (
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/catalogexport"
	"github.com/dainostore/jobs/internal/jobtype/catalogimport"
	"github.com/dainostore/jobs/internal/jobtype/cleanup"
	"github.com/dainostore/jobs/internal/jobtype/credits"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/jobtype/translation"
)

// jobTypes registers the job types this deployment runs, as its
// configuration says.
func jobTypes(cfg config.Config, a *App, o Overrides) *jobtype.Registry {
	r := jobtype.NewRegistry()
	jobtype.Register[cleanup.Args](r, cleanup.Handler{Jobs: a.Jobs}, jobtype.AsSystem())
	if a.Ledger != nil {
		jobtype.Register[credits.Args](r, credits.Handler{Ledger: a.Ledger}, jobtype.AsSystem())
	}
	catalogimport.Register(r, catalogimport.Deps{
		Connections: a.Connections, Clients: a.Marketplaces, Catalog: a.Catalog, Images: a.Images, Sleep: o.RateLimitWait, Clock: a.Clock,
	})
	catalogexport.Register(r, catalogexport.Deps{
		Connections: a.Connections, Clients: a.Marketplaces, Catalog: a.Catalog, AI: a.AI, Ledger: a.Ledger,
		CreditsPerProduct: int64(cfg.AICreditsPerProduct), AIConcurrency: cfg.ExportAIConcurrency, SendConcurrency: cfg.ExportSendConcurrency,
		ImagesPublicURL: cfg.ImagesPublicURL, Sleep: o.RateLimitWait, Clock: a.Clock,
	})
	translation.Register(r, translation.Deps{
		Catalog: a.Catalog, Translator: a.Translator, Ledger: a.Ledger,
		CreditsPerBatch: int64(cfg.TranslationCreditsPerBatch), Sleep: o.RateLimitWait,
	})
	// dev:simulate: on in local runs, off by default when deployed.
	if cfg.DiagnosticJobs {
		jobtype.Register[simulate.Args](r, simulate.Handler{})
	}
	return r
}
