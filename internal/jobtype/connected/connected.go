// Package connected is what every job type that works with a store's
// marketplace connection shares: loading the credentials when the job runs,
// and turning the marketplace's errors into what the worker must do, which
// for a rejected credential includes marking the connection invalid.
package connected

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/marketplace"
)

// Load reads the store's credentials for a marketplace into creds (a
// payload never carries them).
func Load(ctx context.Context, store *connection.Store, storeID, name string, creds any) (connection.Connection, error) {
	conn, err := store.Load(ctx, storeID, name, creds)
	if errors.Is(err, connection.ErrNotConnected) {
		return conn, jobtype.PermanentOfKind(jobtype.KindInvalidCredentials,
			fmt.Errorf("%s is not connected for this store (it was disconnected after the job was created): connect it in the Marketplace Hub and run the job again", marketplace.Title(name)))
	}
	return conn, err
}

// Classify turns a marketplace error into what the worker must do. A
// rejected credential marks the connection invalid, fenced on the version
// of the credentials the job used, and fails the job at once in the guide's
// words; a refusal no retry can change fails it; the rest is retried.
func Classify(ctx context.Context, rt jobtype.Runtime, store *connection.Store, name, version string, err error) error {
	if ctx.Err() != nil {
		// The job was cancelled or its invocation is ending: whatever the
		// request said (an HTTP client reports the context's cause, not
		// context.Canceled), the worker must see the context's end to hand
		// the job on or cancel it, not a failed attempt.
		return ctx.Err()
	}
	if rejected, ok := marketplace.IsCredential(err); ok {
		if markErr := store.MarkInvalid(context.WithoutCancel(ctx), rt.StoreID(), name, version, rejected.Reason); markErr != nil {
			// The job fails anyway; the connection shows it at the next failure.
			rt.Log(slog.LevelWarn, "could not mark the connection invalid", slog.String("error", markErr.Error()))
		}
		return jobtype.PermanentOfKind(jobtype.KindInvalidCredentials, marketplace.InvalidCredentials(name, rejected.Reason))
	}
	var refused *marketplace.PermanentError
	if errors.As(err, &refused) {
		return jobtype.Permanent(err)
	}
	return err
}
