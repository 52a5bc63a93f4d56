// Package config reads the environment variables every binary shares. The
// README lists them; each has a default fit for local runs.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/retry"
)

// Config is the whole configuration.
type Config struct {
	TableName   string // JOBS_TABLE_NAME
	QueuePrefix string // JOBS_QUEUE_PREFIX: queues are <prefix>-urgent, -high, -normal, -low, -wake, -dead-letter
	HTTPAddr    string // JOBS_HTTP_ADDR (local process only)
	// MaxConcurrency is how many jobs run at once: the worker's reserved
	// concurrency when deployed, the local event source mapping's limit here.
	MaxConcurrency int             // JOBS_MAX_CONCURRENCY
	RetryDelays    []time.Duration // JOBS_RETRY_DELAYS
	Lease          time.Duration   // JOBS_LEASE
	// WorkerTimeout is the local worker invocation's deadline, like a Lambda timeout.
	WorkerTimeout  time.Duration // JOBS_WORKER_TIMEOUT
	DeadlineMargin time.Duration // JOBS_DEADLINE_MARGIN
	SweepInterval  time.Duration // JOBS_SWEEP_INTERVAL (local process only)
	// EmptyPollWait long-polls each queue this long before a worker decides
	// that all are empty (a short poll samples only some SQS servers).
	EmptyPollWait time.Duration // JOBS_EMPTY_POLL_WAIT
	// CleanupInterval is how often the local process creates system:cleanup
	// (an EventBridge rule when deployed).
	CleanupInterval time.Duration // JOBS_CLEANUP_INTERVAL
	// Retention is how long completed jobs are kept, FailedRetention failed
	// and cancelled ones (and every job's log).
	Retention       time.Duration // JOBS_RETENTION
	FailedRetention time.Duration // JOBS_FAILED_RETENTION
	// StarvationWait bounds how long a job waits behind more urgent ones.
	StarvationWait time.Duration // JOBS_STARVATION_WAIT
	// AuthIssuer and AuthAudience are what tokens must carry: the JWT
	// authorizer's settings when deployed, checked by the local process itself.
	AuthIssuer   string // JOBS_AUTH_ISSUER
	AuthAudience string // JOBS_AUTH_AUDIENCE
	// AuthHS256Secret or AuthJWKSFile is how the local process checks token
	// signatures (deployed, API Gateway does).
	AuthHS256Secret string // JOBS_AUTH_HS256_SECRET
	AuthJWKSFile    string // JOBS_AUTH_JWKS_FILE
	// AlarmTopicARN, when set, receives alerts as they open and resolve.
	AlarmTopicARN string // JOBS_ALARM_TOPIC_ARN
	// CreditsLedgerURL, when set, runs system:daily_credit_deduction against
	// the store platform's credits ledger, authenticated with the token.
	CreditsLedgerURL   string // JOBS_CREDITS_LEDGER_URL
	CreditsLedgerToken string // JOBS_CREDITS_LEDGER_TOKEN
	// CatalogTableName is the store catalog's table (products, collections,
	// categories, marketplace connections).
	CatalogTableName string // JOBS_CATALOG_TABLE_NAME
	// ImagesBucket holds the catalog's product images, by content hash.
	ImagesBucket string // JOBS_IMAGES_BUCKET
	// ConnectionsKeyID is the KMS key (id, ARN or alias) that encrypts the
	// data keys of the stores' marketplace credentials.
	ConnectionsKeyID string // JOBS_CONNECTIONS_KEY_ID
	// Marketplace endpoints. Empty means the marketplace's own: Shopify's
	// https://<shop domain>, Amazon's LWA and regional SP-API hosts, eBay's
	// API host. The sandbox of `make dev` and the tests set them to fakes.
	// A Shopify endpoint is a prefix: requests go to <endpoint>/<shop domain>.
	ShopifyEndpoint   string // JOBS_SHOPIFY_ENDPOINT
	ShopifyAPIVersion string // JOBS_SHOPIFY_API_VERSION
	AmazonLWAURL      string // JOBS_AMAZON_LWA_URL
	AmazonSPAPIURL    string // JOBS_AMAZON_SPAPI_URL
	EbayAPIURL        string // JOBS_EBAY_API_URL
	// AllowPrivateEndpoints lets a connection's base URL (Akeneo's) and image
	// downloads reach loopback and private addresses: on for local runs and
	// the sandbox, off when deployed.
	AllowPrivateEndpoints bool // JOBS_ALLOW_PRIVATE_ENDPOINTS
	// AIModelID is the Bedrock model that writes the exports' titles,
	// descriptions and bullet points; BedrockEndpoint, when set, replaces
	// Bedrock Runtime's regional endpoint (the sandbox's fake).
	AIModelID       string // JOBS_AI_MODEL_ID
	BedrockEndpoint string // JOBS_BEDROCK_ENDPOINT
	// AICreditsPerProduct is what the AI optimization of one product costs
	// the store, in AI credits.
	AICreditsPerProduct int // JOBS_AI_CREDITS_PER_PRODUCT
	// ExportAIConcurrency bounds the AI calls one export makes at once, and
	// ExportSendConcurrency its marketplace calls (each marketplace's rate
	// limit paces them further).
	ExportAIConcurrency   int // JOBS_EXPORT_AI_CONCURRENCY
	ExportSendConcurrency int // JOBS_EXPORT_SEND_CONCURRENCY
	// TranslateEndpoint, when set, replaces Amazon Translate's regional
	// endpoint (the sandbox's fake); the UI label translations call it.
	TranslateEndpoint string // JOBS_TRANSLATE_ENDPOINT
	// TranslationCreditsPerBatch is what translating a batch of up to 25 UI
	// labels costs the store, in AI credits: a batch is what a translation
	// pays for at once, and what its debit's idempotency key names.
	TranslationCreditsPerBatch int // JOBS_TRANSLATION_CREDITS_PER_BATCH
	// ImagesPublicURL, when set, is where marketplaces fetch the catalog's
	// stored images (<url>/<key>, a CDN in front of the bucket); unset, an
	// export gives them each image's source URL.
	ImagesPublicURL string // JOBS_IMAGES_PUBLIC_URL
	// CreateRateLimit is how many jobs one store may create per minute.
	CreateRateLimit int // JOBS_CREATE_RATE_LIMIT
	// ScheduleMaxFailures is how many of a schedule's runs may fail in a
	// row before it disables itself and says why.
	ScheduleMaxFailures int // JOBS_SCHEDULE_MAX_FAILURES
	// DiagnosticJobs registers dev:simulate.
	DiagnosticJobs bool       // JOBS_DIAGNOSTIC_JOBS
	LogLevel       slog.Level // JOBS_LOG_LEVEL
}

