package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// The peers run the same no-op jobs at the same concurrency, each with its
// library's defaults otherwise: what a user of it gets.

// asynqSystem is Asynq on Redis: one queue per priority class, strict
// priority, like ours.
type asynqSystem struct {
	redis     asynq.RedisClientOpt
	client    *asynq.Client
	inspector *asynq.Inspector
	server    *asynq.Server
	tracker   *tracker
	submitted atomic.Int64
	cfg       asynq.Config
}

var asynqQueues = map[priority]string{priorityUrgent: "urgent", priorityNormal: "default", priorityLow: "low"}

// newAsynq uses its own Redis database, emptied first, so runs do not meet.
func newAsynq(ctx context.Context, addr string, db, concurrency int) (*asynqSystem, error) {
	network, address := redisAddress(addr)
	rdb := redis.NewClient(&redis.Options{Network: network, Addr: address, DB: db})
	defer rdb.Close()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return nil, fmt.Errorf("asynq: empty redis database %d: %w", db, err)
	}
	opt := asynq.RedisClientOpt{Network: network, Addr: address, DB: db}
	a := &asynqSystem{redis: opt, client: asynq.NewClient(opt), inspector: asynq.NewInspector(opt), tracker: newTracker()}
	a.cfg = asynq.Config{
		Concurrency:    concurrency,
		Queues:         map[string]int{"urgent": 3, "default": 2, "low": 1},
		StrictPriority: true,
		// Asynq looks for work again after this long when every queue was
		// empty; its default of 1 s would be most of what is measured.
		TaskCheckInterval: 10 * time.Millisecond,
		LogLevel:          asynq.FatalLevel,
	}
	return a, nil
}

// redisAddress reads "unix:/path/to/socket" or "host:port".
func redisAddress(addr string) (network, address string) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", path
	}
	return "tcp", addr
}

func (a *asynqSystem) Name() string { return "Asynq" }

func (a *asynqSystem) Submit(ctx context.Context, p priority) (string, error) {
	info, err := a.client.EnqueueContext(ctx, asynq.NewTask("noop", nil), asynq.Queue(asynqQueues[p]))
	if err != nil {
		return "", err
	}
	a.submitted.Add(1)
	return asynqQueues[p] + "/" + info.ID, nil
}

func (a *asynqSystem) Start(context.Context) error {
	mux := asynq.NewServeMux()
	mux.HandleFunc("noop", func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		queue, _ := asynq.GetQueueName(ctx)
		a.tracker.started(queue+"/"+id, time.Now())
		return nil
	})
	a.server = asynq.NewServer(a.redis, a.cfg)
	return a.server.Start(mux)
}

// Await polls the task: Asynq deletes a task when it completes (no
// retention is set) and has no completion hook.
func (a *asynqSystem) Await(ctx context.Context, id string) (time.Time, time.Time, error) {
	queue, taskID, _ := strings.Cut(id, "/")
	for {
		_, err := a.inspector.GetTaskInfo(queue, taskID)
		if errors.Is(err, asynq.ErrTaskNotFound) {
			a.tracker.completed(id, time.Now())
			return a.tracker.wait(ctx, id)
		}
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		select {
		case <-ctx.Done():
			return time.Time{}, time.Time{}, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func (a *asynqSystem) AwaitAll(ctx context.Context, n int) (time.Time, error) {
	for {
		queues, err := a.inspector.Queues()
		if err != nil {
			return time.Time{}, err
		}
		left := 0
		for _, q := range queues {
			info, err := a.inspector.GetQueueInfo(q)
			if err != nil {
				return time.Time{}, err
			}
			left += info.Size
		}
		if left == 0 {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (a *asynqSystem) Close() {
	if a.server != nil {
		a.server.Shutdown()
	}
	a.client.Close()
	a.inspector.Close()
}

// riverSystem is River on PostgreSQL: one queue, River's priorities (1 is
// the most urgent).
type riverSystem struct {
	pool    *pgxpool.Pool
	client  *river.Client[pgx.Tx]
	tracker *tracker
	stopSub func()
}

type noopArgs struct{}

func (noopArgs) Kind() string { return "noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	tracker *tracker
}

func (w *noopWorker) Work(ctx context.Context, job *river.Job[noopArgs]) error {
	w.tracker.started(strconv.FormatInt(job.ID, 10), time.Now())
	return nil
}

var riverPriorities = map[priority]int{priorityUrgent: 1, priorityNormal: 2, priorityLow: 4}

// newRiver migrates the database and empties River's job table, so runs do
// not meet.
func newRiver(ctx context.Context, url string, concurrency int) (*riverSystem, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	driver := riverpgxv5.New(pool)
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		pool.Close()
		return nil, fmt.Errorf("river: migrate: %w", err)
	}
	if _, err := pool.Exec(ctx, "TRUNCATE river_job"); err != nil {
		pool.Close()
		return nil, err
	}
	r := &riverSystem{pool: pool, tracker: newTracker()}
	workers := river.NewWorkers()
	river.AddWorker(workers, &noopWorker{tracker: r.tracker})
	r.client, err = river.NewClient(driver, &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: concurrency}},
		Workers: workers,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	// River tells of each completion once it is recorded.
	events, cancel := r.client.Subscribe(river.EventKindJobCompleted)
	r.stopSub = cancel
	go func() {
		for e := range events {
			r.tracker.completed(strconv.FormatInt(e.Job.ID, 10), time.Now())
		}
	}()
	return r, nil
}

func (r *riverSystem) Name() string { return "River" }

func (r *riverSystem) Submit(ctx context.Context, p priority) (string, error) {
	res, err := r.client.Insert(ctx, noopArgs{}, &river.InsertOpts{Priority: riverPriorities[p]})
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(res.Job.ID, 10), nil
}

func (r *riverSystem) Start(ctx context.Context) error { return r.client.Start(ctx) }

func (r *riverSystem) Await(ctx context.Context, id string) (time.Time, time.Time, error) {
	return r.tracker.wait(ctx, id)
}

func (r *riverSystem) AwaitAll(ctx context.Context, n int) (time.Time, error) {
	if err := r.tracker.waitCount(ctx, int64(n)); err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, r.tracker.last.Load()), nil
}

func (r *riverSystem) Close() {
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = r.client.Stop(stopCtx)
	r.stopSub()
	r.pool.Close()
}
