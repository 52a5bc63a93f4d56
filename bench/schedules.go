package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/localrun"
	"github.com/dainostore/jobs/internal/meter"
	"github.com/dainostore/jobs/internal/schedule"
	"github.com/dainostore/jobs/internal/schema"
)

// The sizes of the schedules phase.
const (
	// idleSchedules wait, due far ahead, while the sweeps are counted, spread
	// over the stores of scheduleZones, one store a zone.
	idleSchedules = 1000
	// idleSweeps is how many sweeps are counted with and without them.
	idleSweeps = 5
	// runsAMonth are a daily schedule's runs.
	runsAMonth = 30
	// punctualRuns is how many due times of an every-minute schedule are
	// timed on the served system.
	punctualRuns = 4
	// sweepsAMonth: the sweep runs every minute.
	sweepsAMonth = 60 * 24 * 30
	// minQueryReadUnits is the least DynamoDB charges for a query, half a
	// read unit (eventually consistent); the emulator reports 0 for a query
	// that finds nothing.
	minQueryReadUnits = 0.5
	// storageOverheadBytes is what DynamoDB adds to each item, and to each
	// entry of an index, when it bills storage.
	storageOverheadBytes = 100
)

// scheduleZones are the time zones of the idle schedules' stores.
var scheduleZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"}

// schedulePayload is the payload of every schedule here.
const schedulePayload = `{"steps":1}`

// ScheduleResults are what the stores' recurring schedules cost, waiting
// and running, and how close to their due times their jobs start.
type ScheduleResults struct {
	// IdleSweeps are the schedules' part of sweeps (Runner.RunDue) with no
	// schedule and with IdleSchedules waiting, none due.
	IdleSweeps    []ScheduleSweep `json:"idle_sweeps"`
	IdleSchedules int             `json:"idle_schedules"`
	Stores        int             `json:"stores"`
	// DueQueryReadUnits is the due index's query of a sweep at DynamoDB's
	// price: what the emulator reports, at least half a unit.
	DueQueryReadUnits float64 `json:"due_query_read_units"`
	SweepsAMonth      int     `json:"sweeps_a_month"`
	// IdleUSDAMonth is that query every minute for a month, whatever the
	// number of schedules; IdleUSDPerScheduleAMonth is its share of each of
	// IdleSchedules.
	IdleUSDAMonth            float64 `json:"idle_usd_a_month"`
	IdleUSDPerScheduleAMonth float64 `json:"idle_usd_per_schedule_a_month"`
	// Storage is a schedule's stored size, new and with a full list of runs.
	Storage []ScheduleStorage `json:"storage"`
	// FirstRun is a new schedule's first due time turned into a job;
	// SteadyRun a daily schedule's run after schedule.MaxRuns earlier ones,
	// the last of which has ended.
	FirstRun   ScheduleRunCost `json:"first_run"`
	SteadyRun  ScheduleRunCost `json:"steady_run"`
	RunsAMonth int             `json:"runs_a_month"`
	// RunUSDAMonth is SteadyRun's USD, RunsAMonth times.
	RunUSDAMonth float64 `json:"run_usd_a_month"`
	// Punctuality is when the jobs of every-minute schedules started on the
	// whole system served as the local process serves it.
	Punctuality SchedulePunctuality `json:"punctuality"`
}

// ScheduleSweep is what the schedules' part of one sweep asked of AWS.
type ScheduleSweep struct {
	Schedules  int            `json:"schedules"`
	Sweeps     int            `json:"sweeps"`
	Requests   int            `json:"requests_per_sweep"`
	ReadUnits  float64        `json:"read_units_per_sweep"`
	WriteUnits float64        `json:"write_units_per_sweep"`
	Operations map[string]int `json:"operations_per_sweep"`
	// Started counts the jobs the sweeps created: none, nothing being due.
	Started int `json:"started"`
}

