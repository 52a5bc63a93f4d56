package main

import (
	"context"
	"fmt"
	"time"
)

// SystemFlow is how fast one system moves no-op jobs.
type SystemFlow struct {
	System     string        `json:"system"`
	Latency    Latency       `json:"latency"`
	Urgent     UrgentLatency `json:"urgent"`
	Throughput []Throughput  `json:"throughput"`
}

// contender builds a fresh instance of one system for one measurement.
type contender struct {
	name string
	open func(ctx context.Context, concurrency int) (queueSystem, error)
}

func contenders(s settings) []contender {
	list := []contender{{"ours", func(ctx context.Context, concurrency int) (queueSystem, error) {
		// The emulator's short polls see every message: no long polls,
		// as in `make dev` (on AWS the worker long-polls before it stops).
		sys, err := newOurSystem(ctx, "flow", systemOptions{concurrency: concurrency})
		return ours{sys}, err
	}}}
	if s.redisAddr != "" {
		db := 0
		list = append(list, contender{"Asynq", func(ctx context.Context, concurrency int) (queueSystem, error) {
			db = db%15 + 1
			return newAsynq(ctx, s.redisAddr, db, concurrency)
		}})
	}
	if s.postgresURL != "" {
		list = append(list, contender{"River", func(ctx context.Context, concurrency int) (queueSystem, error) {
			return newRiver(ctx, s.postgresURL, concurrency)
		}})
	}
	return list
}

// measureFlows runs the latency, backlog and throughput measurements on
// each system in turn, each on a fresh instance.
func measureFlows(ctx context.Context, s settings) ([]SystemFlow, error) {
	var flows []SystemFlow
	for _, c := range contenders(s) {
		flow := SystemFlow{System: c.name}
		err := with(ctx, c, 5, func(sys queueSystem) error {
			progress("%s: latency, %d no-op jobs, 5 clients", c.name, s.latencyJobs)
			if err := sys.Start(ctx); err != nil {
				return err
			}
			var err error
			flow.Latency, err = closedLoop(ctx, sys, 5, s.latencyJobs)
			return err
		})
		if err != nil {
			return nil, err
		}
		err = with(ctx, c, 5, func(sys queueSystem) error {
			progress("%s: urgent jobs behind %d low ones", c.name, s.backlog)
			var err error
			flow.Urgent, err = urgentBehindBacklog(ctx, sys, s.backlog, s.urgentJobs, s.submitters)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, concurrency := range s.concurrencies {
			err = with(ctx, c, concurrency, func(sys queueSystem) error {
				progress("%s: throughput, %d no-op jobs at concurrency %d", c.name, s.throughputN, concurrency)
				if err := sys.Start(ctx); err != nil {
					return err
				}
				t, err := throughput(ctx, sys, concurrency, s.throughputN, s.submitters)
				flow.Throughput = append(flow.Throughput, t)
				return err
			})
			if err != nil {
				return nil, err
			}
		}
		flows = append(flows, flow)
	}
	return flows, nil
}

// with opens a fresh instance, runs fn with a time limit, and closes it.
func with(ctx context.Context, c contender, concurrency int, fn func(queueSystem) error) error {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	sys, err := c.open(ctx, concurrency)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	defer sys.Close()
	if err := fn(sys); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}
