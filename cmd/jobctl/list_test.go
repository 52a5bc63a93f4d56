package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/client"
)

// list shows a page of jobs as a table with the command for the next
// page, filters them, reads every page with --all, and prints the API's
// objects with --json; logs shows a job's log, and follows it to the end.
func TestListAndLogs(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	var ids []string
	for _, store := range []string{"list-a", "list-b", "list-c", "list-d", "list-e"} {
		ids = append(ids, b.create(t, store, `{"steps": 2, "step_ms": 10}`))
	}
	failed := b.create(t, "list-f", `{"steps": 2, "step_ms": 10, "fail_attempts": 1, "fail_with": "permanent"}`)
	ids = append(ids, failed)
	for _, id := range ids {
		b.waitFor(t, id, client.StatusCompleted, client.StatusFailed)
	}

	r := b.jobctl(t, "list").expect(t, exitOK)
	rows := lines(r.stdout)
	if want := regexp.MustCompile(`^ID +TYPE +STORE +STATUS +PROGRESS +CREATED +MESSAGE$`); !want.MatchString(rows[0]) {
		t.Errorf("header %q", rows[0])
	}
	if len(rows) != 1+len(ids) {
		t.Errorf("%d rows, want %d jobs", len(rows)-1, len(ids))
	}
	for _, id := range ids {
		if !strings.Contains(r.stdout, id) {
			t.Errorf("job %s is not listed", id)
		}
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("colours in output that is not a terminal:\n%q", r.stdout)
	}

	// Filters.
	r = b.jobctl(t, "list", "--store", "list-f", "--status", "failed,cancelled", "--type", "dev:simulate").expect(t, exitOK)
	if rows := lines(r.stdout); len(rows) != 2 || !strings.Contains(rows[1], failed) ||
		!regexp.MustCompile(`list-f +failed +50% .* simulated permanent failure`).MatchString(rows[1]) {
		t.Errorf("failed jobs of list-f:\n%s", r.stdout)
	}
	b.jobctl(t, "list", "--from", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)).expect(t, exitOK, "no jobs")

	// One page, and the next by the hint's command line.
	seen := map[string]bool{}
	args := []string{"list", "--limit", "2"}
	for page := 1; ; page++ {
		r = b.jobctl(t, args...).expect(t, exitOK)
		rows := lines(r.stdout)
		hint := rows[len(rows)-1]
		if !strings.HasPrefix(hint, "next page: ") {
			if page != 3 {
				t.Errorf("page %d is the last, want 3 pages of 2", page)
			}
			break
		}
		if page > 3 {
			t.Fatalf("a page after the last:\n%s", r.stdout)
		}
		for _, row := range rows[1 : len(rows)-1] {
			seen[strings.Fields(row)[0]] = true
		}
		// The hint repeats this command's flags (the token aside) with the cursor.
		fields := strings.Fields(strings.TrimPrefix(hint, "next page: "))
		if fields[0] != "jobctl" || fields[1] != "list" || !slices.Contains(fields, "--limit") || slices.Contains(fields, "--token") {
			t.Fatalf("hint %q", hint)
		}
		args = nil
		for _, f := range fields[2:] {
			if f != "--url" && !strings.HasPrefix(f, "http") {
				args = append(args, strings.Trim(f, "'"))
			}
		}
		args = append([]string{"list"}, args...)
	}
	if len(seen) != 4 {
		t.Errorf("the first two pages showed %d jobs, want 4", len(seen))
	}

	// Every page.
	r = b.jobctl(t, "list", "--all", "--limit", "2").expect(t, exitOK)
	if rows := lines(r.stdout); len(rows) != 1+len(ids) {
		t.Errorf("--all listed %d jobs, want %d:\n%s", len(rows)-1, len(ids), r.stdout)
	}
	r = b.jobctl(t, "--json", "list", "--all", "--limit", "2").expect(t, exitOK)
	var listed []string
	for _, line := range lines(r.stdout) {
		var job client.Job
		if err := json.Unmarshal([]byte(line), &job); err != nil {
			t.Fatalf("--all --json line is not a job: %v\n%s", err, line)
		}
		listed = append(listed, job.ID)
	}
	slices.Sort(listed)
	slices.Sort(ids)
	if !slices.Equal(listed, ids) {
		t.Errorf("--all --json listed %v, want %v", listed, ids)
	}
	var page client.JobPage
	r = b.jobctl(t, "--json", "list", "--limit", "4").expect(t, exitOK)
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || len(page.Jobs) != 4 || page.NextCursor == "" {
		t.Errorf("list --json: %v, %d jobs, cursor %q", err, len(page.Jobs), page.NextCursor)
	}

	// The log of a finished job.
	logLine := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO |WARN |ERROR) \[attempt \d+\] \S`)
	r = b.jobctl(t, "logs", failed).expect(t, exitOK, "[attempt 1]", "simulated permanent failure")
	for _, line := range lines(r.stdout) {
		if !logLine.MatchString(line) {
			t.Errorf("log line %q is not time, level, attempt, message", line)
		}
	}
	r = b.jobctl(t, "logs", failed, "--level", "warn").expect(t, exitOK, "WARN  [attempt 1] attempt 1 of 3 failed for good")
	if strings.Contains(r.stdout, " INFO ") || strings.Contains(r.stdout, " DEBUG ") {
		t.Errorf("--level warn shows lower levels:\n%s", r.stdout)
	}
	var log client.LogPage
	r = b.jobctl(t, "--json", "logs", ids[0]).expect(t, exitOK)
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil || len(log.Entries) == 0 {
		t.Errorf("logs --json: %v, %d entries", err, len(log.Entries))
	}

	// Following a job's log until it ends.
	running := b.create(t, "list-g", `{"steps": 5, "step_ms": 200}`)
	r = b.jobctl(t, "logs", running, "--follow").expect(t, exitOK, "completed on attempt 1")
	if b.waitFor(t, running, client.StatusCompleted, client.StatusFailed).Status != client.StatusCompleted {
		t.Fatalf("job %s did not complete", running)
	}
	// With --json, one entry per line, through a retry to the end.
	retried := b.create(t, "list-h", `{"steps": 2, "step_ms": 50, "fail_attempts": 1}`)
	r = b.jobctl(t, "--json", "logs", retried, "--follow").expect(t, exitOK)
	attempts := map[int]bool{}
	for _, line := range lines(r.stdout) {
		var entry client.LogEntry
		if err := json.Unmarshal([]byte(line), &entry); err != nil || entry.Message == "" {
			t.Errorf("logs --follow --json line %q: %v", line, err)
		}
		attempts[entry.Attempt] = true
	}
	if !attempts[1] || !attempts[2] || !strings.Contains(r.stdout, "completed on attempt 2") {
		t.Errorf("the followed log does not show both attempts and the end:\n%s", r.stdout)
	}
}
