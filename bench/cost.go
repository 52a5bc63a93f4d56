package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/cron"
	"github.com/dainostore/jobs/internal/meter"
)

// costScenario is one kind of dev:simulate job whose bookkeeping is counted.
type costScenario struct {
	Name    string
	Payload string
	// Floor is the fewest requests the design needs for such a job (see
	// docs/performance.md): 10, one write per checkpoint, 8 per retry.
	Floor int
}

var costScenarios = []costScenario{
	{"0 steps", `{"steps":0}`, floorRequests(0, 0)},
	{"10 steps", `{"steps":10,"step_ms":10}`, floorRequests(10, 0)},
	{"100 steps", `{"steps":100,"step_ms":10}`, floorRequests(100, 0)},
	{"10 steps, one retry", `{"steps":10,"step_ms":10,"fail_attempts":1}`, floorRequests(10, 1)},
}

// floorRequests is the floor of docs/performance.md: a job needs 4 DynamoDB
// requests (create, read before the claim, claim, outcome) and 6 SQS ones
// (job message sent, received, deleted; wake sent, received and deleted by
// Lambda's poller); each checkpoint is a write; a retry adds its outcome,
// hiding the message for the delay, a delayed wake (3), and a second
// receive, read and claim.
func floorRequests(checkpoints, retries int) int { return 10 + checkpoints + 8*retries }

// OperationCost is what one operation cost per job.
type OperationCost struct {
	Operation  string  `json:"operation"`
	Requests   float64 `json:"requests"`
	ReadUnits  float64 `json:"read_units"`
	WriteUnits float64 `json:"write_units"`
}

// JobCost is the bookkeeping of one kind of job, per job.
type JobCost struct {
	Scenario    string          `json:"scenario"`
	Payload     string          `json:"payload"`
	Runs        int             `json:"runs"`
	Operations  []OperationCost `json:"operations"`
	Requests    float64         `json:"requests"`
	DynamoDB    float64         `json:"dynamodb_requests"`
	SQS         float64         `json:"sqs_requests"`
	EmptyPolls  float64         `json:"empty_receives"`
	ReadUnits   float64         `json:"read_units"`
	WriteUnits  float64         `json:"write_units"`
	Floor       int             `json:"floor_requests"`
	FloorRatio  float64         `json:"ratio_to_floor"`
	Invocations float64         `json:"worker_invocations"`
	// WorkerSeconds is how long the worker's invocations ran, handler included.
	WorkerSeconds float64 `json:"worker_seconds"`
	USD           JobUSD  `json:"usd_per_million_jobs"`
}

// JobUSD is a job's cost in dollars per million jobs.
type JobUSD struct {
	DynamoDB float64 `json:"dynamodb"`
	SQS      float64 `json:"sqs"`
	// Requests are the API call (API Gateway and the API function) and the
	// worker invocations, without their duration.
	Requests float64 `json:"api_and_invocation_requests"`
	Total    float64 `json:"total"`
	// WorkerTime is the worker's invocation time at 128 MB as measured
	// here (on the emulators: slower than AWS), excluded from Total.
	WorkerTime float64 `json:"worker_time_128mb"`
}

// FixedCost is what the system costs per month whatever the number of jobs.
type FixedCost struct {
	What       string  `json:"what"`
	Requests   int     `json:"requests_each"`
	ReadUnits  float64 `json:"read_units_each"`
	WriteUnits float64 `json:"write_units_each"`
	PerMonth   int     `json:"times_a_month"`
	USD        float64 `json:"usd_a_month"`
}

// CostResults are the cost figures.
type CostResults struct {
	Jobs  []JobCost   `json:"jobs"`
	Fixed []FixedCost `json:"fixed"`
	// ComputeUSD is Lambda compute for a job whose handler runs 1 s at 128 MB.
	ComputeUSD float64 `json:"lambda_compute_usd_per_million_1s_128mb_jobs"`
}

