package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dainostore/jobs/client"
)

// fieldFlags are the jobctl flags behind the API's request fields and
// query parameters, so a refusal points at what to change on the command
// line.
var fieldFlags = map[string]string{
	"store_id": "--store", "type": "--type", "status": "--status", "from": "--from", "to": "--to",
	"order": "--order", "limit": "--limit", "cursor": "--cursor", "level": "--level",
	"priority": "--priority", "payload": "--payload", "source": "--source",
	"run_at": "--at", "run_in": "--in",
	// jobctl schedule create's
	"cron": "--cron", "every": "--daily or --weekly", "at": "--daily or --weekly", "weekday": "--weekly",
	"time_zone": "--tz", "name": "--name",
}

// describeError says in words what went wrong, for stderr: the client's
// typed errors each become what to do about them.
func (c *cli) describeError(err error) string {
	var apiErr *client.Error
	var netErr *url.Error
	switch {
	case errors.Is(err, client.ErrUnauthorized):
		if c.localOperator {
			return "the token jobctl minted for the local API was refused (does the server sign with another JOBS_AUTH_HS256_SECRET?): set JOBS_TOKEN or --token"
		}
		return "the token was refused: set JOBS_TOKEN or --token"
	case errors.Is(err, client.ErrForbidden) && errors.As(err, &apiErr):
		return "forbidden: " + apiErr.Message
	case errors.Is(err, client.ErrNotFound) && errors.As(err, &apiErr):
		return "not found: " + apiErr.Message
	case errors.Is(err, client.ErrRateLimited) && errors.As(err, &apiErr):
		if apiErr.RetryAfter > 0 {
			return fmt.Sprintf("rate limited: try again in %s (%s)", roundUp(apiErr.RetryAfter), apiErr.Message)
		}
		return "rate limited: " + apiErr.Message
	case errors.Is(err, client.ErrValidation) && errors.As(err, &apiErr):
		return refusal(apiErr)
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusConflict:
		// The job is not in a state for this: the message says which.
		return apiErr.Message
	case errors.As(err, &apiErr):
		return fmt.Sprintf("the API answered %d %s: %s", apiErr.StatusCode, apiErr.Code, apiErr.Message)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &netErr):
		where := netErr.URL
		if u, err := url.Parse(netErr.URL); err == nil {
			where = u.Scheme + "://" + u.Host
		}
		if netErr.Timeout() {
			return fmt.Sprintf("the API at %s did not answer in time (--timeout %s)", where, c.timeout)
		}
		return fmt.Sprintf("cannot reach the API at %s: %v (is it running? `make dev` serves it on %s)", where, netErr.Err, defaultURL)
	}
	return err.Error()
}

// refusal lists the fields a refused request got wrong, each with the flag
// that sets it, or says the server's message when it names none.
func refusal(e *client.Error) string {
	if len(e.Fields) == 0 {
		return "the request was refused: " + e.Message
	}
	var b strings.Builder
	b.WriteString("the request was refused:")
	for _, f := range e.Fields {
		name := f.Field
		top, _, _ := strings.Cut(name, ".")
		if flag, ok := fieldFlags[top]; ok {
			name += " (" + flag + ")"
		}
		fmt.Fprintf(&b, "\n  %s: %s", name, f.Message)
	}
	return b.String()
}

// roundUp is a wait in whole seconds, never shorter than it is.
func roundUp(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}
