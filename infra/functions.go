package main

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/schema"
)

// Function timeouts.
var (
	// workerTimeout is Lambda's maximum. The worker stops its handler
	// JOBS_DEADLINE_MARGIN before the deadline and hands the job on as a
	// continuation, so a job of any length runs in 15-minute slices.
	workerTimeout = config.Defaults().WorkerTimeout
	// apiTimeout bounds a request that is a few DynamoDB and SQS calls,
	// with room for the SDK's retries, and stays under the HTTP API's
	// 30-second integration limit, so the function, which logs why, ends
	// a stuck request rather than the gateway.
	apiTimeout = 10 * time.Second
	// schedulerTimeout is the sweep interval: a sweep (at most 500 due jobs,
	// then the alert rules) takes seconds, and one that cannot finish in its
	// own minute is better ended than left to overlap the next, which does
	// the same work again.
	schedulerTimeout = time.Minute
)

// Function memory. Lambda gives CPU in proportion to memory; the Go
// binaries themselves need a few tens of MB.
const (
	// The API and the scheduler wait on DynamoDB and SQS: 256 MB keeps
	// cold starts short at a low price.
	apiMemoryMB       = 256
	schedulerMemoryMB = 256
	// The worker runs the job handlers (catalogue imports and exports,
	// translations), which parse and build large payloads: 1 GB gives
	// them headroom and about 0.6 of a vCPU.
	workerMemoryMB = 1024
)

// functions are the three Lambda functions of the stack.
type functions struct {
	api, worker, scheduler awslambda.Function
}

// resources are what the functions are given access to.
type resources struct {
	table          awsdynamodb.Table
	queues         queues
	alarmTopic     awssns.Topic
	catalogTable   awsdynamodb.Table
	connectionsKey awskms.Key
	imagesBucket   awss3.Bucket
	aiModel        string // the Bedrock model id of the exports' AI optimization
}

// access lists the actions a function calls on each resource: exactly what
// its code paths in internal/ use, so a function cannot touch what it has
// no reason to.
type access struct {
	table         []string // on the table itself
	queryIndexes  []string // the indexes the function queries
	priority      []string // on the four priority queues
	wake          []string // on the wake queue
	deadLetter    []string // on the dead-letter queue
	publishAlarm  bool     // sns:Publish on the alarm topic
	catalog       []string // on the catalog table (it has no index)
	connections   []string // on the connections key
	imageObjects  []string // on every object of the images bucket
	invokeAIModel bool     // bedrock:InvokeModel on the AI model
	translateText bool     // translate:TranslateText, which names no resource
}

// Every transition is a TransactWriteItems of Put, Update and Delete items,
// which IAM authorizes as those item actions on the table.
var transactionActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}

