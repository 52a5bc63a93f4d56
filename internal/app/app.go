// Package app wires the parts of the system together from the configuration,
// the same way for every Lambda function and for the local process.
package app

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/alert"
	"github.com/dainostore/jobs/internal/api"
	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/awsconfig"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/cron"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/ledger"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/retry"
	"github.com/dainostore/jobs/internal/schedule"
	"github.com/dainostore/jobs/internal/sweep"
	"github.com/dainostore/jobs/internal/translation"
	"github.com/dainostore/jobs/internal/worker"
)

// App holds every part, built once per process.
type App struct {
	Config config.Config
	DB     *dynamodb.Client
	SQS    *sqs.Client
	Jobs   *jobtable.Table
	Queues *queue.Queues
	// Catalog is the store catalog the imports fill, Images its pictures,
	// Connections the stores' marketplace credentials, and Marketplaces
	// the clients that reach them.
	Catalog      *catalog.Store
	Images       *catalog.Images
	Connections  *connection.Store
	Marketplaces connection.Clients
	// AI writes the exports' optimized text; Ledger is the store platform's
	// credits ledger it is paid on (nil when none is configured).
	AI         *ai.Optimizer
	Ledger     *ledger.Client
	Translator *translation.Translator // the UI labels' translator (Amazon Translate)
	JobTypes   *jobtype.Registry
	Dispatcher *dispatch.Dispatcher
	API        *api.Server
	// HTTP is what the process serves: the API, and whatever wraps it.
	HTTP    http.Handler
	Worker  *worker.Worker
	Sweeper *sweep.Sweeper
	// Schedules are the stores' recurring schedules; ScheduleRunner creates
	// their jobs when due (after each sweep) or by hand.
	Schedules      *schedule.Store
	ScheduleRunner *schedule.Runner
	Cron           *cron.Tasks
	Alerts         *alert.Monitor
	// Clock is the one clock every part reads.
	Clock clock.Clock
	Log   *slog.Logger
}

// Overrides let tests and the local process replace parts before wiring.
type Overrides struct {
	// Clock replaces the wall clock, for every part at once.
	Clock clock.Clock
	// JobTypes replaces the job types registered from the configuration.
	JobTypes *jobtype.Registry
	// TableOptions and WorkerConfig adjust the job table and the worker (ids, limits).
	TableOptions jobtable.Options
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
	// RateLimitWait replaces how the imports and exports wait out a
	// marketplace's rate limit (tests count the waits instead of sleeping
	// them).
	RateLimitWait func(ctx context.Context, d time.Duration) error
	// MarketplaceHTTP replaces the HTTP client of every marketplace client
	// and image download (tests hold requests at a gate).
	MarketplaceHTTP *http.Client
	// LedgerHTTP replaces the credits ledger's HTTP client.
	LedgerHTTP *http.Client
}