// measureCosts runs each scenario alone, runs times, on a system set up as
// on AWS (the worker long-polls before it decides that the queues are
// empty; retries wait the default 5 s, longer than those polls), and counts
// every request the job caused until the system is idle.
func measureCosts(ctx context.Context, runs int) (CostResults, error) {
	var results CostResults
	sys, err := newOurSystem(ctx, "cost", systemOptions{concurrency: 5, emptyWait: time.Second, startWorkers: true})
	if err != nil {
		return results, err
	}
	defer sys.Close()
	if err := sys.idle(ctx); err != nil {
		return results, err
	}
	for _, sc := range costScenarios {
		progress("cost: %s", sc.Name)
		total := map[string]meter.Usage{}
		var invocations, nanos int64
		for range runs {
			sys.code.Reset()
			sys.pollers.Reset()
			inv0, nanos0 := sys.invocations.Load(), sys.invokedNanos.Load()
			id, err := sys.create(ctx, "normal", sc.Payload)
			if err != nil {
				return results, err
			}
			waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			_, _, err = sys.tracker.wait(waitCtx, id)
			if err == nil {
				err = sys.idle(waitCtx)
			}
			cancel()
			if err != nil {
				return results, fmt.Errorf("%s: %w", sc.Name, err)
			}
			invocations += sys.invocations.Load() - inv0
			nanos += sys.invokedNanos.Load() - nanos0
			addUsage(total, sys.code.Snapshot(), "")
			// Lambda's pollers receive and delete wakes for the job; their
			// empty receives go on whether jobs come or not (a fixed cost).
			for op, u := range sys.pollers.Snapshot() {
				if !strings.HasSuffix(op, meter.EmptySuffix) {
					addUsage(total, map[string]meter.Usage{op: u}, " (Lambda poller)")
				}
			}
		}
		results.Jobs = append(results.Jobs, jobCostFrom(sc, runs, total, invocations, nanos))
	}
	sweep, err := measureSweep(ctx, sys)
	if err != nil {
		return results, err
	}
	results.Fixed = append(results.Fixed, sweep)
	results.ComputeUSD = perMillion(workerMemoryGB*referenceJobSeconds, priceLambdaGBSecond)
	return results, nil
}

func addUsage(into, from map[string]meter.Usage, suffix string) {
	for op, u := range from {
		t := into[op+suffix]
		t.Requests += u.Requests
		t.ReadCapacity += u.ReadCapacity
		t.WriteCapacity += u.WriteCapacity
		into[op+suffix] = t
	}
}

func jobCostFrom(sc costScenario, runs int, total map[string]meter.Usage, invocations, nanos int64) JobCost {
	n := float64(runs)
	c := JobCost{Scenario: sc.Name, Payload: sc.Payload, Runs: runs, Floor: sc.Floor}
	for _, op := range meter.Operations(total) {
		u := total[op]
		oc := OperationCost{Operation: op, Requests: float64(u.Requests) / n, ReadUnits: u.ReadCapacity / n, WriteUnits: u.WriteCapacity / n}
		c.Operations = append(c.Operations, oc)
		c.Requests += oc.Requests
		c.ReadUnits += oc.ReadUnits
		c.WriteUnits += oc.WriteUnits
		switch {
		case strings.HasPrefix(op, "DynamoDB."):
			c.DynamoDB += oc.Requests
		case strings.HasPrefix(op, "SQS."):
			c.SQS += oc.Requests
		}
		if strings.Contains(op, meter.EmptySuffix) {
			c.EmptyPolls += oc.Requests
		}
	}
	c.FloorRatio = c.Requests / float64(sc.Floor)
	c.Invocations = float64(invocations) / n
	c.WorkerSeconds = time.Duration(nanos).Seconds() / n
	c.USD.DynamoDB = perMillion(c.ReadUnits, priceReadUnit) + perMillion(c.WriteUnits, priceWriteUnit)
	c.USD.SQS = perMillion(c.SQS, priceSQSRequest)
	// One API call: API Gateway and one invocation of the API function.
	c.USD.Requests = perMillion(1, priceHTTPAPIRequest) + perMillion(1+c.Invocations, priceLambdaRequest)
	c.USD.Total = c.USD.DynamoDB + c.USD.SQS + c.USD.Requests
	c.USD.WorkerTime = perMillion(workerMemoryGB*c.WorkerSeconds, priceLambdaGBSecond)
	return c
}

// measureSweep counts one sweep of an idle system: it runs every minute.
func measureSweep(ctx context.Context, sys *ourSystem) (FixedCost, error) {
	if err := sys.idle(ctx); err != nil {
		return FixedCost{}, err
	}
	sys.code.Reset()
	if err := sys.app.Cron.Run(ctx, cron.TaskSweep); err != nil {
		return FixedCost{}, err
	}
	t := meter.Total(sys.code.Snapshot())
	const sweepsPerMonth = 60 * 24 * 30
	f := FixedCost{What: "sweep (every minute), idle system", Requests: t.Requests, ReadUnits: t.ReadCapacity, WriteUnits: t.WriteCapacity, PerMonth: sweepsPerMonth}
	sqsRequests := 0
	for op, u := range sys.code.Snapshot() {
		if strings.HasPrefix(op, "SQS.") {
			sqsRequests += u.Requests
		}
	}
	f.USD = float64(sweepsPerMonth) * (float64(sqsRequests)*priceSQSRequest.USD + t.ReadCapacity*priceReadUnit.USD + t.WriteCapacity*priceWriteUnit.USD + priceLambdaRequest.USD)
	return f, nil
}