var (
	// The API creates jobs (dispatch: a transaction, then SendMessage to the
	// priority queue, UpdateItem of the due entry, a wake), reads jobs, lists
	// jobs (a store's: the by_store index, or by_store_finished by when they
	// finished; every store's, for operators: the by_created index), reads
	// counters (BatchGetItem), metrics, logs and alerts (Query), cancels and
	// retries (transactions), pauses (PutItem/DeleteItem), reads queue
	// depths, and peeks at the dead-letter queue.
	apiAccess = access{
		table:        append([]string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}, transactionActions...),
		queryIndexes: []string{schema.StoreIndex, schema.FinishedIndex, schema.AllJobsIndex},
		priority:     []string{"sqs:SendMessage", "sqs:GetQueueAttributes"},
		wake:         []string{"sqs:SendMessage"},
		deadLetter:   []string{"sqs:GetQueueAttributes", "sqs:ReceiveMessage"},
		// The catalog's and the connections' routes: it reads products,
		// collections and categories (GetItem, Query, BatchGetItem), and
		// saves and removes connections. Saving one encrypts its
		// credentials under a new data key (GenerateDataKey); checking one
		// decrypts them (Decrypt). It signs the short-lived URLs through
		// which browsers read images, which act with its role (GetObject).
		catalog: []string{
			"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem",
			"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
		},
		connections:  []string{"kms:GenerateDataKey", "kms:Decrypt"},
		imageObjects: []string{"s3:GetObject"},
	}
	// The worker receives, hides (retries, heartbeats) and deletes job
	// messages, sends continuations, wakes, and poison messages to the
	// dead-letter queue; it claims, saves progress and finishes jobs
	// (transactions, UpdateItem), reads pauses (Query), writes log batches
	// (BatchWriteItem) and runs system:cleanup (the cleanup index,
	// DeleteItem, BatchWriteItem). Besides what the wake queue's event
	// source mapping needs, it receives wakes itself to delete the stale ones
	// and put the others back (queue.DropStaleWakes).
	workerAccess = access{
		table:        append([]string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchWriteItem"}, transactionActions...),
		queryIndexes: []string{schema.CleanupIndex},
		priority:     []string{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:SendMessage"},
		wake:         []string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"},
		deadLetter:   []string{"sqs:SendMessage"},
		// The catalog's jobs (imports, exports) read a connection's
		// credentials (Decrypt; only the API encrypts), read and write the
		// catalog's items, in batches too, and store images under their
		// content's key (PutObject).
		catalog: []string{
			"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem",
			"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
		},
		connections:  []string{"kms:Decrypt"},
		imageObjects: []string{"s3:PutObject"},
		// The exports' AI optimization calls Bedrock's Converse, which IAM
		// authorizes as bedrock:InvokeModel.
		invokeAIModel: true,
		// The UI labels' translation calls Amazon Translate.
		translateText: true,
	}
	// The scheduler sweeps (the due index, GetItem, UpdateItem of due
	// entries, SendMessage to priority queues, queue depths, wakes), creates
	// system jobs (the create transaction), and checks the alert rules
	// (counters, metrics, alert items, the dead-letter depth) and publishes
	// alerts to the alarm topic.
	schedulerAccess = access{
		table:        append([]string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}, transactionActions...),
		queryIndexes: []string{schema.DueIndex},
		priority:     []string{"sqs:SendMessage", "sqs:GetQueueAttributes"},
		wake:         []string{"sqs:SendMessage"},
		deadLetter:   []string{"sqs:GetQueueAttributes"},
		publishAlarm: true,
	}
)

// functionSpec is what differs between the functions.
type functionSpec struct {
	name        string // the folder of its bootstrap in AssetDir, and its construct id
	description string
	timeout     time.Duration
	memoryMB    float64
	env         map[string]string // in addition to the shared variables
	access      access
	// reservedConcurrency caps the function's concurrent invocations; nil
	// leaves it to the account's unreserved pool.
	reservedConcurrency *float64
	recursiveLoop       awslambda.RecursiveLoop
}