// MaxRetries bounds the retry schedule, well below the queues' dead-letter
// redrive (schema.Queue.MaxReceiveCount).
const MaxRetries = 20

// Defaults are the values used when a variable is not set.
func Defaults() Config {
	return Config{
		TableName:             "jobs",
		QueuePrefix:           "jobs",
		HTTPAddr:              "127.0.0.1:8080",
		MaxConcurrency:        5,
		RetryDelays:           retry.DefaultDelays,
		Lease:                 time.Minute,
		WorkerTimeout:         15 * time.Minute,
		DeadlineMargin:        20 * time.Second,
		SweepInterval:         time.Minute,
		StarvationWait:        2 * time.Minute,
		CleanupInterval:       time.Hour,
		Retention:             30 * 24 * time.Hour,
		FailedRetention:       90 * 24 * time.Hour,
		EmptyPollWait:         time.Second,
		AuthIssuer:            "dainostore-jobs-local",
		AuthAudience:          "background-jobs",
		CreateRateLimit:       120,
		CatalogTableName:      "catalog",
		ImagesBucket:          "catalog-images",
		ConnectionsKeyID:      "alias/jobs-connections",
		ShopifyAPIVersion:     "2026-07",
		AIModelID:             "amazon.nova-lite-v1:0",
		AICreditsPerProduct:   1,
		ExportAIConcurrency:   8,
		ExportSendConcurrency: 5,
		LogLevel:              slog.LevelInfo,
		// The UI label translations: one credit buys 25 labels.
		TranslationCreditsPerBatch: 1,
		ScheduleMaxFailures:        3,
	}
}

// FromEnv reads the configuration from the environment over the defaults.
func FromEnv() (Config, error) { return parse(Defaults(), os.Getenv) }

// FromEnvWith reads the environment over the given defaults.
func FromEnvWith(defaults Config) (Config, error) { return parse(defaults, os.Getenv) }