// ScheduleStorage is one schedule's size as DynamoDB bills its storage.
type ScheduleStorage struct {
	State string `json:"state"`
	// ItemBytes is the item as stored, sized by DynamoDB's rules (attribute
	// names and values); IndexEntryBytes its entry in the due index (the
	// table's and the index's keys).
	ItemBytes       int `json:"item_bytes"`
	IndexEntryBytes int `json:"due_index_entry_bytes"`
	// BilledBytes adds DynamoDB's 100 bytes of overhead to each.
	BilledBytes int `json:"billed_bytes"`
	// WriteUnits is what the emulator reported for the write that stored it
	// (1 per started KB): a check on ItemBytes.
	WriteUnits float64 `json:"write_units_of_its_write"`
	USDAMonth  float64 `json:"usd_a_month"`
}

// ScheduleRunCost is what one due time turned into a job asked of AWS, by
// operation, without the job's own run.
type ScheduleRunCost struct {
	What       string          `json:"what"`
	Operations []OperationCost `json:"operations"`
	Requests   int             `json:"requests"`
	ReadUnits  float64         `json:"read_units"`
	WriteUnits float64         `json:"write_units"`
	// DueQuery is the sweep's query of the due index, which every sweep
	// makes anyway (IdleSweeps); JobCreate is the dispatcher's create of
	// the job, which a job created through the API makes too; the rest is
	// the schedule's own: reading it, the previous run's job, and writing
	// it back.
	DueQuery  OperationCost `json:"due_query"`
	JobCreate OperationCost `json:"job_create"`
	Schedule  OperationCost `json:"schedule"`
	// USD is the run without the due query: the schedule's own requests
	// and the job's create.
	USD float64 `json:"usd"`
}

// SchedulePunctuality is the served system's every-minute schedules.
type SchedulePunctuality struct {
	Cron     string `json:"cron"`
	TimeZone string `json:"time_zone"`
	// SweepSecond is the second of the minute at which the local process's
	// sweep timer fires: it started with the system, at the phase's start.
	SweepSecond float64               `json:"sweep_second"`
	Schedules   []PunctualitySchedule `json:"schedules"`
}

// PunctualitySchedule is one schedule's runs.
type PunctualitySchedule struct {
	Label string           `json:"label"`
	Runs  []PunctualityRun `json:"runs"`
	// Delay summarises the runs' started_at − due_at.
	Delay Spread `json:"delay_ms"`
}

// PunctualityRun is one due time and its job.
type PunctualityRun struct {
	DueAt     string `json:"due_at"`
	Outcome   string `json:"outcome"`
	JobID     string `json:"job_id"`
	CreatedAt string `json:"created_at"`
	StartedAt string `json:"started_at"`
	// CreatedBeforeS is due_at − created_at: how long ahead the sweep made
	// the job (negative: after its due time).
	CreatedBeforeS float64 `json:"created_before_due_s"`
	DelayMS        float64 `json:"delay_ms"`
}

// Spread is the least, the median and the largest of a few values.
type Spread struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

func spreadOf(values []float64) Spread {
	if len(values) == 0 {
		return Spread{}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	median := s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Min: s[0], Median: median, Max: s[len(s)-1]}
}

// measureSchedules counts what schedules cost while they wait and when they
// run, on a system without workers, then times every-minute schedules on
// a system served whole, with the real clock.
func measureSchedules(ctx context.Context) (ScheduleResults, error) {
	r := ScheduleResults{IdleSchedules: idleSchedules, Stores: len(scheduleZones), SweepsAMonth: sweepsAMonth, RunsAMonth: runsAMonth}
	sys, err := newOurSystem(ctx, "schedules", systemOptions{concurrency: 5, emptyWait: time.Second})
	if err != nil {
		return r, err
	}
	defer sys.Close()
	if err := r.measureIdle(ctx, sys); err != nil {
		return r, fmt.Errorf("idle schedules: %w", err)
	}
	if err := r.measureRuns(ctx, sys); err != nil {
		return r, fmt.Errorf("runs: %w", err)
	}
	if r.Punctuality, err = measurePunctuality(ctx); err != nil {
		return r, fmt.Errorf("punctuality: %w", err)
	}
	return r, nil
}

