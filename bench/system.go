package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/awsconfig"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/emf"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/lambdaadapter"
	"github.com/dainostore/jobs/internal/localrun"
	"github.com/dainostore/jobs/internal/meter"
	"github.com/dainostore/jobs/internal/schema"
	"github.com/dainostore/jobs/internal/worker"
)

// ourSystem is the job queue under test, whole, in this process: the API
// handler, the worker behind a local event source mapping, on its own
// table and queues. Two meters count what it asks of AWS: code counts the
// requests our code makes, pollers those Lambda's event source mapping makes
// on our behalf (its receives and deletes of wakes).
type ourSystem struct {
	app     *app.App
	code    *meter.Meter
	pollers *meter.Meter
	// plain is an unmetered client for the harness's own checks.
	plain   *sqs.Client
	awsCfg  aws.Config
	tracker *tracker
	token   string
	// running counts worker invocations in progress; invocations and
	// invokedNanos add up all of them.
	running      atomic.Int64
	invocations  atomic.Int64
	invokedNanos atomic.Int64
	stop         context.CancelFunc
	done         chan struct{}
	serial       atomic.Int64
}

// systemOptions tune one run of our system.
type systemOptions struct {
	concurrency int
	// emptyWait is JOBS_EMPTY_POLL_WAIT: what AWS needs (1 s) when counting
	// requests, 0 (the emulator's short polls see every message) when timing.
	emptyWait time.Duration
	// startWorkers false leaves the event source mapping off until Start.
	startWorkers bool
}

