// Package app wires the parts of the system together from the configuration,
// the same way for every Lambda function and for the local process.
package app

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/alert"
	"github.com/dainostore/jobs/internal/api"
	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/awsconfig"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/handler"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/credits"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/retry"
	"github.com/dainostore/jobs/internal/scheduler"
	"github.com/dainostore/jobs/internal/store"
	"github.com/dainostore/jobs/internal/worker"
)

// App holds every part, built once per process.
type App struct {
	Config     config.Config
	DB         *dynamodb.Client
	SQS        *sqs.Client
	Store      *store.Store
	Queues     *queue.Queues
	Handlers   *handler.Registry
	Dispatcher *dispatch.Dispatcher
	API        *api.Server
	// HTTP is what the process serves: the API, and whatever wraps it.
	HTTP      http.Handler
	Worker    *worker.Worker
	Scheduler *scheduler.Scheduler
	Alerts    *alert.Monitor
	Log       *slog.Logger
}

// Overrides let tests and the local process replace parts before wiring.
type Overrides struct {
	// Handlers replaces the registry built from the configuration.
	Handlers *handler.Registry
	// StoreOptions and WorkerConfig adjust the store and worker (clock, ids).
	StoreOptions store.Options
	WorkerConfig worker.Config
	// DynamoDBOptions and SQSOptions adjust the SDK clients (fault injection).
	DynamoDBOptions []func(*dynamodb.Options)
	SQSOptions      []func(*sqs.Options)
	// QueueURLs skips looking the queues up by name.
	QueueURLs *queue.URLs
	// Authenticator replaces API Gateway's claims (the local process checks
	// tokens itself).
	Authenticator auth.Authenticator
	// AlertRules replaces the default alert thresholds.
	AlertRules *alert.Rules
	// SNSOptions adjust the SNS client of the alarm topic.
	SNSOptions []func(*sns.Options)
}

// New builds the app.
func New(ctx context.Context, cfg config.Config, awsCfg aws.Config, log *slog.Logger, o Overrides) (*App, error) {
	a := &App{Config: cfg, Log: log}
	a.DB = dynamodb.NewFromConfig(awsCfg, o.DynamoDBOptions...)
	a.SQS = sqs.NewFromConfig(awsCfg, o.SQSOptions...)
	urls := o.QueueURLs
	if urls == nil {
		found, err := queue.Lookup(ctx, a.SQS, cfg.QueuePrefix)
		if err != nil {
			return nil, err
		}
		urls = &found
	}
	// What a test or process sets in the overrides wins over the configuration.
	storeOptions := o.StoreOptions
	storeOptions.CreateRateLimit = cmp.Or(storeOptions.CreateRateLimit, cfg.CreateRateLimit)
	storeOptions.Retention = cmp.Or(storeOptions.Retention, cfg.Retention)
	storeOptions.FailedRetention = cmp.Or(storeOptions.FailedRetention, cfg.FailedRetention)
	a.Store = store.New(a.DB, cfg.TableName, storeOptions)
	a.Queues = queue.New(a.SQS, *urls)
	a.Handlers = o.Handlers
	if a.Handlers == nil {
		var ledger *credits.Ledger
		if cfg.CreditsLedgerURL != "" {
			ledger = &credits.Ledger{URL: cfg.CreditsLedgerURL, Token: cfg.CreditsLedgerToken}
		}
		a.Handlers = jobtype.Registry(jobtype.Options{Diagnostic: cfg.DiagnosticJobs, Store: a.Store, CreditsLedger: ledger})
	}
	policy := retry.Policy{Delays: cfg.RetryDelays}
	a.Dispatcher = dispatch.New(a.Store, a.Queues, policy.MaxAttempts(), log)
	authenticator := o.Authenticator
	if authenticator == nil {
		authenticator = auth.Gateway{}
	}
	a.API = api.New(a.Store, a.Queues, a.Dispatcher, a.Handlers, authenticator, api.Config{MaxConcurrentJobs: cfg.MaxConcurrency}, log)
	a.HTTP = a.API
	wc := o.WorkerConfig
	wc.Retry = policy
	wc.Lease = cmp.Or(wc.Lease, cfg.Lease)
	wc.DeadlineMargin = cmp.Or(wc.DeadlineMargin, cfg.DeadlineMargin)
	wc.EmptyWait = cmp.Or(wc.EmptyWait, cfg.EmptyPollWait)
	wc.StarvationWait = cmp.Or(wc.StarvationWait, cfg.StarvationWait)
	if wc.Logger == nil {
		wc.Logger = log
	}
	a.Worker = worker.New(a.Store, a.Queues, a.Handlers, wc)
	rules := alert.DefaultRules
	if o.AlertRules != nil {
		rules = *o.AlertRules
	}
	var publisher alert.Publisher
	if cfg.AlarmTopicARN != "" {
		publisher = alert.SNSPublisher{Client: sns.NewFromConfig(awsCfg, o.SNSOptions...), TopicARN: cfg.AlarmTopicARN}
	}
	a.Alerts = alert.NewMonitor(a.Store, a.Queues, rules, publisher, log)
	a.Scheduler = scheduler.New(a.Store, a.Queues, a.Dispatcher, a.Handlers, a.Alerts, cfg.MaxConcurrency, 5*cfg.Lease, log)
	return a, nil
}

// FromEnvironment builds the app of a Lambda function from its environment,
// logging JSON lines to stdout (CloudWatch Logs).
func FromEnvironment(ctx context.Context, o Overrides) (*App, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg, awsCfg, log, o)
}