func newFunctions(scope constructs.Construct, props JobsStackProps, res resources) functions {
	if props.WorkerConcurrency < 2 {
		// An SQS event source mapping's maximum concurrency is at least 2.
		panic(fmt.Sprintf("WorkerConcurrency %d: the wake queue's event source mapping needs at least 2", props.WorkerConcurrency))
	}
	if wake := wakeVisibility(); wake < workerTimeout {
		panic(fmt.Sprintf("the wake queue's visibility timeout %s is shorter than the worker's timeout %s; Lambda refuses such an event source mapping", wake, workerTimeout))
	}
	checkAIModelID(props.AIModelID)
	env := newEnvironments(props, res)
	newFn := func(spec functionSpec) awslambda.Function {
		return newFunction(scope, props, spec, env.shared, res)
	}
	fns := functions{
		api: newFn(functionSpec{
			name:          "api",
			description:   "The HTTP API: background jobs, the catalog, marketplace connections (API Gateway HTTP API, payload 2.0).",
			timeout:       apiTimeout,
			memoryMB:      apiMemoryMB,
			env:           env.api,
			access:        apiAccess,
			recursiveLoop: awslambda.RecursiveLoop_TERMINATE,
		}),
		worker: newFn(functionSpec{
			name:        "worker",
			description: "Runs jobs: started by the wake queue, pulls job messages from the priority queues.",
			timeout:     workerTimeout,
			memoryMB:    workerMemoryMB,
			env:         env.worker,
			access:      workerAccess,
			// The reserved concurrency is the limit of jobs running at once
			// across all stores; reserving it also guarantees it, so other
			// functions in the account cannot starve the workers.
			reservedConcurrency: jsii.Number(props.WorkerConcurrency),
			// The worker sends wakes to the queue that invokes it (a retry's
			// delayed wake, a continuation's wake): worker → wake queue →
			// worker is a loop by design, bounded by the jobs in the queues.
			// Lambda's recursive-loop detection would drop the wake after
			// about 16 hops, stranding a long job's continuations until the
			// next sweep.
			recursiveLoop: awslambda.RecursiveLoop_ALLOW,
		}),
		scheduler: newFn(functionSpec{
			name:          "scheduler",
			description:   `Scheduled tasks: EventBridge rules invoke it with {"task": "<name>"}.`,
			timeout:       schedulerTimeout,
			memoryMB:      schedulerMemoryMB,
			env:           env.scheduler,
			access:        schedulerAccess,
			recursiveLoop: awslambda.RecursiveLoop_TERMINATE,
		}),
	}
	// The wake queue starts workers. One wake, one invocation (batch size
	// schema.WakeBatchSize), so jobs created together run in parallel. The
	// maximum concurrency equals the reserved concurrency, so the mapping
	// never invokes a worker that would be throttled (a throttled wake
	// would be hidden for a whole visibility timeout). The worker reports a
	// failed run as batch item failures, which Lambda honours only with
	// ReportBatchItemFailures; without it the failed wake would be deleted.
	fns.worker.AddEventSource(awslambdaeventsources.NewSqsEventSource(res.queues.wake, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(schema.WakeBatchSize),
		MaxConcurrency:          jsii.Number(props.WorkerConcurrency),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	return fns
}

// environments are the functions' variables, as internal/config reads them.
type environments struct {
	shared                 map[string]string // every function's
	api, worker, scheduler map[string]string // in addition
}

func newEnvironments(props JobsStackProps, res resources) environments {
	env := environments{
		shared: map[string]string{
			"JOBS_TABLE_NAME":      *res.table.TableName(),
			"JOBS_QUEUE_PREFIX":    props.QueuePrefix,
			"JOBS_MAX_CONCURRENCY": strconv.Itoa(props.WorkerConcurrency),
		},
		worker: map[string]string{
			// Read by the configuration's check that the deadline margin
			// fits in the invocation; the deadline itself comes from Lambda.
			"JOBS_WORKER_TIMEOUT": workerTimeout.String(),
			// SQS short polls sample only some servers: the worker
			// long-polls each queue this long before it concludes that all
			// are empty and ends the invocation.
			"JOBS_EMPTY_POLL_WAIT": config.Defaults().EmptyPollWait.String(),
		},
		// Only the sweep's alert check publishes; the other functions get
		// neither the variable nor the permission.
		scheduler: map[string]string{"JOBS_ALARM_TOPIC_ARN": *res.alarmTopic.TopicArn()},
	}
	// The catalog and the marketplace connections are the API's and the
	// worker's; the scheduler touches neither. The key is given by ARN,
	// which is what the roles' policies name. The marketplace endpoints, and
	// Bedrock's, are left to their defaults, the services' own hosts, and
	// private endpoints stay refused.
	catalog := map[string]string{
		"JOBS_CATALOG_TABLE_NAME": *res.catalogTable.TableName(),
		"JOBS_IMAGES_BUCKET":      *res.imagesBucket.BucketName(),
		"JOBS_CONNECTIONS_KEY_ID": *res.connectionsKey.KeyArn(),
	}
	env.api = maps.Clone(catalog)
	maps.Copy(env.worker, catalog)
	// Only the worker calls the AI model, for the exports.
	env.worker["JOBS_AI_MODEL_ID"] = props.AIModelID
	if props.ImagesPublicURL != "" {
		if u, err := url.Parse(props.ImagesPublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			panic(fmt.Sprintf("ImagesPublicURL %q is not an http(s) URL", props.ImagesPublicURL))
		}
		env.worker["JOBS_IMAGES_PUBLIC_URL"] = props.ImagesPublicURL
	}
	// system:daily_credit_deduction exists where the ledger is configured:
	// the scheduler creates the job only then, and the worker runs it. The
	// worker also debits the exports' AI optimization from it, and the API
	// reads a store's balance for the Marketplace Hub.
	if props.CreditsLedgerURL != "" {
		env.worker["JOBS_CREDITS_LEDGER_URL"] = props.CreditsLedgerURL
		env.scheduler["JOBS_CREDITS_LEDGER_URL"] = props.CreditsLedgerURL
		env.api["JOBS_CREDITS_LEDGER_URL"] = props.CreditsLedgerURL
	}
	if props.CreditsLedgerTokenSecret != "" {
		if props.CreditsLedgerURL == "" {
			panic("CreditsLedgerTokenSecret is set without CreditsLedgerURL")
		}
		// CloudFormation reads the secret at deployment: the token is in
		// neither the template nor the repository, and the worker's role
		// needs no access to Secrets Manager.
		token := *awscdk.SecretValue_SecretsManager(jsii.String(props.CreditsLedgerTokenSecret), nil).UnsafeUnwrap()
		env.worker["JOBS_CREDITS_LEDGER_TOKEN"] = token
		env.api["JOBS_CREDITS_LEDGER_TOKEN"] = token
	}
	return env
}

// wakeVisibility is the wake queue's visibility timeout in schema.
func wakeVisibility() time.Duration {
	for _, def := range schema.Queues() {
		if def.Suffix == schema.WakeQueueSuffix {
			return time.Duration(def.VisibilityTimeoutSeconds) * time.Second
		}
	}
	panic("schema.Queues() has no wake queue")
}

// newFunction creates a function with what all three share: the
// provided.al2023 runtime (Go needs no managed runtime) on the stack's
// architecture, the `make build` binary, active X-Ray tracing, its own log
// group with the stack's retention, and its own role with only the spec's
// access.
func newFunction(scope constructs.Construct, props JobsStackProps, spec functionSpec, shared map[string]string, res resources) awslambda.Function {
	id := pascalCase(spec.name)
	logGroup := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{Retention: props.LogRetention})
	// A role of our own rather than the default one, whose managed policy
	// AWSLambdaBasicExecutionRole may create and write any log group: this
	// one may write only to the function's own.
	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	logGroup.GrantWrite(role)
	grant(role, spec.access, res)

	env := map[string]*string{}
	for _, vars := range []map[string]string{shared, spec.env} {
		for name, value := range vars {
			env[name] = jsii.String(value)
		}
	}
	return awslambda.NewFunction(scope, jsii.String(id), &awslambda.FunctionProps{
		Description:                  jsii.String(spec.description),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 props.Architecture,
		Handler:                      jsii.String("bootstrap"),
		Code:                         awslambda.Code_FromAsset(bootstrapDir(props.AssetDir, spec.name), nil),
		Timeout:                      seconds(spec.timeout),
		MemorySize:                   jsii.Number(spec.memoryMB),
		Environment:                  &env,
		Role:                         role,
		LogGroup:                     logGroup,
		Tracing:                      awslambda.Tracing_ACTIVE,
		ReservedConcurrentExecutions: spec.reservedConcurrency,
		RecursiveLoop:                spec.recursiveLoop,
	})
}

// bootstrapDir is the folder that holds a function's bootstrap binary. A
// missing binary fails synthesis: a template whose code is an empty folder
// would deploy functions that cannot start.
func bootstrapDir(assetDir, name string) *string {
	dir := filepath.Join(assetDir, name)
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
		panic(fmt.Sprintf("%s/bootstrap is missing (run make build): %v", dir, err))
	}
	return jsii.String(dir)
}