// measureIdle counts sweeps with no schedule, creates idleSchedules daily
// schedules due in about 12 hours through the API, and counts sweeps again.
func (r *ScheduleResults) measureIdle(ctx context.Context, sys *ourSystem) error {
	progress("schedules: %d sweeps with no schedule", idleSweeps)
	empty, err := countSweeps(ctx, sys, 0)
	if err != nil {
		return err
	}
	progress("schedules: creating %d daily schedules in %d stores, due in about 12 hours", idleSchedules, len(scheduleZones))
	sys.code.Reset()
	ids, err := createIdleSchedules(ctx, sys)
	if err != nil {
		return err
	}
	create := sys.code.Snapshot()
	if u := create["DynamoDB.PutItem"]; u.Requests != idleSchedules || meter.Total(create).Requests != idleSchedules {
		return fmt.Errorf("creating %d schedules asked %v of AWS, expected one PutItem each", idleSchedules, create)
	}
	progress("schedules: %d sweeps with %d schedules waiting", idleSweeps, idleSchedules)
	waiting, err := countSweeps(ctx, sys, idleSchedules)
	if err != nil {
		return err
	}
	r.IdleSweeps = []ScheduleSweep{empty, waiting}
	if empty.Requests != waiting.Requests || empty.ReadUnits != waiting.ReadUnits || !maps.Equal(empty.Operations, waiting.Operations) {
		return fmt.Errorf("a sweep asked %+v with no schedule, %+v with %d waiting: the due query should be the same", empty, waiting, idleSchedules)
	}
	r.DueQueryReadUnits = math.Max(waiting.ReadUnits, minQueryReadUnits)
	r.IdleUSDAMonth = float64(sweepsAMonth) * r.DueQueryReadUnits * priceReadUnit.USD
	r.IdleUSDPerScheduleAMonth = r.IdleUSDAMonth / idleSchedules

	size, err := storedSize(ctx, sys, ids[0])
	if err != nil {
		return err
	}
	size.State = "new, no runs yet"
	size.WriteUnits = create["DynamoDB.PutItem"].WriteCapacity / idleSchedules
	r.Storage = append(r.Storage, size)
	return nil
}

// countSweeps runs the schedules' part of the sweep idleSweeps times and
// checks that each asked the same of AWS.
func countSweeps(ctx context.Context, sys *ourSystem, schedules int) (ScheduleSweep, error) {
	var first ScheduleSweep
	for i := range idleSweeps {
		sys.code.Reset()
		report, err := sys.app.ScheduleRunner.RunDue(ctx)
		if err != nil {
			return first, err
		}
		usage := sys.code.Snapshot()
		t := meter.Total(usage)
		sweep := ScheduleSweep{Schedules: schedules, Sweeps: idleSweeps, Requests: t.Requests, ReadUnits: t.ReadCapacity, WriteUnits: t.WriteCapacity,
			Operations: map[string]int{}, Started: report.Started}
		for op, u := range usage {
			sweep.Operations[op] = u.Requests
		}
		if report.Started+report.Skipped+report.Paused > 0 {
			return first, fmt.Errorf("a sweep with %d schedules due in hours acted: %+v", schedules, report)
		}
		if i == 0 {
			first = sweep
		} else if sweep.Requests != first.Requests || sweep.ReadUnits != first.ReadUnits || !maps.Equal(sweep.Operations, first.Operations) {
			return first, fmt.Errorf("sweep %d asked %+v, the first %+v", i+1, sweep, first)
		}
	}
	return first, nil
}