// New builds the app.
func New(ctx context.Context, cfg config.Config, awsCfg aws.Config, log *slog.Logger, o Overrides) (*App, error) {
	a := &App{Config: cfg, Log: log, Clock: cmp.Or[clock.Clock](o.Clock, clock.Real)}
	a.DB = dynamodb.NewFromConfig(awsCfg, append(awsconfig.DynamoDBOptions(), o.DynamoDBOptions...)...)
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
	tableOptions := o.TableOptions
	tableOptions.CreateRateLimit = cmp.Or(tableOptions.CreateRateLimit, cfg.CreateRateLimit)
	tableOptions.Retention = cmp.Or(tableOptions.Retention, cfg.Retention)
	tableOptions.FailedRetention = cmp.Or(tableOptions.FailedRetention, cfg.FailedRetention)
	tableOptions.Clock = a.Clock
	a.Jobs = jobtable.New(a.DB, cfg.TableName, tableOptions)
	a.Queues = queue.New(a.SQS, *urls, a.Clock)
	a.Catalog = catalog.NewStore(a.DB, cfg.CatalogTableName, a.Clock)
	a.Images = &catalog.Images{S3: s3.NewFromConfig(awsCfg, awsconfig.S3Options()...), Bucket: cfg.ImagesBucket}
	a.Connections = connection.NewStore(a.DB, cfg.CatalogTableName, kms.NewFromConfig(awsCfg), cfg.ConnectionsKeyID, a.Clock)
	a.Marketplaces = connection.Clients{
		ShopifyEndpoint: cfg.ShopifyEndpoint, ShopifyAPIVersion: cfg.ShopifyAPIVersion,
		AmazonLWAURL: cfg.AmazonLWAURL, AmazonSPAPIURL: cfg.AmazonSPAPIURL, EbayAPIURL: cfg.EbayAPIURL,
		HTTP: o.MarketplaceHTTP,
	}
	if a.Marketplaces.HTTP == nil {
		a.Marketplaces.HTTP = marketplace.NewHTTPClient(cfg.AllowPrivateEndpoints, 60*time.Second)
	}
	a.AI = ai.New(ai.NewClient(awsCfg, cfg.BedrockEndpoint), cfg.AIModelID)
	a.Translator = translation.New(translation.NewClient(awsCfg, cfg.TranslateEndpoint))
	if cfg.CreditsLedgerURL != "" {
		a.Ledger = &ledger.Client{URL: cfg.CreditsLedgerURL, Token: cfg.CreditsLedgerToken, HTTP: o.LedgerHTTP}
	}
	a.JobTypes = o.JobTypes
	if a.JobTypes == nil {
		a.JobTypes = jobTypes(cfg, a, o)
	}
	policy := retry.Policy{Delays: cfg.RetryDelays}
	a.Dispatcher = dispatch.New(a.Jobs, a.Queues, policy, log)
	a.Sweeper = sweep.New(a.Jobs, a.Queues, a.Dispatcher, cfg.MaxConcurrency, 5*cfg.Lease, log)
	a.Schedules = schedule.NewStore(a.DB, cfg.TableName, a.Clock)
	a.ScheduleRunner = schedule.NewRunner(a.Schedules, a.Dispatcher, a.Jobs, cfg.ScheduleMaxFailures, log)
	authenticator := o.Authenticator
	if authenticator == nil {
		authenticator = auth.Gateway{}
	}
	stores := api.Catalog{Connections: a.Connections, Items: a.Catalog, Verifier: a.Marketplaces}
	images, err := api.NewImageSigner(ctx, a.Images.S3, cfg.ImagesBucket)
	if err != nil {
		return nil, err
	}
	apiConfig := api.Config{
		MaxConcurrentJobs: cfg.MaxConcurrency,
		Ledger:            a.Ledger, CreditsPerProduct: int64(cfg.AICreditsPerProduct),
		Images:    images,
		Schedules: api.Schedules{Store: a.Schedules, Runner: a.ScheduleRunner},
	}
	a.API = api.New(a.Jobs, a.Queues, a.Dispatcher, a.Sweeper, a.JobTypes, stores, authenticator, apiConfig, log)
	a.HTTP = a.API
	wc := o.WorkerConfig
	wc.Clock = a.Clock
	wc.Retry = policy
	wc.Lease = cmp.Or(wc.Lease, cfg.Lease)
	wc.DeadlineMargin = cmp.Or(wc.DeadlineMargin, cfg.DeadlineMargin)
	wc.EmptyWait = cmp.Or(wc.EmptyWait, cfg.EmptyPollWait)
	wc.StarvationWait = cmp.Or(wc.StarvationWait, cfg.StarvationWait)
	if wc.Logger == nil {
		wc.Logger = log
	}
	a.Worker = worker.New(a.Jobs, a.Queues, a.JobTypes, wc)
	rules := alert.DefaultRules
	if o.AlertRules != nil {
		rules = *o.AlertRules
	}
	var publisher alert.Publisher
	if cfg.AlarmTopicARN != "" {
		publisher = alert.SNSPublisher{Client: sns.NewFromConfig(awsCfg, o.SNSOptions...), TopicARN: cfg.AlarmTopicARN}
	}
	a.Alerts = alert.NewMonitor(a.Jobs, a.Queues, rules, publisher, a.Clock, log)
	a.Cron = cron.New(a.Sweeper, a.ScheduleRunner, a.Alerts, a.Dispatcher, a.JobTypes, log)
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
