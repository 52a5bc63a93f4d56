package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/meter"
)

// ReadCost is what one API read costs with a number of stored jobs.
type ReadCost struct {
	Read       string  `json:"read"`
	Path       string  `json:"path"`
	StoredJobs int     `json:"stored_jobs"`
	Requests   int     `json:"requests"`
	ReadUnits  float64 `json:"read_units"`
	// Operations lists the requests, such as "DynamoDB.Query 1".
	Operations map[string]int `json:"operations"`
}

// ReadCosts are the read costs at each size, and how long loading took.
type ReadCosts struct {
	Reads       []ReadCost `json:"reads"`
	LoadSeconds float64    `json:"load_seconds"`
}

const bulkStore = "bulk"

// measureReadCosts loads finished jobs of one store in steps up to each size
// and measures the dashboard's reads after each step.
func measureReadCosts(ctx context.Context, sizes []int) (ReadCosts, error) {
	var results ReadCosts
	sys, err := newOurSystem(ctx, "reads", systemOptions{concurrency: 5})
	if err != nil {
		return results, err
	}
	defer sys.Close()
	// One job of the store through the API, so that its counters and
	// today's metrics exist.
	first, err := sys.createIn(ctx, bulkStore, "normal", `{"steps":0}`)
	if err != nil {
		return results, err
	}
	loaded := 0
	for _, size := range sizes {
		progress("read cost: loading %d jobs", size)
		began := time.Now()
		if err := importJobs(ctx, sys, loaded, size); err != nil {
			return results, err
		}
		results.LoadSeconds += time.Since(began).Seconds()
		loaded = size
		reads := []struct{ name, path string }{
			{"queue status (operator)", "/api/background-jobs/status"},
			{"store status", "/api/background-jobs/status?store_id=" + bulkStore},
			{"job status", "/api/background-jobs/" + first + "/status"},
			{"list, first page of 20", "/api/background-jobs?store_id=" + bulkStore + "&limit=20"},
			{"metrics, 7 days", "/api/background-jobs/metrics?days=7&store_id=" + bulkStore},
		}
		for _, r := range reads {
			sys.code.Reset()
			if err := sys.call(ctx, http.MethodGet, r.path, "", http.StatusOK, nil); err != nil {
				return results, err
			}
			usage := sys.code.Snapshot()
			t := meter.Total(usage)
			rc := ReadCost{Read: r.name, Path: r.path, StoredJobs: size, Requests: t.Requests, ReadUnits: t.ReadCapacity, Operations: map[string]int{}}
			for op, u := range usage {
				rc.Operations[op] = u.Requests
			}
			results.Reads = append(results.Reads, rc)
		}
	}
	return results, nil
}

// importJobs writes finished jobs from..to of the bulk store through the
// store's batch import, several batches at once.
func importJobs(ctx context.Context, sys *ourSystem, from, to int) error {
	const writers, chunk = 8, 500
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	chunks := make(chan [2]int)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				jobs := make([]*job.Job, 0, c[1]-c[0])
				for i := c[0]; i < c[1]; i++ {
					at := job.NewTime(start.Add(time.Duration(i) * time.Second))
					jobs = append(jobs, &job.Job{
						ID: uuid.NewString(), StoreID: bulkStore, Type: "dev:simulate", Status: job.StatusCompleted,
						Priority: job.PriorityNormal, Payload: []byte(`{"steps":1}`), Progress: 100,
						ProgressMessage: "Simulating step 1/1", Attempts: 1, MaxAttempts: 4, Version: 3,
						CreatedAt: at, StartedAt: &at, FinishedAt: &at, Result: []byte(`{"steps":1,"step_runs":1,"attempts":1}`),
					})
				}
				if err := sys.app.Jobs.ImportJobs(ctx, jobs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	go func() {
		defer close(chunks)
		for i := from; i < to; i += chunk {
			select {
			case chunks <- [2]int{i, min(i+chunk, to)}:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("load jobs: %w", err)
	}
	return nil
}
