package main

import (
	"cmp"
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/cron"
)

// JobsStackProps are the choices a deployment makes. Any field may be left
// empty: withDefaults fills in the defaults, and the optional features
// (alarm e-mail, credits ledger) stay off.
type JobsStackProps struct {
	awscdk.StackProps

	// AssetDir holds api/bootstrap, worker/bootstrap and scheduler/bootstrap,
	// as `make build` writes them. Default: build, relative to the
	// repository's root, where the CDK CLI runs the app (cdk.json).
	AssetDir string

	// AuthIssuer and AuthAudience are what the API's JWT authorizer accepts.
	// API Gateway fetches the issuer's signing keys from
	// <issuer>/.well-known/openid-configuration, so the issuer is an https
	// URL. When AuthIssuer is empty the template asks for it as the
	// CloudFormation parameter AuthIssuer at deployment, so one template
	// serves every environment and nothing deploys with a placeholder.
	AuthIssuer   string
	AuthAudience []string // default: the audience the local process checks

	// QueuePrefix names the queues <prefix>-urgent ... <prefix>-dead-letter;
	// the functions find them by these names. Default: the stack's name, so
	// two stacks in one account and region never share a queue.
	QueuePrefix string

	// WorkerConcurrency is how many jobs run at once: the worker's reserved
	// concurrency and its event source mapping's maximum concurrency.
	// Default: the configuration's MaxConcurrency (the guide's 5).
	WorkerConcurrency int

	// LogRetention applies to every function's log group and the API's
	// access log. Default: three months, as long as failed jobs are kept
	// (config FailedRetention), so a failed job's invocations can still be
	// read while the job can.
	LogRetention awslogs.RetentionDays

	// DeletionProtection guards the jobs and catalog tables against deletion
	// (default true).
	DeletionProtection *bool

	// Schedules are EventBridge schedule expressions of the scheduled tasks.
	Schedules Schedules

	// AlarmEmail, when set, subscribes an address to the alarm topic.
	AlarmEmail string

	// CreditsLedgerURL is the store platform's credits ledger, which
	// system:daily_credit_deduction calls and the exports' AI optimization
	// is paid on; without it the scheduler skips that job and exports run
	// only without AI optimization. CreditsLedgerTokenSecret names the
	// Secrets Manager secret whose value is the ledger's bearer token.
	CreditsLedgerURL         string
	CreditsLedgerTokenSecret string

	// AIModelID is the Amazon Bedrock model that the exports' AI
	// optimization calls: a model id ("amazon.nova-lite-v1:0") or a
	// cross-region inference profile's ("us.amazon.nova-lite-v1:0"). The
	// worker may invoke this model and no other. Default: the
	// configuration's AIModelID.
	AIModelID string

	// ImagesPublicURL, when set, is where marketplaces fetch the catalog's
	// images, <url>/<key>: a CDN in front of the images bucket, which this
	// stack does not create. Without it an export gives the marketplaces
	// each image's source URL.
	ImagesPublicURL string

	// APIThrottle limits the default stage of the HTTP API.
	APIThrottle Throttle

	// Architecture is the functions' processor, which `make build` must
	// match (LAMBDA_GOARCH). Default: arm64 (Graviton), which costs less per
	// millisecond than x86_64; LocalStack runs functions on its host's.
	Architecture awslambda.Architecture
}

// Schedules are EventBridge schedule expressions ("rate(1 minute)",
// "cron(0 0 * * ? *)").
type Schedules struct {
	// Sweep re-enqueues jobs that fell between two writes and wakes workers.
	// Default: the local process's interval (config SweepInterval).
	Sweep string
	// Cleanup creates system:cleanup. Default: config CleanupInterval.
	Cleanup string
	// DailyCreditDeduction creates system:daily_credit_deduction for the
	// UTC day on which it fires. Default: at the start of each UTC day.
	DailyCreditDeduction string
}

// tasks pairs each scheduled task with its schedule.
func (s Schedules) tasks() []scheduledTask {
	return []scheduledTask{
		{Task: cron.TaskSweep, Schedule: s.Sweep},
		{Task: cron.TaskCleanup, Schedule: s.Cleanup},
		{Task: cron.TaskDailyCreditDeduction, Schedule: s.DailyCreditDeduction},
	}
}

type scheduledTask struct {
	Task     string // the scheduler Lambda's input: {"task": Task}
	Schedule string
}

// Throttle is a stage's steady request rate and burst. The defaults leave
// room for many open dashboards polling job status every few seconds, and
// are far below the account's HTTP API quota.
type Throttle struct {
	RatePerSecond float64 // default 100
	Burst         float64 // default 200
}

// withDefaults fills every field left empty. stackName is the default
// queue prefix.
func (p JobsStackProps) withDefaults(stackName string) JobsStackProps {
	defaults := config.Defaults()
	p.AssetDir = cmp.Or(p.AssetDir, "build")
	if len(p.AuthAudience) == 0 {
		p.AuthAudience = []string{defaults.AuthAudience}
	}
	p.QueuePrefix = cmp.Or(p.QueuePrefix, stackName)
	p.WorkerConcurrency = cmp.Or(p.WorkerConcurrency, defaults.MaxConcurrency)
	p.AIModelID = cmp.Or(p.AIModelID, defaults.AIModelID)
	p.LogRetention = cmp.Or(p.LogRetention, awslogs.RetentionDays_THREE_MONTHS)
	if p.DeletionProtection == nil {
		p.DeletionProtection = jsii.Bool(true)
	}
	p.Schedules.Sweep = cmp.Or(p.Schedules.Sweep, rateExpression(defaults.SweepInterval))
	p.Schedules.Cleanup = cmp.Or(p.Schedules.Cleanup, rateExpression(defaults.CleanupInterval))
	p.Schedules.DailyCreditDeduction = cmp.Or(p.Schedules.DailyCreditDeduction, "cron(0 0 * * ? *)")
	p.APIThrottle.RatePerSecond = cmp.Or(p.APIThrottle.RatePerSecond, 100)
	p.APIThrottle.Burst = cmp.Or(p.APIThrottle.Burst, 200)
	if p.Architecture == nil {
		p.Architecture = awslambda.Architecture_ARM_64()
	}
	return p
}

// rateExpression writes an interval of whole minutes as an EventBridge rate
// expression, the smallest unit it accepts.
func rateExpression(d time.Duration) string {
	minutes := int(d / time.Minute)
	switch {
	case d%time.Minute != 0 || minutes < 1:
		panic(fmt.Sprintf("schedule interval %s is not a whole number of minutes", d))
	case minutes == 60:
		return "rate(1 hour)"
	case minutes%60 == 0:
		return fmt.Sprintf("rate(%d hours)", minutes/60)
	case minutes == 1:
		return "rate(1 minute)"
	}
	return fmt.Sprintf("rate(%d minutes)", minutes)
}