// grant adds a function's access to its role.
func grant(role awsiam.IRole, a access, res resources) {
	allow := func(actions []string, arns ...*string) {
		if len(actions) == 0 {
			return
		}
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(actions...),
			Resources: &arns,
		}))
	}
	table := res.table.TableArn()
	allow(a.table, table)
	indexes := make([]*string, len(a.queryIndexes))
	for i, name := range a.queryIndexes {
		indexes[i] = jsii.String(*table + "/index/" + name)
	}
	allow([]string{"dynamodb:Query"}, indexes...)

	allow(a.priority, queueArns(res.queues.byPriority())...)
	allow(a.wake, res.queues.wake.QueueArn())
	allow(a.deadLetter, res.queues.deadLetter.QueueArn())
	// Every function finds the queues by name when it starts (queue.Lookup).
	allow([]string{"sqs:GetQueueUrl"}, queueArns(res.queues.all())...)

	if a.publishAlarm {
		allow([]string{"sns:Publish"}, res.alarmTopic.TopicArn())
	}

	allow(a.catalog, res.catalogTable.TableArn())
	allow(a.connections, res.connectionsKey.KeyArn())
	allow(a.imageObjects, res.imagesBucket.ArnForObjects(jsii.String("*")))
	if a.invokeAIModel {
		allow([]string{"bedrock:InvokeModel"}, aiModelArns(awscdk.Stack_Of(role), res.aiModel)...)
	}
	if a.translateText {
		// TranslateText names a resource only for custom terminologies, which
		// the translations do not use: IAM takes no other resource than "*".
		allow([]string{"translate:TranslateText"}, jsii.String("*"))
	}
}

func queueArns(list []awssqs.Queue) []*string {
	arns := make([]*string, len(list))
	for i, q := range list {
		arns[i] = q.QueueArn()
	}
	return arns
}