// createIdleSchedules creates the idle schedules through the API, every
// day at the wall-clock time of their store's zone 12 hours from now, a
// few at once, and returns their ids as "store#id".
func createIdleSchedules(ctx context.Context, sys *ourSystem) ([]string, error) {
	const creators = 8
	inTwelveHours := time.Now().Add(12 * time.Hour)
	type request struct{ store, body string }
	requests := make(chan request)
	var mu sync.Mutex
	var ids []string
	var errs []error
	var wg sync.WaitGroup
	for range creators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for req := range requests {
				var out struct {
					Schedule schedule.Schedule `json:"schedule"`
				}
				err := sys.call(ctx, http.MethodPost, "/api/schedules", req.body, http.StatusCreated, &out)
				if err == nil && (out.Schedule.NextRunAt == nil || time.Until(out.Schedule.NextRunAt.Time) < 11*time.Hour) {
					err = fmt.Errorf("schedule %s is due at %v, not in about 12 hours", out.Schedule.ID, out.Schedule.NextRunAt)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ids = append(ids, req.store+"#"+out.Schedule.ID)
				}
				mu.Unlock()
			}
		}()
	}
	var err error
feed:
	for i := range idleSchedules {
		zone := scheduleZones[i%len(scheduleZones)]
		loc, lerr := time.LoadLocation(zone)
		if lerr != nil {
			err = lerr
			break
		}
		store := "schedules-" + strings.ToLower(strings.ReplaceAll(zone, "/", "-"))
		body := fmt.Sprintf(`{"type":"dev:simulate","store_id":%q,"name":"Nightly simulation %d","payload":%s,"every":"day","at":%q,"time_zone":%q}`,
			store, i/len(scheduleZones)+1, schedulePayload, inTwelveHours.In(loc).Format("15:04"), zone)
		select {
		case requests <- request{store, body}:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(requests)
	wg.Wait()
	if err = errors.Join(append(errs, err)...); err != nil {
		return nil, err
	}
	return ids, nil
}

// storedSize reads a schedule's item back, "store#id", and sizes it.
func storedSize(ctx context.Context, sys *ourSystem, key string) (ScheduleStorage, error) {
	out, err := sys.app.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &sys.app.Config.TableName,
		// Where package schedule keeps schedules (its doc.go).
		Key: map[string]types.AttributeValue{
			schema.PartitionKey: &types.AttributeValueMemberS{Value: "SCHEDULES"},
			schema.SortKey:      &types.AttributeValueMemberS{Value: key},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return ScheduleStorage{}, err
	}
	if out.Item == nil {
		return ScheduleStorage{}, fmt.Errorf("schedule %s is not stored where package schedule says", key)
	}
	var s ScheduleStorage
	if s.ItemBytes, err = itemBytes(out.Item); err != nil {
		return s, err
	}
	entry := map[string]types.AttributeValue{}
	for _, name := range []string{schema.PartitionKey, schema.SortKey, schema.DueIndexPK, schema.DueIndexSK} {
		if v, ok := out.Item[name]; ok {
			entry[name] = v
		}
	}
	if len(entry) == 4 {
		if s.IndexEntryBytes, err = itemBytes(entry); err != nil {
			return s, err
		}
		s.BilledBytes = s.IndexEntryBytes + storageOverheadBytes
	}
	s.BilledBytes += s.ItemBytes + storageOverheadBytes
	s.USDAMonth = float64(s.BilledBytes) / 1e9 * priceStorage.USD
	return s, nil
}

// itemBytes sizes an item as DynamoDB does: each attribute's name in UTF-8
// plus its value: a string's UTF-8 bytes, a binary's bytes, a number's 1
// byte per two significant digits plus 1, a Boolean or null 1 byte, a list
// or map 3 bytes plus 1 per element and the elements.
func itemBytes(item map[string]types.AttributeValue) (int, error) {
	total := 0
	for name, v := range item {
		size, err := valueBytes(v)
		if err != nil {
			return 0, fmt.Errorf("attribute %s: %w", name, err)
		}
		total += len(name) + size
	}
	return total, nil
}

func valueBytes(v types.AttributeValue) (int, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value), nil
	case *types.AttributeValueMemberB:
		return len(v.Value), nil
	case *types.AttributeValueMemberN:
		return numberBytes(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1, nil
	case *types.AttributeValueMemberL:
		size := 3
		for _, e := range v.Value {
			n, err := valueBytes(e)
			if err != nil {
				return 0, err
			}
			size += 1 + n
		}
		return size, nil
	case *types.AttributeValueMemberM:
		n, err := itemBytes(v.Value)
		return 3 + len(v.Value) + n, err
	}
	return 0, fmt.Errorf("no size rule for %T", v)
}

