package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/dainostore/jobs/client"
)

// Start a job and wait for its end.
func Example() {
	ctx := context.Background()
	c, err := client.New(apiURL, client.WithToken(token))
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.Create(ctx, client.CreateRequest{
		Type:    "dev:simulate",
		Payload: map[string]any{"steps": 3, "step_ms": 20},
	})
	if err != nil {
		log.Fatal(err)
	}
	done, err := c.Wait(ctx, job.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Status, done.Progress, done.ProgressMessage)
	// Output: completed 100 Simulating step 3/3
}

// Follow a job's progress as it changes, as a progress bar would.
func ExampleClient_Watch() {
	ctx := context.Background()
	c, err := client.New(apiURL, client.WithToken(token))
	if err != nil {
		log.Fatal(err)
	}
	job, err := c.Create(ctx, client.CreateRequest{
		Type:     "dev:simulate",
		Priority: client.PriorityHigh,
		Payload:  map[string]any{"steps": 4, "step_ms": 300},
	})
	if err != nil {
		log.Fatal(err)
	}
	last := -1
	done, err := c.Watch(ctx, job.ID, func(s *client.JobStatus) {
		if s.Progress < last {
			log.Fatalf("progress went back from %d to %d", last, s.Progress)
		}
		last = s.Progress
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Status, last)
	// Output: completed 100
}

// A store has one active job of a type at a time; a second create names the
// first, to follow instead.
func ExampleErrJobAlreadyActive() {
	ctx := context.Background()
	c, err := client.New(apiURL, client.WithToken(operatorToken))
	if err != nil {
		log.Fatal(err)
	}
	export := client.CreateRequest{Type: "dev:simulate", StoreID: "store-example-duplicate", Payload: map[string]any{"steps": 100, "step_ms": 100}}
	first, err := c.Create(ctx, export)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Create(ctx, export)
	var apiErr *client.Error
	if errors.Is(err, client.ErrJobAlreadyActive) && errors.As(err, &apiErr) {
		fmt.Println("already active:", apiErr.ExistingJobID == first.ID)
	}
	if _, err := c.Cancel(ctx, first.ID); err != nil {
		log.Fatal(err)
	}
	// Output: already active: true
}

// A refused request names the fields at fault.
func ExampleErrValidation() {
	ctx := context.Background()
	c, err := client.New(apiURL, client.WithToken(token))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Create(ctx, client.CreateRequest{Type: "dev:simulate", Payload: map[string]any{"steps": -1}})
	var apiErr *client.Error
	if errors.Is(err, client.ErrValidation) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code)
		for _, f := range apiErr.Fields {
			fmt.Printf("%s: %s\n", f.Field, f.Message)
		}
	}
	// Output:
	// invalid_payload
	// payload.steps: steps must be between 0 and 10000
}

// Walk every failed job of a store, page after page.
func ExampleClient_List() {
	ctx := context.Background()
	c, err := client.New(apiURL, client.WithToken(operatorToken))
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		job, err := c.Create(ctx, client.CreateRequest{
			Type: "dev:simulate", StoreID: "store-example-list",
			Payload: map[string]any{"steps": 1, "fail_attempts": 100, "fail_with": "permanent"},
		})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := c.Wait(ctx, job.ID); err != nil {
			log.Fatal(err)
		}
	}
	failed := client.ListOptions{StoreID: "store-example-list", Status: []client.Status{client.StatusFailed}, Limit: 2}
	for job, err := range c.List(ctx, failed) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(job.Type, job.Status, job.Attempts)
	}
	// Output:
	// dev:simulate failed 1
	// dev:simulate failed 1
	// dev:simulate failed 1
}
