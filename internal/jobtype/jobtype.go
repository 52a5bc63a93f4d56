// Package jobtype registers the job types this deployment runs.
package jobtype

import (
	"github.com/dainostore/jobs/internal/handler"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
)

// Options choose which job types are registered.
type Options struct {
	// Diagnostic registers dev:simulate: on in local runs, off by default when deployed.
	Diagnostic bool
}

// Registry returns the handlers of every job type this deployment runs.
func Registry(opts Options) *handler.Registry {
	r := handler.NewRegistry()
	if opts.Diagnostic {
		handler.Register[simulate.Args](r, simulate.Handler{})
	}
	return r
}