func parse(c Config, getenv func(string) string) (Config, error) {
	var errs []string
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	duration := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Sprintf("%s=%q is not a positive duration such as 30s", name, v))
				return
			}
			*dst = d
		}
	}
	str("JOBS_TABLE_NAME", &c.TableName)
	str("JOBS_QUEUE_PREFIX", &c.QueuePrefix)
	str("JOBS_HTTP_ADDR", &c.HTTPAddr)
	str("JOBS_AUTH_ISSUER", &c.AuthIssuer)
	str("JOBS_AUTH_AUDIENCE", &c.AuthAudience)
	str("JOBS_AUTH_HS256_SECRET", &c.AuthHS256Secret)
	str("JOBS_AUTH_JWKS_FILE", &c.AuthJWKSFile)
	str("JOBS_ALARM_TOPIC_ARN", &c.AlarmTopicARN)
	str("JOBS_CREDITS_LEDGER_URL", &c.CreditsLedgerURL)
	str("JOBS_CREDITS_LEDGER_TOKEN", &c.CreditsLedgerToken)
	str("JOBS_CATALOG_TABLE_NAME", &c.CatalogTableName)
	str("JOBS_IMAGES_BUCKET", &c.ImagesBucket)
	str("JOBS_CONNECTIONS_KEY_ID", &c.ConnectionsKeyID)
	str("JOBS_SHOPIFY_ENDPOINT", &c.ShopifyEndpoint)
	str("JOBS_SHOPIFY_API_VERSION", &c.ShopifyAPIVersion)
	str("JOBS_AMAZON_LWA_URL", &c.AmazonLWAURL)
	str("JOBS_AMAZON_SPAPI_URL", &c.AmazonSPAPIURL)
	str("JOBS_EBAY_API_URL", &c.EbayAPIURL)
	str("JOBS_AI_MODEL_ID", &c.AIModelID)
	str("JOBS_BEDROCK_ENDPOINT", &c.BedrockEndpoint)
	str("JOBS_TRANSLATE_ENDPOINT", &c.TranslateEndpoint)
	str("JOBS_IMAGES_PUBLIC_URL", &c.ImagesPublicURL)
	count := func(name string, dst *int, most int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > most {
				errs = append(errs, fmt.Sprintf("%s=%q is not a number between 1 and %d", name, v, most))
				return
			}
			*dst = n
		}
	}
	count("JOBS_AI_CREDITS_PER_PRODUCT", &c.AICreditsPerProduct, 1000)
	count("JOBS_EXPORT_AI_CONCURRENCY", &c.ExportAIConcurrency, 64)
	count("JOBS_EXPORT_SEND_CONCURRENCY", &c.ExportSendConcurrency, 64)
	count("JOBS_TRANSLATION_CREDITS_PER_BATCH", &c.TranslationCreditsPerBatch, 1000)
	count("JOBS_SCHEDULE_MAX_FAILURES", &c.ScheduleMaxFailures, 100)
	if v := getenv("JOBS_CREATE_RATE_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Sprintf("JOBS_CREATE_RATE_LIMIT=%q is not a positive number", v))
		} else {
			c.CreateRateLimit = n
		}
	}
	if v := getenv("JOBS_MAX_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, fmt.Sprintf("JOBS_MAX_CONCURRENCY=%q is not a number between 1 and 1000", v))
		} else {
			c.MaxConcurrency = n
		}
	}
	if v := getenv("JOBS_RETRY_DELAYS"); v != "" {
		delays, err := retry.ParseDelays(v)
		switch {
		case err != nil:
			errs = append(errs, "JOBS_RETRY_DELAYS: "+err.Error())
		case len(delays) > MaxRetries:
			// Each attempt receives the job's message once more, and the
			// queues send a message received 100 times to the dead letters.
			errs = append(errs, fmt.Sprintf("JOBS_RETRY_DELAYS: at most %d retries, not %d", MaxRetries, len(delays)))
		default:
			c.RetryDelays = delays
		}
	}
	duration("JOBS_LEASE", &c.Lease)
	duration("JOBS_WORKER_TIMEOUT", &c.WorkerTimeout)
	duration("JOBS_DEADLINE_MARGIN", &c.DeadlineMargin)
	duration("JOBS_SWEEP_INTERVAL", &c.SweepInterval)
	duration("JOBS_STARVATION_WAIT", &c.StarvationWait)
	duration("JOBS_CLEANUP_INTERVAL", &c.CleanupInterval)
	duration("JOBS_RETENTION", &c.Retention)
	duration("JOBS_FAILED_RETENTION", &c.FailedRetention)
	if v := getenv("JOBS_EMPTY_POLL_WAIT"); v == "0" || v == "0s" {
		c.EmptyPollWait = 0
	} else {
		duration("JOBS_EMPTY_POLL_WAIT", &c.EmptyPollWait)
	}
	if v := getenv("JOBS_DIAGNOSTIC_JOBS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("JOBS_DIAGNOSTIC_JOBS=%q is not true or false", v))
		} else {
			c.DiagnosticJobs = b
		}
	}
	if v := getenv("JOBS_ALLOW_PRIVATE_ENDPOINTS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("JOBS_ALLOW_PRIVATE_ENDPOINTS=%q is not true or false", v))
		} else {
			c.AllowPrivateEndpoints = b
		}
	}
	if v := getenv("JOBS_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Sprintf("JOBS_LOG_LEVEL=%q is not debug, info, warn or error", v))
		}
	}
	for _, setting := range []struct{ name, value string }{
		{"JOBS_CREDITS_LEDGER_URL", c.CreditsLedgerURL}, {"JOBS_SHOPIFY_ENDPOINT", c.ShopifyEndpoint},
		{"JOBS_AMAZON_LWA_URL", c.AmazonLWAURL}, {"JOBS_AMAZON_SPAPI_URL", c.AmazonSPAPIURL}, {"JOBS_EBAY_API_URL", c.EbayAPIURL},
		{"JOBS_BEDROCK_ENDPOINT", c.BedrockEndpoint}, {"JOBS_IMAGES_PUBLIC_URL", c.ImagesPublicURL},
		{"JOBS_TRANSLATE_ENDPOINT", c.TranslateEndpoint},
	} {
		if u, err := url.Parse(setting.value); setting.value != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			errs = append(errs, fmt.Sprintf("%s=%q is not an http(s) URL", setting.name, setting.value))
		}
	}
	if c.Lease < 5*time.Second {
		errs = append(errs, "JOBS_LEASE must be at least 5s")
	}
	if c.DeadlineMargin >= c.WorkerTimeout {
		errs = append(errs, "JOBS_DEADLINE_MARGIN must be shorter than JOBS_WORKER_TIMEOUT")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}