func newOurSystem(ctx context.Context, phase string, o systemOptions) (*ourSystem, error) {
	cfg := config.Defaults()
	name := "bench-" + phase + "-" + randomHex(3)
	cfg.TableName, cfg.QueuePrefix = name, name
	cfg.DiagnosticJobs = true
	cfg.MaxConcurrency = o.concurrency
	cfg.EmptyPollWait = o.emptyWait
	cfg.CreateRateLimit = 1_000_000 // one store per job here; the limit is not what is measured
	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	urls, err := localrun.EnsureResources(ctx, awsCfg, cfg)
	if err != nil {
		return nil, err
	}
	s := &ourSystem{code: meter.New(), pollers: meter.New(), plain: sqs.NewFromConfig(awsCfg), awsCfg: awsCfg, tracker: newTracker(), done: make(chan struct{})}
	secret := []byte("bench-secret-of-at-least-thirty-two-bytes")
	verifier, err := auth.NewHS256Verifier(secret, cfg.AuthIssuer, cfg.AuthAudience)
	if err != nil {
		return nil, err
	}
	s.token, err = auth.MintHS256(secret, cfg.AuthIssuer, cfg.AuthAudience, auth.Principal{Subject: "bench", Operator: true}, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	// dev:simulate, with a note of when each run starts.
	handlers := jobtype.NewRegistry()
	jobtype.Register(handlers, jobtype.Func[simulate.Args](func(ctx context.Context, rt jobtype.Runtime, args simulate.Args) (any, error) {
		s.tracker.started(rt.JobID(), time.Now())
		return simulate.Handler{}.Run(ctx, rt, args)
	}))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.app, err = app.New(ctx, cfg, awsCfg, quiet, app.Overrides{
		JobTypes:        handlers,
		QueueURLs:       &urls,
		Authenticator:   verifier,
		DynamoDBOptions: []func(*dynamodb.Options){s.code.DynamoDBOption()},
		SQSOptions:      []func(*sqs.Options){s.code.SQSOption()},
		// The worker's metric line follows the outcome's write: it tells
		// when a job is done, with no polling.
		WorkerConfig: worker.Config{ID: "bench", Metrics: emf.NewWriter(completionWriter{s.tracker}, "Bench")},
	})
	if err != nil {
		return nil, err
	}
	if o.startWorkers {
		s.Start(ctx)
	}
	return s, nil
}

// Start runs the event source mapping on the wake queue, as Lambda would.
func (s *ourSystem) Start(ctx context.Context) {
	ctx, s.stop = context.WithCancel(ctx)
	wake := lambdaadapter.Wake(s.app.Worker)
	mapping := &localrun.EventSourceMapping{
		Client:          sqs.NewFromConfig(s.awsCfg, s.pollers.SQSOption()),
		QueueURL:        s.app.Queues.URLs().Wake,
		BatchSize:       schema.WakeBatchSize,
		MaxConcurrency:  s.app.Config.MaxConcurrency,
		FunctionTimeout: s.app.Config.WorkerTimeout,
		Handler: func(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
			s.running.Add(1)
			s.invocations.Add(1)
			start := time.Now()
			defer func() {
				s.invokedNanos.Add(int64(time.Since(start)))
				s.running.Add(-1)
			}()
			return wake(ctx, event)
		},
		Logger: s.app.Log,
	}
	go func() {
		defer close(s.done)
		_ = mapping.Run(ctx)
	}()
}

// Close stops the workers; the emulators' resources are dropped with them.
func (s *ourSystem) Close() {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
}

// create creates a dev:simulate job through the API handler, for a store of
// its own (a store may have one active job of a type).
func (s *ourSystem) create(ctx context.Context, priority string, payload string) (string, error) {
	return s.createIn(ctx, fmt.Sprintf("store-%d", s.serial.Add(1)), priority, payload)
}

func (s *ourSystem) createIn(ctx context.Context, store, priority, payload string) (string, error) {
	body := fmt.Sprintf(`{"type":"dev:simulate","store_id":%q,"priority":%q,"payload":%s}`, store, priority, payload)
	var out struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	if err := s.call(ctx, http.MethodPost, "/api/background-jobs", body, http.StatusCreated, &out); err != nil {
		return "", err
	}
	return out.Job.ID, nil
}

// call serves one API request in process.
func (s *ourSystem) call(ctx context.Context, method, path, body string, want int, out any) error {
	req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.app.HTTP.ServeHTTP(rec, req)
	if rec.Code != want {
		return fmt.Errorf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	if out != nil {
		return json.Unmarshal(rec.Body.Bytes(), out)
	}
	return nil
}

// idle waits until no invocation runs and the wake queue is empty: then
// every request a job caused has been made.
func (s *ourSystem) idle(ctx context.Context) error {
	quietSince := time.Time{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.running.Load() == 0 {
			out, err := s.plain.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
				QueueUrl:       aws.String(s.app.Queues.URLs().Wake),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			})
			if err != nil {
				return err
			}
			if out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" && out.Attributes["ApproximateNumberOfMessagesDelayed"] == "0" {
				// Quiet for longer than one poll of the event source mapping.
				if quietSince.IsZero() {
					quietSince = time.Now()
				} else if time.Since(quietSince) > 1500*time.Millisecond && s.running.Load() == 0 {
					return nil
				}
			} else {
				quietSince = time.Time{}
			}
		} else {
			quietSince = time.Time{}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// completionWriter reads the worker's metric lines: a JobsCompleted line
// is written right after the job's completion was recorded.
type completionWriter struct{ t *tracker }

func (w completionWriter) Write(p []byte) (int, error) {
	now := time.Now()
	scanner := bufio.NewScanner(strings.NewReader(string(p)))
	for scanner.Scan() {
		var line map[string]any
		if json.Unmarshal(scanner.Bytes(), &line) != nil {
			continue
		}
		if _, ok := line["JobsCompleted"]; ok {
			if id, ok := line["job_id"].(string); ok {
				w.t.completed(id, now)
			}
		}
	}
	return len(p), nil
}

// tracker notes when each job started and completed, whichever system ran
// it, and lets a client wait for one job. Notes may come before the client
// knows the job's id (a worker can start a job before the create returns).
type tracker struct {
	mu        sync.Mutex
	jobs      map[string]*tracked
	completes atomic.Int64
	last      atomic.Int64 // unix nanoseconds of the latest completion
}

type tracked struct {
	start, end time.Time
	done       chan struct{}
}

func newTracker() *tracker { return &tracker{jobs: map[string]*tracked{}} }

func (t *tracker) get(id string) *tracked {
	t.mu.Lock()
	defer t.mu.Unlock()
	j, ok := t.jobs[id]
	if !ok {
		j = &tracked{done: make(chan struct{})}
		t.jobs[id] = j
	}
	return j
}

func (t *tracker) started(id string, at time.Time) {
	j := t.get(id)
	t.mu.Lock()
	if j.start.IsZero() {
		j.start = at
	}
	t.mu.Unlock()
}

func (t *tracker) completed(id string, at time.Time) {
	j := t.get(id)
	t.mu.Lock()
	first := j.end.IsZero()
	if first {
		j.end = at
	}
	t.mu.Unlock()
	if first {
		close(j.done)
		t.completes.Add(1)
		t.last.Store(at.UnixNano())
	}
}

// wait blocks until the job completed and returns when it started and ended.
func (t *tracker) wait(ctx context.Context, id string) (start, end time.Time, err error) {
	j := t.get(id)
	select {
	case <-j.done:
	case <-ctx.Done():
		return time.Time{}, time.Time{}, fmt.Errorf("job %s did not complete: %w", id, ctx.Err())
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return j.start, j.end, nil
}

// waitCount blocks until n jobs completed.
func (t *tracker) waitCount(ctx context.Context, n int64) error {
	for t.completes.Load() < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d jobs completed: %w", t.completes.Load(), n, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
