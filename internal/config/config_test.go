package config

import (
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/schema"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := parse(Defaults(), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxConcurrency != 5 || c.HTTPAddr != "127.0.0.1:8080" || len(c.RetryDelays) != 3 || c.RetryDelays[2] != 5*time.Minute || c.DiagnosticJobs {
		t.Errorf("defaults = %+v", c)
	}
	if c.Retention != 30*24*time.Hour || c.FailedRetention != 90*24*time.Hour || c.CleanupInterval != time.Hour || c.SweepInterval != time.Minute || c.CreateRateLimit != 120 {
		t.Errorf("retention and schedules = %+v", c)
	}
}

func TestFromEnvironment(t *testing.T) {
	t.Parallel()
	c, err := parse(Defaults(), env(map[string]string{
		"JOBS_MAX_CONCURRENCY": "2", "JOBS_RETRY_DELAYS": "1s,2s", "JOBS_LEASE": "10s",
		"JOBS_DIAGNOSTIC_JOBS": "true", "JOBS_EMPTY_POLL_WAIT": "0", "JOBS_LOG_LEVEL": "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxConcurrency != 2 || len(c.RetryDelays) != 2 || c.Lease != 10*time.Second || !c.DiagnosticJobs || c.EmptyPollWait != 0 {
		t.Errorf("config = %+v", c)
	}
}

func TestBadValuesAreNamed(t *testing.T) {
	t.Parallel()
	_, err := parse(Defaults(), env(map[string]string{
		"JOBS_MAX_CONCURRENCY": "zero", "JOBS_RETRY_DELAYS": "soon", "JOBS_LEASE": "1s", "JOBS_DIAGNOSTIC_JOBS": "maybe",
		"JOBS_CREDITS_LEDGER_URL": "ledger.internal/deduct",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"JOBS_MAX_CONCURRENCY", "JOBS_RETRY_DELAYS", "JOBS_LEASE", "JOBS_DIAGNOSTIC_JOBS", "JOBS_CREDITS_LEDGER_URL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

// Each attempt receives the job's message once more: a schedule longer
// than the queues' redrive allows would send healthy jobs to the dead
// letters.
func TestTheRetryScheduleStaysBelowTheRedrive(t *testing.T) {
	t.Parallel()
	long := strings.TrimSuffix(strings.Repeat("1s,", MaxRetries+1), ",")
	if _, err := parse(Defaults(), env(map[string]string{"JOBS_RETRY_DELAYS": long})); err == nil || !strings.Contains(err.Error(), "at most 20 retries") {
		t.Errorf("%d retries accepted: %v", MaxRetries+1, err)
	}
	longest := strings.TrimSuffix(strings.Repeat("1s,", MaxRetries), ",")
	if c, err := parse(Defaults(), env(map[string]string{"JOBS_RETRY_DELAYS": longest})); err != nil || len(c.RetryDelays) != MaxRetries {
		t.Errorf("%d retries: %v", MaxRetries, err)
	}
	for _, q := range schema.Queues() {
		if q.DeadLetter && MaxRetries+1 > q.MaxReceiveCount/4 {
			t.Errorf("queue %s dead-letters after %d receives; %d attempts leave too little room for takeovers and looks", q.Suffix, q.MaxReceiveCount, MaxRetries+1)
		}
	}
}