// numberBytes sizes a number by its significant digits, leading and
// trailing zeros trimmed.
func numberBytes(n string) (int, error) {
	if _, err := strconv.ParseFloat(n, 64); err != nil {
		return 0, fmt.Errorf("number %q: %w", n, err)
	}
	mantissa, _, _ := strings.Cut(strings.ToLower(strings.TrimLeft(n, "+-")), "e")
	digits := strings.Trim(strings.Replace(mantissa, ".", "", 1), "0")
	return (max(len(digits), 1)+1)/2 + 1, nil
}

// measureRuns counts a new schedule's first run and a daily schedule's run
// once it keeps schedule.MaxRuns runs. Its runner has a clock of its own,
// moved from one due time to the next, so that eleven days of runs take a
// moment; the jobs are created by the system's dispatcher on the real
// clock. The last due time is the next minute but one, so its job is made
// as on any day: ahead of its time, its message delayed to it. No worker
// runs: each run's job is cancelled before the next, which then counts it
// as ended, as it would a completed one.
func (r *ScheduleResults) measureRuns(ctx context.Context, sys *ourSystem) error {
	const zone = "Europe/Berlin"
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return err
	}
	last := time.Now().Truncate(time.Minute).Add(2 * time.Minute)
	fake := clock.NewFake(last.Add(-11*24*time.Hour - time.Hour))
	store := schedule.NewStore(sys.app.DB, sys.app.Config.TableName, fake)
	creator := &meteredCreator{dispatcher: sys.app.Dispatcher, meter: sys.code}
	runner := schedule.NewRunner(store, creator, sys.app.Jobs, 0, sys.app.Log)
	const storeID = "schedules-daily"
	s, err := store.Create(ctx, schedule.Definition{
		StoreID: storeID, Name: "Nightly simulation", Type: "dev:simulate", Payload: []byte(schedulePayload),
		Spec: schedule.Spec{Every: schedule.EveryDay, At: last.In(loc).Format("15:04"), TimeZone: zone},
	})
	if err != nil {
		return err
	}
	progress("schedules: %q (%s): its first run, then a run after %d days of runs", s.Label(), s.Description, schedule.MaxRuns+1)
	for runs := 0; ; runs++ {
		if s.NextRunAt == nil || s.NextRunAt.After(last) {
			return fmt.Errorf("the schedule's next run is %v, past %s", s.NextRunAt, last.Format(time.RFC3339))
		}
		fake.Advance(s.NextRunAt.Add(-30 * time.Second).Sub(fake.Now()))
		steady := s.NextRunAt.Equal(last)
		sys.code.Reset()
		report, err := runner.RunDue(ctx)
		if err != nil {
			return err
		}
		usage := sys.code.Snapshot()
		if report.Started != 1 || report.Skipped+report.CaughtUp+report.Paused > 0 {
			return fmt.Errorf("run %d: the sweep did %+v, expected one job started", runs+1, report)
		}
		if s, err = store.Get(ctx, storeID, s.ID); err != nil {
			return err
		}
		switch {
		case runs == 0:
			r.FirstRun = runCost("first run of a new schedule", usage, creator.usage)
		case steady:
			r.SteadyRun = runCost(fmt.Sprintf("a run after %d daily runs, the last one's job ended", runs), usage, creator.usage)
			r.RunUSDAMonth = r.SteadyRun.USD * runsAMonth
			// Made ahead of its due time, as on any day: its message waits.
			if j, err := sys.app.Jobs.Get(ctx, s.LastRuns[0].JobID); err != nil || j.RunAt == nil {
				return fmt.Errorf("the counted run's job %s should start at %s (%v)", s.LastRuns[0].JobID, last.Format(time.RFC3339), err)
			}
			size, err := storedSize(ctx, sys, storeID+"#"+s.ID)
			if err != nil {
				return err
			}
			size.State = fmt.Sprintf("with its last %d runs", len(s.LastRuns))
			size.WriteUnits = usage["DynamoDB.PutItem"].WriteCapacity
			r.Storage = append(r.Storage, size)
			c := r.SteadyRun
			progress("schedules: a run: %d requests, %.1f read and %.1f write units; $%.2f per million runs", c.Requests, c.ReadUnits, c.WriteUnits, c.USD*1e6)
			return nil
		}
		// Ended, so the next run is not skipped.
		if _, err := sys.app.Jobs.Cancel(ctx, s.LastRuns[0].JobID, "jobsbench"); err != nil {
			return err
		}
	}
}

