package main

import (
	"time"

	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dainostore/jobs/client"
	"github.com/dainostore/jobs/internal/testenv"
)

// create prints the job it made, in words or as the API's JSON, takes its
// payload inline, from a file or from stdin, and names the active job of
// the type when there is one; status shows where a job is; the API's
// refusals become messages and exit 3.
func TestCreateStatusAndRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	// A long job, so that it is still active for the duplicate below.
	r := b.jobctl(t, "create", "dev:simulate", "--store", "store-a", "--priority", "high",
		"--payload", `{"steps": 300, "step_ms": 100}`).expect(t, exitOK, "created dev:simulate job ", " for store store-a: pending")
	id := createdID(t, r)

	dup := b.jobctl(t, "create", "dev:simulate", "--store", "store-a", "--payload", `{"steps": 1}`)
	if dup.code != exitFailed {
		t.Fatalf("duplicate create exited %d, want 1", dup.code)
	}
	if want := "store store-a already has an active dev:simulate job: " + id + " — follow it with: jobctl watch " + id; !strings.Contains(dup.stderr, want) {
		t.Errorf("duplicate create said %q, want %q", dup.stderr, want)
	}
	dupJSON := b.jobctl(t, "--json", "create", "dev:simulate", "--store", "store-a")
	var refused struct {
		Error struct {
			Code          string `json:"code"`
			ExistingJobID string `json:"existing_job_id"`
		} `json:"error"`
	}
	if dupJSON.code != exitFailed || json.Unmarshal([]byte(dupJSON.stdout), &refused) != nil ||
		refused.Error.Code != "job_already_active" || refused.Error.ExistingJobID != id {
		t.Errorf("duplicate create with --json: exit %d, %+v", dupJSON.code, refused)
	}

	b.waitFor(t, id, client.StatusRunning)
	b.jobctl(t, "status", id).expect(t, exitOK, "job "+id+"  dev:simulate", "status", "running (attempt 1)", "progress", "estimate")
	var status client.JobStatus
	if r := b.jobctl(t, "--json", "status", id).expect(t, exitOK); json.Unmarshal([]byte(r.stdout), &status) != nil || status.ID != id || status.Status != client.StatusRunning {
		t.Errorf("status --json: %+v", status)
	}
	b.jobctl(t, "cancel", id).expect(t, exitOK, "dev:simulate job "+id)

	// --payload @file, with --json: the API's job object.
	file := filepath.Join(t.TempDir(), "payload.json")
	if err := os.WriteFile(file, []byte(`{"steps": 2, "step_ms": 10}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var job client.Job
	r = b.jobctl(t, "--json", "create", "dev:simulate", "--store", "store-b", "--payload", "@"+file, "--idempotency-key", "key-1").expect(t, exitOK)
	if err := json.Unmarshal([]byte(r.stdout), &job); err != nil || job.StoreID != "store-b" || job.Type != "dev:simulate" || oneLineJSON(job.Payload) != `{"steps":2,"step_ms":10}` {
		t.Errorf("create --json: %v %+v", err, job)
	}
	// The same key and request answer the same job.
	var again client.Job
	r = b.jobctl(t, "--json", "create", "dev:simulate", "--store", "store-b", "--payload", "@"+file, "--idempotency-key", "key-1").expect(t, exitOK)
	if err := json.Unmarshal([]byte(r.stdout), &again); err != nil || again.ID != job.ID {
		t.Errorf("create with the same idempotency key made %s, want %s", again.ID, job.ID)
	}

	// --payload @-: standard input.
	r = invocation{
		args:  []string{"--url", b.base, "--token", b.operator, "create", "dev:simulate", "--store", "store-c", "--payload", "@-"},
		stdin: `{"steps": 1}`,
	}.run(t).expect(t, exitOK, "for store store-c: pending")

	// Refusals.
	b.jobctl(t, "create", "dev:simulate", "--store", "store-d", "--payload", `{"steps": -1}`).
		expectError(t, "the request was refused:", "payload.steps (--payload): steps must be between 0 and 10000")
	b.jobctl(t, "create", "dev:simulate").
		expectError(t, "store_id (--store): store_id is required")
	b.jobctl(t, "create", "no:such-type", "--store", "store-d").
		expectError(t, `the request was refused: job type "no:such-type" is not registered`)
	b.jobctl(t, "status", "no-such-job").expectError(t, "not found: no job with id no-such-job")
	b.jobctlAs(t, testenv.StoreToken(t, "store-x"), "status", id).expectError(t, "not found: no job with id "+id)
	b.jobctlAs(t, "not-a-token", "list").expectError(t, "the token was refused: set JOBS_TOKEN or --token")
}

// cancel stops a job; retry runs a cancelled one again from the start, or
// a failed one from its checkpoint, and can follow it.
func TestCancelAndRetry(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	id := b.create(t, "store-a", `{"steps": 3, "step_ms": 400}`)
	r := b.jobctl(t, "cancel", id).expect(t, exitOK)
	if !strings.Contains(r.stdout, "cancelled dev:simulate job "+id) && !strings.Contains(r.stdout, "cancel requested: dev:simulate job "+id) {
		t.Errorf("cancel said %q", r.stdout)
	}
	b.waitFor(t, id, client.StatusCancelled)
	b.jobctl(t, "cancel", id).expectError(t, "already ended cancelled")

	b.jobctl(t, "retry", id, "--from-start").expect(t, exitOK, "retrying dev:simulate job "+id+" from the start: pending")
	// From the start: every step ran once, in this attempt.
	b.jobctl(t, "watch", id).expect(t, exitOK, "completed dev:simulate job "+id, `"step_runs":3`)
	b.jobctl(t, "retry", id).expectError(t, "only failed or cancelled jobs can be retried")

	// A failed job goes on from its checkpoint, with fresh attempts: the
	// first fails again, at once, as the payload asks.
	failed := b.create(t, "store-b", `{"steps": 4, "step_ms": 10, "fail_attempts": 1, "fail_with": "permanent"}`)
	b.waitFor(t, failed, client.StatusFailed)
	b.jobctl(t, "retry", failed, "--watch", "--progress", "plain").expect(t, exitFailed,
		"retrying dev:simulate job "+failed+" from its last checkpoint: pending",
		"failed dev:simulate job "+failed+" after 1 attempt: simulated permanent failure")
}

// --in and --at delay a job: it waits, pending, and status says when it
// starts; a bad time is refused before anything is sent.
func TestCreateDelaysAJob(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r := b.jobctl(t, "create", "dev:simulate", "--store", "store-later", "--in", "6h").expect(t, exitOK, "created dev:simulate job ", ": pending")
	id := createdID(t, r)
	b.jobctl(t, "status", id).expect(t, exitOK, "scheduled for ", "(in 6 h)")
	b.jobctl(t, "cancel", id).expect(t, exitOK)

	at := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Second)
	var job client.Job
	r = b.jobctl(t, "--json", "create", "dev:simulate", "--store", "store-later", "--at", at.Format(time.RFC3339)).expect(t, exitOK)
	if err := json.Unmarshal([]byte(r.stdout), &job); err != nil || job.RunAt == nil || !job.RunAt.Equal(at) {
		t.Errorf("create --at %s: %v, run_at %v", at, err, job.RunAt)
	}
	b.jobctl(t, "create", "dev:simulate", "--store", "store-later", "--at", "tonight").expectError(t, "--at \"tonight\"")
	b.jobctl(t, "create", "dev:simulate", "--store", "store-later", "--in", "6h", "--at", at.Format(time.RFC3339)).expectError(t, "at", "in")
}
