package credits

import (
	"context"
	"errors"
	"fmt"

	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/ledger"
)

// DebitError says what a failed debit means for the job that asked for it
// (the exports' AI optimization, the UI labels' translation). A refusal for
// lack of credits comes back as it is, a *ledger.InsufficientCreditsError:
// each job decides how it stops. The job's context ending wins over
// whatever the ledger answered; a ledger asking to be called later is a
// retry at its hint; a refused debit fails the job; the rest is transient.
func DebitError(ctx context.Context, err error) error {
	var short *ledger.InsufficientCreditsError
	var unavailable *ledger.UnavailableError
	var refused *ledger.RefusedError
	switch {
	case err == nil, errors.As(err, &short):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &unavailable):
		return jobtype.RateLimited(unavailable.RetryAfter, err)
	case errors.As(err, &refused):
		return jobtype.Permanent(fmt.Errorf("the credits ledger refused the debit: %w", err))
	}
	return fmt.Errorf("debit AI credits: %w", err)
}