// meteredCreator notes what the dispatcher's create of a run's job asked
// of AWS: the meter's count moves only by it while it runs.
type meteredCreator struct {
	dispatcher *dispatch.Dispatcher
	meter      *meter.Meter
	usage      map[string]meter.Usage
}

func (c *meteredCreator) Create(ctx context.Context, req dispatch.Request) (*job.Job, bool, error) {
	before := c.meter.Snapshot()
	j, replayed, err := c.dispatcher.Create(ctx, req)
	c.usage = map[string]meter.Usage{}
	for op, u := range c.meter.Snapshot() {
		b := before[op]
		if d := (meter.Usage{Requests: u.Requests - b.Requests, ReadCapacity: u.ReadCapacity - b.ReadCapacity, WriteCapacity: u.WriteCapacity - b.WriteCapacity}); d.Requests > 0 {
			c.usage[op] = d
		}
	}
	return j, replayed, err
}

// runCost splits a run's usage into the due query, the job's create and
// the schedule's own requests, and prices all but the query.
func runCost(what string, usage, create map[string]meter.Usage) ScheduleRunCost {
	c := ScheduleRunCost{What: what, DueQuery: OperationCost{Operation: "due query"}, JobCreate: OperationCost{Operation: "job create"}, Schedule: OperationCost{Operation: "schedule"}}
	add := func(into *OperationCost, requests int, read, write float64) {
		into.Requests += float64(requests)
		into.ReadUnits += read
		into.WriteUnits += write
	}
	sqsRequests := 0.0
	for _, op := range meter.Operations(usage) {
		u := usage[op]
		c.Operations = append(c.Operations, OperationCost{Operation: op, Requests: float64(u.Requests), ReadUnits: u.ReadCapacity, WriteUnits: u.WriteCapacity})
		c.Requests += u.Requests
		c.ReadUnits += u.ReadCapacity
		c.WriteUnits += u.WriteCapacity
		created := create[op]
		add(&c.JobCreate, created.Requests, created.ReadCapacity, created.WriteCapacity)
		rest := meter.Usage{Requests: u.Requests - created.Requests, ReadCapacity: u.ReadCapacity - created.ReadCapacity, WriteCapacity: u.WriteCapacity - created.WriteCapacity}
		if op == "DynamoDB.Query" {
			add(&c.DueQuery, rest.Requests, rest.ReadCapacity, rest.WriteCapacity)
		} else {
			add(&c.Schedule, rest.Requests, rest.ReadCapacity, rest.WriteCapacity)
		}
		if strings.HasPrefix(op, "SQS.") {
			sqsRequests += float64(u.Requests)
		}
	}
	paid := c.JobCreate
	add(&paid, int(c.Schedule.Requests), c.Schedule.ReadUnits, c.Schedule.WriteUnits)
	c.USD = paid.ReadUnits*priceReadUnit.USD + paid.WriteUnits*priceWriteUnit.USD + sqsRequests*priceSQSRequest.USD
	return c
}

