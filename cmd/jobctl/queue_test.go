package main

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/dainostore/jobs/client"
	"github.com/dainostore/jobs/internal/testenv"
)

// pause and resume say what is paused afterwards, and are the operators':
// a store token gets a clear refusal. stats shows the queue status with the
// guide's ratings.
func TestPauseResumeAndStats(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	done := b.create(t, "stats-a", `{"steps": 1}`)
	failed := b.create(t, "stats-b", `{"steps": 2, "fail_attempts": 1, "fail_with": "permanent"}`)
	b.waitFor(t, done, client.StatusCompleted)
	b.waitFor(t, failed, client.StatusFailed)

	b.jobctl(t, "pause", "dev:simulate").expect(t, exitOK, "paused types: dev:simulate")
	held := b.create(t, "stats-c", `{"steps": 1}`)
	b.jobctl(t, "pause").expect(t, exitOK, "the whole queue is paused (and these types: dev:simulate)")
	b.jobctl(t, "status", held).expect(t, exitOK, "waiting", "the queue is paused; the job starts when it resumes")

	r := b.jobctl(t, "stats").expect(t, exitOK)
	for _, want := range []string{
		`(?m)^queue +paused; paused types: dev:simulate$`,
		`(?m)^processing +0 of 5$`,
		`(?m)^jobs +3 total: 1 completed, 1 failed, 1 pending, 0 running, 0 retrying, 0 cancelled$`,
		`(?m)^success rate +50\.00%, poor \(check configuration, contact support\)$`,
		`(?m)^queue depth +1 pending, healthy$`,
	} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("stats lacks %s:\n%s", want, r.stdout)
		}
	}
	var status client.QueueStatus
	r = b.jobctl(t, "--json", "stats").expect(t, exitOK)
	if err := json.Unmarshal([]byte(r.stdout), &status); err != nil || status.Status.IsRunning || status.Statistics.Total != 3 || status.Health.SuccessRate.Rating != "poor" {
		t.Errorf("stats --json: %v %+v", err, status)
	}
	b.jobctl(t, "stats", "--store", "stats-a").expect(t, exitOK, "1 total: 1 completed", "100.00%, excellent")

	store := testenv.StoreToken(t, "stats-a")
	b.jobctlAs(t, store, "pause").expectError(t, "forbidden: this route needs an operator token")
	b.jobctlAs(t, store, "resume", "dev:simulate").expectError(t, "forbidden: this route needs an operator token")
	b.jobctlAs(t, store, "stats").expect(t, exitOK, "1 total: 1 completed")

	b.jobctl(t, "resume").expect(t, exitOK, "paused types: dev:simulate")
	var pauses client.Pauses
	r = b.jobctl(t, "--json", "resume", "dev:simulate").expect(t, exitOK)
	if err := json.Unmarshal([]byte(r.stdout), &pauses); err != nil || pauses.Paused || len(pauses.PausedTypes) != 0 {
		t.Errorf("resume --json: %v %+v", err, pauses)
	}
	b.jobctl(t, "resume").expect(t, exitOK, "nothing is paused")
	b.jobctl(t, "watch", held).expect(t, exitOK, "completed dev:simulate job "+held)
	b.jobctl(t, "pause", "no:such-type").expectError(t, `job type "no:such-type" is not registered`)
}