// measurePunctuality serves a system whole, as the local process does
// (localrun.Serve: the API, the worker behind the event source mapping,
// the sweep at start and every minute after), and follows two
// every-minute schedules for punctualRuns due times each: one created
// before the system starts, so the sweep at start is the one before its
// first due time, and one created just after that sweep.
func measurePunctuality(ctx context.Context) (SchedulePunctuality, error) {
	p := SchedulePunctuality{Cron: "* * * * *", TimeZone: "UTC"}
	sys, err := newOurSystem(ctx, "punctuality", systemOptions{concurrency: 5})
	if err != nil {
		return p, err
	}
	defer sys.Close()
	create := func(store string) (*schedule.Schedule, error) {
		var out struct {
			Schedule schedule.Schedule `json:"schedule"`
		}
		body := fmt.Sprintf(`{"type":"dev:simulate","store_id":%q,"payload":%s,"cron":%q,"time_zone":%q}`, store, schedulePayload, p.Cron, p.TimeZone)
		err := sys.call(ctx, http.MethodPost, "/api/schedules", body, http.StatusCreated, &out)
		return &out.Schedule, err
	}
	before, err := create("punctual-before")
	if err != nil {
		return p, err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return p, err
	}
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	started := time.Now()
	go func() { served <- localrun.Serve(serveCtx, sys.app, listener) }()
	defer func() {
		stop()
		<-served
	}()
	p.SweepSecond = started.Sub(started.Truncate(time.Minute)).Seconds()
	progress("schedules: serving the system, the sweep at second %.0f of each minute; following %d runs of two %q schedules", p.SweepSecond, punctualRuns, p.Cron)
	// After the sweep at start, which runs at once and takes well under
	// this.
	select {
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
		return p, ctx.Err()
	}
	after, err := create("punctual-after")
	if err != nil {
		return p, err
	}
	followed := []struct {
		label string
		s     *schedule.Schedule
	}{
		{"created before the sweep at start", before},
		{fmt.Sprintf("created %.0f s after the sweep at start, the one before its first due time", time.Since(started).Seconds()), after},
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Duration(punctualRuns+2)*time.Minute)
	defer cancel()
	for _, f := range followed {
		runs, err := followRuns(waitCtx, sys, f.s)
		if err != nil {
			return p, fmt.Errorf("schedule %s: %w", f.label, err)
		}
		var delays []float64
		for _, run := range runs {
			delays = append(delays, run.DelayMS)
		}
		p.Schedules = append(p.Schedules, PunctualitySchedule{Label: f.label, Runs: runs, Delay: spreadOf(delays)})
		d := spreadOf(delays)
		progress("schedules: %s: started %.0f / %.0f / %.0f ms after the due time (min / median / max)", f.label, d.Min, d.Median, d.Max)
	}
	return p, nil
}

// followRuns waits until a schedule's first punctualRuns due times have
// jobs that started, and returns them, oldest first.
func followRuns(ctx context.Context, sys *ourSystem, s *schedule.Schedule) ([]PunctualityRun, error) {
	for {
		current, err := sys.app.Schedules.Get(ctx, s.StoreID, s.ID)
		if err != nil {
			return nil, err
		}
		if len(current.LastRuns) >= punctualRuns {
			var runs []PunctualityRun
			for i := len(current.LastRuns) - 1; i >= 0 && len(runs) < punctualRuns; i-- {
				run := current.LastRuns[i]
				j, err := sys.app.Jobs.Get(ctx, run.JobID)
				if err != nil {
					return nil, fmt.Errorf("the job of the run due at %s: %w", run.DueAt, err)
				}
				if j.StartedAt == nil {
					break
				}
				runs = append(runs, PunctualityRun{
					DueAt: run.DueAt.String(), Outcome: string(run.Outcome), JobID: j.ID,
					CreatedAt: j.CreatedAt.String(), StartedAt: j.StartedAt.String(),
					CreatedBeforeS: run.DueAt.Sub(j.CreatedAt.Time).Seconds(),
					DelayMS:        float64(j.StartedAt.Sub(run.DueAt.Time)) / float64(time.Millisecond),
				})
			}
			if len(runs) == punctualRuns {
				return runs, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the runs did not all start: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// schedulesMarkdown writes the schedules' section.
func (r Results) schedulesMarkdown(p func(format string, args ...any)) {
	s := r.Schedules
	p("## Recurring schedules")
	p("")
	p("The schedules' part of the sweep (`schedule.Runner.RunDue`), counted by internal/meter with the capacity units the emulator reports, %d sweeps each:", idleSweeps)
	p("")
	p("| schedules waiting (none due) | requests per sweep | read units | operations | jobs created |")
	p("|---:|---:|---:|---|---:|")
	for _, sw := range s.IdleSweeps {
		var ops []string
		for _, op := range slices.Sorted(maps.Keys(sw.Operations)) {
			ops = append(ops, fmt.Sprintf("%s %d", op, sw.Operations[op]))
		}
		p("| %d | %d | %.1f | %s | %d |", sw.Schedules, sw.Requests, sw.ReadUnits, strings.Join(ops, ", "), sw.Started)
	}
	p("")
	p("Waiting costs the due index's query, the same for any number of schedules: at %.1f read units (DynamoDB's least for a query), %d sweeps a month, $%.4f a month in all, $%.7f a schedule among %d.",
		s.DueQueryReadUnits, s.SweepsAMonth, s.IdleUSDAMonth, s.IdleUSDPerScheduleAMonth, s.IdleSchedules)
	p("")
	p("| schedule | item bytes | due index entry bytes | billed bytes (100 each added) | write units of its write | storage $ a month |")
	p("|---|---:|---:|---:|---:|---:|")
	for _, st := range s.Storage {
		p("| %s | %d | %d | %d | %.0f | %.9f |", st.State, st.ItemBytes, st.IndexEntryBytes, st.BilledBytes, st.WriteUnits, st.USDAMonth)
	}
	p("")
	p("A due time turned into a job, without the job's own run:")
	p("")
	p("| run | requests | read units | write units | due query (every sweep's) | job create | schedule's own | $ a run (without the query) |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, run := range []ScheduleRunCost{s.FirstRun, s.SteadyRun} {
		p("| %s | %d | %.1f | %.1f | %s | %s | %s | %.8f |", run.What, run.Requests, run.ReadUnits, run.WriteUnits, costCell(run.DueQuery), costCell(run.JobCreate), costCell(run.Schedule), run.USD)
	}
	p("")
	var ops []string
	for _, o := range s.SteadyRun.Operations {
		ops = append(ops, fmt.Sprintf("%s %s", o.Operation, costCell(o)))
	}
	p("By operation (%s): %s. A daily schedule's %d runs a month: $%.6f.", s.SteadyRun.What, strings.Join(ops, ", "), s.RunsAMonth, s.RunUSDAMonth)
	p("")
	u := s.Punctuality
	p("Punctuality on the system served as the local process serves it (the sweep at start and every minute after, at second %.0f), `%s` in %s, `dev:simulate` with one step:", u.SweepSecond, u.Cron, u.TimeZone)
	p("")
	p("| schedule | due_at | outcome | job created_at | created before due s | started_at | delay ms |")
	p("|---|---|---|---|---:|---|---:|")
	for _, sc := range u.Schedules {
		for _, run := range sc.Runs {
			p("| %s | %s | %s | %s | %.1f | %s | %.0f |", sc.Label, run.DueAt, run.Outcome, run.CreatedAt, run.CreatedBeforeS, run.StartedAt, run.DelayMS)
		}
	}
	p("")
	for _, sc := range u.Schedules {
		p("- %s: delay min %.0f, median %.0f, max %.0f ms.", sc.Label, sc.Delay.Min, sc.Delay.Median, sc.Delay.Max)
	}
	p("")
}

func costCell(o OperationCost) string {
	return fmt.Sprintf("%.0f (%.1f / %.1f)", o.Requests, o.ReadUnits, o.WriteUnits)
}
