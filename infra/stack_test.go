package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/dainostore/jobs/internal/alert"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/cron"
	"github.com/dainostore/jobs/internal/emf"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/retry"
	"github.com/dainostore/jobs/internal/schema"
)

// variantProps change every property the default stack leaves to its
// defaults, so the tests can tell a property from a hard-coded value.
var variantProps = JobsStackProps{
	WorkerConcurrency:  7,
	DeletionProtection: jsii.Bool(false),
	AuthAudience:       []string{"jobs-a", "jobs-b"},
	Schedules:          Schedules{Sweep: "rate(2 minutes)", Cleanup: "rate(3 hours)", DailyCreditDeduction: "cron(30 1 * * ? *)"},
	APIThrottle:        Throttle{RatePerSecond: 5, Burst: 9},
	Architecture:       awslambda.Architecture_X86_64(),
	CreditsLedgerURL:   "https://ledger.example.com/deductions",
	// The name of a Secrets Manager secret.
	CreditsLedgerTokenSecret: "jobs/credits-ledger-token",
	// A cross-region inference profile, where the default is a model.
	AIModelID:       "eu.amazon.nova-pro-v1:0",
	ImagesPublicURL: "https://images.example.com/catalog",
	// No AuthIssuer: the template asks for it.
}

var (
	variantOnce  sync.Once
	variantStack *synthesized
	variantErr   error
)

// variant is the stack synthesized with variantProps, once for all tests.
func variant(t *testing.T) *synthesized {
	t.Helper()
	variantOnce.Do(func() { variantStack, variantErr = synth(variantProps) })
	if variantErr != nil {
		t.Fatal(variantErr)
	}
	return variantStack
}

// The functions by construct id.
const (
	apiFn       = "Api"
	workerFn    = "Worker"
	schedulerFn = "Scheduler"
)

var allFunctions = []string{apiFn, workerFn, schedulerFn}

func TestWorkerRunsAtMostTheConfiguredNumberOfJobs(t *testing.T) {
	for _, c := range []struct {
		name  string
		stack func(*testing.T) *synthesized
		want  int
	}{
		{"default", func(*testing.T) *synthesized { return defaultStack }, config.Defaults().MaxConcurrency},
		{"property", variant, variantProps.WorkerConcurrency},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.stack(t)
			worker := s.resource(t, "AWS::Lambda::Function", workerFn)
			if got := worker.Properties["ReservedConcurrentExecutions"]; got != float64(c.want) {
				t.Errorf("worker reserved concurrency = %v, want %d", got, c.want)
			}
			mapping := s.wakeMapping(t)
			if got := dig(mapping.Properties, "ScalingConfig", "MaximumConcurrency"); got != float64(c.want) {
				t.Errorf("wake mapping maximum concurrency = %v, want the reserved concurrency %d", got, c.want)
			}
			for _, fn := range allFunctions {
				if got := s.env(t, fn)["JOBS_MAX_CONCURRENCY"]; got != strconv.Itoa(c.want) {
					t.Errorf("%s JOBS_MAX_CONCURRENCY = %v, want %d", fn, got, c.want)
				}
			}
		})
	}
}

func TestWakeQueueStartsOneWorkerPerWakeAndReportsFailedWakes(t *testing.T) {
	s := defaultStack
	mapping := s.wakeMapping(t)
	want := map[string]any{
		"EventSourceArn":        getAtt(s.queueID(t, schema.WakeQueueSuffix), "Arn"),
		"FunctionName":          ref(s.logicalID(t, "AWS::Lambda::Function", workerFn)),
		"BatchSize":             float64(schema.WakeBatchSize),
		"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
	}
	for key, value := range want {
		if !jsonEqual(mapping.Properties[key], value) {
			t.Errorf("wake mapping %s = %v, want %v", key, mapping.Properties[key], value)
		}
	}
}

func TestWakeQueueVisibilityOutlastsAWorkerInvocation(t *testing.T) {
	s := defaultStack
	wake := s.resources[s.queueID(t, schema.WakeQueueSuffix)]
	worker := s.resource(t, "AWS::Lambda::Function", workerFn)
	visibility, timeout := wake.Properties["VisibilityTimeout"].(float64), worker.Properties["Timeout"].(float64)
	if visibility < timeout {
		t.Errorf("wake queue visibility %vs < worker timeout %vs: Lambda refuses the event source mapping", visibility, timeout)
	}
	if timeout != config.Defaults().WorkerTimeout.Seconds() {
		t.Errorf("worker timeout = %vs, want the configuration's WorkerTimeout %s", timeout, config.Defaults().WorkerTimeout)
	}
}

func TestQueuesFollowTheSchema(t *testing.T) {
	s := defaultStack
	if got, want := len(s.ofType("AWS::SQS::Queue")), len(schema.Queues()); got != want {
		t.Errorf("%d queues, want %d", got, want)
	}
	deadLetterArn := getAtt(s.queueID(t, schema.DeadLetterQueueSuffix), "Arn")
	for _, def := range schema.Queues() {
		q := s.resources[s.queueID(t, def.Suffix)].Properties
		if q["VisibilityTimeout"] != float64(def.VisibilityTimeoutSeconds) || q["MessageRetentionPeriod"] != float64(def.MessageRetentionSeconds) {
			t.Errorf("queue %s: visibility %v, retention %v; want %+v", def.Suffix, q["VisibilityTimeout"], q["MessageRetentionPeriod"], def)
		}
		redrive, hasRedrive := q["RedrivePolicy"]
		switch {
		case def.DeadLetter && !jsonEqual(redrive, map[string]any{"deadLetterTargetArn": deadLetterArn, "maxReceiveCount": def.MaxReceiveCount}):
			t.Errorf("queue %s redrive = %v, want the dead-letter queue after %d receives", def.Suffix, redrive, def.MaxReceiveCount)
		case !def.DeadLetter && hasRedrive:
			t.Errorf("queue %s has a redrive policy %v; the schema gives it none", def.Suffix, redrive)
		}
		if q["SqsManagedSseEnabled"] != true {
			t.Errorf("queue %s is not encrypted", def.Suffix)
		}
	}
	for _, def := range schema.Queues() {
		assert(t, func() {
			s.template.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
				"Queues": []any{ref(s.queueID(t, def.Suffix))},
				"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				})})},
			})
		})
	}
}

func TestTablesFollowTheSchema(t *testing.T) {
	tables := map[string]schema.TableDefinition{"Table": schema.Table, "CatalogTable": schema.CatalogTable}
	if got := len(defaultStack.ofType("AWS::DynamoDB::Table")); got != len(tables) {
		t.Errorf("%d tables, want %d", got, len(tables))
	}
	for constructID, def := range tables {
		t.Run(constructID, func(t *testing.T) {
			checkTable(t, defaultStack.resource(t, "AWS::DynamoDB::Table", constructID), def)
			// The property turns deletion protection off for both.
			if got := variant(t).resource(t, "AWS::DynamoDB::Table", constructID).Properties["DeletionProtectionEnabled"]; got != false {
				t.Errorf("deletion protection = %v with the property false", got)
			}
		})
	}
}

// checkTable compares a table with its schema definition, and checks what
// every table of the stack has: on-demand billing, point-in-time recovery,
// deletion protection, and a Retain policy (each holds data that exists
// nowhere else).
func checkTable(t *testing.T, table resource, def schema.TableDefinition) {
	t.Helper()
	p := table.Properties
	keys := func(partition, sort string) []any {
		return []any{
			map[string]any{"AttributeName": partition, "KeyType": "HASH"},
			map[string]any{"AttributeName": sort, "KeyType": "RANGE"},
		}
	}
	if !jsonEqual(p["KeySchema"], keys(def.PartitionKey, def.SortKey)) {
		t.Errorf("key schema = %v", p["KeySchema"])
	}
	wantAttributes := map[string]string{def.PartitionKey: "S", def.SortKey: "S"}
	wantIndexes := map[string]any{}
	for _, index := range def.Indexes {
		wantAttributes[index.PartitionKey] = string(index.PartitionType)
		wantAttributes[index.SortKey] = string(index.SortType)
		projection := map[string]any{"ProjectionType": index.ProjectionType}
		if len(index.NonKeyAttributes) > 0 {
			projection["NonKeyAttributes"] = index.NonKeyAttributes
		}
		wantIndexes[index.Name] = map[string]any{
			"IndexName":  index.Name,
			"KeySchema":  keys(index.PartitionKey, index.SortKey),
			"Projection": projection,
		}
	}
	gotAttributes := map[string]string{}
	for _, a := range list(p["AttributeDefinitions"]) {
		a := a.(map[string]any)
		gotAttributes[a["AttributeName"].(string)] = a["AttributeType"].(string)
	}
	if !maps.Equal(gotAttributes, wantAttributes) {
		t.Errorf("attribute definitions = %v, want %v", gotAttributes, wantAttributes)
	}
	gotIndexes := map[string]any{}
	if indexes, ok := p["GlobalSecondaryIndexes"]; ok {
		for _, index := range list(indexes) {
			gotIndexes[index.(map[string]any)["IndexName"].(string)] = index
		}
	}
	if !jsonEqual(gotIndexes, wantIndexes) {
		t.Errorf("indexes = %v\nwant %v", gotIndexes, wantIndexes)
	}

	var ttl any // none
	if def.TTLAttribute != "" {
		ttl = map[string]any{"AttributeName": def.TTLAttribute, "Enabled": true}
	}
	checks := map[string]any{
		"TimeToLiveSpecification":          ttl,
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"BillingMode":                      "PAY_PER_REQUEST",
		"DeletionProtectionEnabled":        true,
	}
	for key, want := range checks {
		if !jsonEqual(p[key], want) {
			t.Errorf("table %s = %v, want %v", key, p[key], want)
		}
	}
	if table.DeletionPolicy != "Retain" || table.UpdateReplacePolicy != "Retain" {
		t.Errorf("deletion policy %q, update replace policy %q; want Retain", table.DeletionPolicy, table.UpdateReplacePolicy)
	}
}

func TestConnectionsKeyRotatesAndOutlivesTheStack(t *testing.T) {
	s := defaultStack
	key := s.single(t, "AWS::KMS::Key")
	// A symmetric encryption key: KeySpec and KeyUsage left to their defaults.
	for property, want := range map[string]any{"EnableKeyRotation": true, "KeySpec": nil, "KeyUsage": nil, "MultiRegion": nil} {
		if got := key.Properties[property]; !jsonEqual(got, want) {
			t.Errorf("key %s = %v, want %v", property, got, want)
		}
	}
	if key.DeletionPolicy != "Retain" || key.UpdateReplacePolicy != "Retain" {
		t.Errorf("key deletion policy %q, update replace policy %q; want Retain: the credentials it encrypted are unreadable without it",
			key.DeletionPolicy, key.UpdateReplacePolicy)
	}
	keyID := s.logicalID(t, "AWS::KMS::Key", "ConnectionsKey")
	alias := s.single(t, "AWS::KMS::Alias").Properties
	want := map[string]any{"AliasName": "alias/" + testStackName + "-connections", "TargetKeyId": getAtt(keyID, "Arn")}
	if !jsonEqual(alias, want) {
		t.Errorf("alias = %v, want %v", alias, want)
	}
}

func TestImagesBucketIsPrivateEncryptedAndTLSOnly(t *testing.T) {
	s := defaultStack
	bucket := s.single(t, "AWS::S3::Bucket")
	bucketID := s.logicalID(t, "AWS::S3::Bucket", "ImagesBucket")
	want := map[string]any{
		"PublicAccessBlockConfiguration": map[string]any{
			"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
		},
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
			map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
		}},
		"OwnershipControls": map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
		"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{
			"Id": "AbortIncompleteUploads", "Status": "Enabled",
			"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": imageUploadLimit.Hours() / 24},
		}}},
		// A name CloudFormation makes unique; the functions get it.
		"BucketName": nil,
	}
	for property, value := range want {
		if got := bucket.Properties[property]; !jsonEqual(got, value) {
			t.Errorf("bucket %s = %v, want %v", property, got, value)
		}
	}
	if bucket.DeletionPolicy != "Retain" || bucket.UpdateReplacePolicy != "Retain" {
		t.Errorf("bucket deletion policy %q, update replace policy %q; want Retain", bucket.DeletionPolicy, bucket.UpdateReplacePolicy)
	}
	everything := []any{getAtt(bucketID, "Arn"), objectsOf(bucketID)}
	for _, condition := range []map[string]any{
		{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		{"NumericLessThan": map[string]any{"s3:TlsVersion": 1.2}},
	} {
		assert(t, func() {
			s.template.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
				"Bucket": ref(bucketID),
				"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Deny", "Action": "s3:*", "Principal": map[string]any{"AWS": "*"}, "Resource": everything, "Condition": condition,
				})})},
			})
		})
	}
	// Nothing else in the bucket policy: no statement that allows.
	for _, st := range list(dig(s.single(t, "AWS::S3::BucketPolicy").Properties, "PolicyDocument", "Statement")) {
		if effect := st.(map[string]any)["Effect"]; effect != "Deny" {
			t.Errorf("bucket policy statement %v: %v, want only denials", st, effect)
		}
	}
}

func TestFunctionsRunTheBuiltBinariesTracedWithTheirOwnLogs(t *testing.T) {
	s := defaultStack
	retentionDays := float64(config.Defaults().FailedRetention / (24 * time.Hour))
	for _, fn := range allFunctions {
		p := s.resource(t, "AWS::Lambda::Function", fn).Properties
		want := map[string]any{
			"Runtime":       "provided.al2023",
			"Architectures": []any{"arm64"},
			"Handler":       "bootstrap",
			"TracingConfig": map[string]any{"Mode": "Active"},
			"LoggingConfig": map[string]any{"LogGroup": ref(s.logicalID(t, "AWS::Logs::LogGroup", fn+"Logs"))},
		}
		for key, value := range want {
			if !jsonEqual(p[key], value) {
				t.Errorf("%s %s = %v, want %v", fn, key, p[key], value)
			}
		}
		if key, _ := dig(p, "Code", "S3Key").(string); !strings.HasSuffix(key, ".zip") {
			t.Errorf("%s code = %v, want a zipped asset", fn, p["Code"])
		}
		if got := variant(t).resource(t, "AWS::Lambda::Function", fn).Properties["Architectures"]; !jsonEqual(got, []any{"x86_64"}) {
			t.Errorf("%s architectures = %v with the property x86_64", fn, got)
		}
	}
	for id, group := range s.ofType("AWS::Logs::LogGroup") {
		if group.Properties["RetentionInDays"] != retentionDays {
			t.Errorf("log group %s keeps logs %v days, want %v (as long as failed jobs)", id, group.Properties["RetentionInDays"], retentionDays)
		}
	}
}

func TestTimeoutsFitWhatCallsTheFunctions(t *testing.T) {
	s := defaultStack
	timeout := func(fn string) float64 {
		return s.resource(t, "AWS::Lambda::Function", fn).Properties["Timeout"].(float64)
	}
	if got := timeout(apiFn); got >= 30 {
		t.Errorf("API timeout %vs reaches the HTTP API's 30-second integration limit", got)
	}
	if got, interval := timeout(schedulerFn), config.Defaults().SweepInterval.Seconds(); got > interval {
		t.Errorf("scheduler timeout %vs exceeds the sweep interval %vs", got, interval)
	}
	if got, margin := timeout(workerFn), config.Defaults().DeadlineMargin.Seconds(); got <= margin {
		t.Errorf("worker timeout %vs leaves no time before the deadline margin %vs", got, margin)
	}
}

func TestOnlyTheWorkerMayWakeItself(t *testing.T) {
	s := defaultStack
	want := map[string]string{workerFn: "Allow", apiFn: "Terminate", schedulerFn: "Terminate"}
	for fn, loop := range want {
		if got := s.resource(t, "AWS::Lambda::Function", fn).Properties["RecursiveLoop"]; got != loop {
			t.Errorf("%s RecursiveLoop = %v, want %s", fn, got, loop)
		}
	}
}

func TestFunctionEnvironmentIsWhatTheConfigurationReads(t *testing.T) {
	s := defaultStack
	table := ref(s.logicalID(t, "AWS::DynamoDB::Table", "Table"))
	topic := ref(s.logicalID(t, "AWS::SNS::Topic", "AlarmTopic"))
	// The catalog's resources, for the functions that use them.
	catalog := map[string]any{
		"JOBS_CATALOG_TABLE_NAME": ref(s.logicalID(t, "AWS::DynamoDB::Table", "CatalogTable")),
		"JOBS_IMAGES_BUCKET":      ref(s.logicalID(t, "AWS::S3::Bucket", "ImagesBucket")),
		// The ARN, which the roles' policies name (an alias would not match them).
		"JOBS_CONNECTIONS_KEY_ID": getAtt(s.logicalID(t, "AWS::KMS::Key", "ConnectionsKey"), "Arn"),
	}
	for _, fn := range allFunctions {
		env := s.env(t, fn)
		if !jsonEqual(env["JOBS_TABLE_NAME"], table) {
			t.Errorf("%s JOBS_TABLE_NAME = %v, want the table", fn, env["JOBS_TABLE_NAME"])
		}
		for name, want := range catalog {
			got, set := env[name]
			if fn == schedulerFn && set || fn != schedulerFn && !jsonEqual(got, want) {
				t.Errorf("%s %s = %v; the API and the worker need %v, the scheduler nothing", fn, name, got, want)
			}
		}
		// Deployed, the marketplaces are reached at their own hosts, and
		// never at private addresses.
		for name := range env {
			if strings.HasPrefix(name, "JOBS_SHOPIFY_") || strings.HasPrefix(name, "JOBS_AMAZON_") ||
				strings.HasPrefix(name, "JOBS_EBAY_") || name == "JOBS_BEDROCK_ENDPOINT" || name == "JOBS_TRANSLATE_ENDPOINT" || name == "JOBS_ALLOW_PRIVATE_ENDPOINTS" {
				t.Errorf("%s has %s, which only local runs set", fn, name)
			}
		}
		// queue.Lookup finds the queues as <prefix>-<suffix>.
		if env["JOBS_QUEUE_PREFIX"] != testStackName {
			t.Errorf("%s JOBS_QUEUE_PREFIX = %v, want the stack name %s", fn, env["JOBS_QUEUE_PREFIX"], testStackName)
		}
		topicARN, publishes := env["JOBS_ALARM_TOPIC_ARN"]
		if fn == schedulerFn && !jsonEqual(topicARN, topic) || fn != schedulerFn && publishes {
			t.Errorf("%s JOBS_ALARM_TOPIC_ARN = %v; only the scheduler publishes, to the alarm topic", fn, topicARN)
		}

		// The configuration accepts every literal value.
		for name, value := range env {
			if value, literal := value.(string); literal {
				t.Setenv(name, value)
			}
		}
		cfg, err := config.FromEnv()
		if err != nil {
			t.Errorf("%s environment: %v", fn, err)
		}
		if fn == workerFn {
			timeout := s.resource(t, "AWS::Lambda::Function", workerFn).Properties["Timeout"].(float64)
			if cfg.WorkerTimeout.Seconds() != timeout {
				t.Errorf("worker JOBS_WORKER_TIMEOUT = %s, want the function timeout %vs", cfg.WorkerTimeout, timeout)
			}
			if cfg.EmptyPollWait <= 0 {
				t.Errorf("worker JOBS_EMPTY_POLL_WAIT = %s: deployed, the worker must long-poll before it concludes the queues are empty", cfg.EmptyPollWait)
			}
		}
	}
}

func TestCreditsLedgerReachesTheFunctionsThatUseIt(t *testing.T) {
	for _, fn := range allFunctions {
		for name := range defaultStack.env(t, fn) {
			if strings.HasPrefix(name, "JOBS_CREDITS_LEDGER") {
				t.Errorf("%s has %s although no ledger is configured", fn, name)
			}
		}
	}
	s := variant(t)
	for _, fn := range allFunctions {
		env := s.env(t, fn)
		url, token := env["JOBS_CREDITS_LEDGER_URL"], env["JOBS_CREDITS_LEDGER_TOKEN"]
		// The scheduler creates the job only where its type is configured;
		// the worker runs it with the token; the API reads balances with it.
		if url != variantProps.CreditsLedgerURL {
			t.Errorf("%s JOBS_CREDITS_LEDGER_URL = %v", fn, url)
		}
		if fn == schedulerFn {
			if token != nil {
				t.Errorf("%s has the ledger's token", fn)
			}
			continue
		}
		// The token is resolved by CloudFormation at deployment, never in the template.
		if ref, _ := token.(string); !strings.HasPrefix(ref, "{{resolve:secretsmanager:"+variantProps.CreditsLedgerTokenSecret+":SecretString") {
			t.Errorf("%s JOBS_CREDITS_LEDGER_TOKEN = %v, want a dynamic reference to the secret", fn, token)
		}
		if fn != workerFn {
			continue
		}
		// The exports refuse AI optimization without a ledger to debit: the
		// worker that calls the model reads both.
		for name, value := range env {
			if value, literal := value.(string); literal {
				t.Setenv(name, value)
			}
		}
		cfg, err := config.FromEnv()
		if err != nil {
			t.Fatalf("worker environment: %v", err)
		}
		if cfg.CreditsLedgerURL != variantProps.CreditsLedgerURL || cfg.CreditsLedgerToken == "" || cfg.AIModelID != variantProps.AIModelID {
			t.Errorf("worker configuration: ledger %q with token %t, AI model %q; want the ledger and the model of the properties",
				cfg.CreditsLedgerURL, cfg.CreditsLedgerToken != "", cfg.AIModelID)
		}
	}
}

// join is CloudFormation's Fn::Join without a separator.
func join(parts ...any) map[string]any { return map[string]any{"Fn::Join": []any{"", parts}} }

// aiModelCases are the stacks with the ARNs on which their worker may
// invoke the AI model: the default model in the stack's region, and the
// variant's cross-region inference profile, with its model in every region
// (the profile may route a call to any of its geography's).
var aiModelCases = []struct {
	name  string
	stack func(*testing.T) *synthesized
	model string
	arns  []any
}{
	{"default", func(*testing.T) *synthesized { return defaultStack }, config.Defaults().AIModelID, []any{
		join("arn:", ref("AWS::Partition"), ":bedrock:", ref("AWS::Region"), "::foundation-model/"+config.Defaults().AIModelID),
	}},
	{"property", variant, variantProps.AIModelID, []any{
		join("arn:", ref("AWS::Partition"), ":bedrock:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":inference-profile/eu.amazon.nova-pro-v1:0"),
		join("arn:", ref("AWS::Partition"), ":bedrock:*::foundation-model/amazon.nova-pro-v1:0"),
	}},
}

func TestOnlyTheWorkerMayInvokeTheConfiguredAIModel(t *testing.T) {
	if config.Defaults().AIModelID == variantProps.AIModelID {
		t.Fatal("the variant's AI model is the default: the test could not tell the property from a hard-coded value")
	}
	for _, c := range aiModelCases {
		t.Run(c.name, func(t *testing.T) {
			s := c.stack(t)
			for _, fn := range allFunctions {
				granted := s.grants(t, fn)
				for action := range granted {
					if strings.HasPrefix(action, "bedrock:") && action != "bedrock:InvokeModel" {
						t.Errorf("%s may %s; Converse needs only bedrock:InvokeModel", fn, action)
					}
				}
				model, set := s.env(t, fn)["JOBS_AI_MODEL_ID"]
				if fn != workerFn {
					if got, ok := granted["bedrock:InvokeModel"]; ok || set {
						t.Errorf("%s may invoke %v with JOBS_AI_MODEL_ID %v; only the worker calls the model", fn, got, model)
					}
					continue
				}
				if model != c.model {
					t.Errorf("worker JOBS_AI_MODEL_ID = %v, want %s", model, c.model)
				}
				if got := granted["bedrock:InvokeModel"]; !jsonEqual(got, c.arns) {
					data, _ := json.Marshal(got)
					t.Errorf("worker may invoke %s\nwant %v", data, c.arns)
				}
			}
		})
	}
}

func TestImagesPublicURLReachesTheWorkerWhenSet(t *testing.T) {
	for _, fn := range allFunctions {
		if url, set := defaultStack.env(t, fn)["JOBS_IMAGES_PUBLIC_URL"]; set {
			t.Errorf("%s JOBS_IMAGES_PUBLIC_URL = %v without the property", fn, url)
		}
		url, set := variant(t).env(t, fn)["JOBS_IMAGES_PUBLIC_URL"]
		if fn == workerFn && url != variantProps.ImagesPublicURL || fn != workerFn && set {
			t.Errorf("%s JOBS_IMAGES_PUBLIC_URL = %v; only the worker's exports use it", fn, url)
		}
	}
}

func TestCrossRegionProfilesAreToldFromModels(t *testing.T) {
	for id, want := range map[string]struct{ geography, model string }{
		"amazon.nova-lite-v1:0":                          {},
		"meta.llama3-8b-instruct-v1:0":                   {},
		"us.amazon.nova-lite-v1:0":                       {"us", "amazon.nova-lite-v1:0"},
		"us-gov.anthropic.claude-3-haiku-20240307-v1:0":  {"us-gov", "anthropic.claude-3-haiku-20240307-v1:0"},
		"apac.amazon.nova-pro-v1:0":                      {"apac", "amazon.nova-pro-v1:0"},
		"global.anthropic.claude-sonnet-4-20250514-v1:0": {"global", "anthropic.claude-sonnet-4-20250514-v1:0"},
		"eu.mistral.pixtral-large-2502-v1:0":             {"eu", "mistral.pixtral-large-2502-v1:0"},
		"usa.example-model-v1:0":                         {},
	} {
		geography, model, ok := crossRegionProfile(id)
		if geography != want.geography || model != want.model || ok != (want.geography != "") {
			t.Errorf("crossRegionProfile(%q) = %q, %q, %t; want %q, %q", id, geography, model, ok, want.geography, want.model)
		}
	}
}

func TestSynthesisRefusesWhatTheWorkerCouldNotUse(t *testing.T) {
	for _, id := range []string{"*", "amazon.*", "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc"} {
		props := variantProps
		props.AIModelID = id
		if _, err := synth(props); err == nil {
			t.Errorf("AIModelID %q synthesized", id)
		}
	}
	props := variantProps
	props.ImagesPublicURL = "images.example.com"
	if _, err := synth(props); err == nil {
		t.Errorf("ImagesPublicURL %q synthesized", props.ImagesPublicURL)
	}
}

func TestEveryRouteButThePublicOnesNeedsAToken(t *testing.T) {
	s := defaultStack
	authorizerID := s.logicalID(t, "AWS::ApiGatewayV2::Authorizer", "HttpApiJwtAuthorizer")
	routesByKey := map[string]resource{}
	for _, r := range s.ofType("AWS::ApiGatewayV2::Route") {
		routesByKey[r.Properties["RouteKey"].(string)] = r
	}
	expected := routes()
	if len(routesByKey) != len(expected) {
		t.Errorf("%d routes in the template, want %d: %v", len(routesByKey), len(expected), slices.Sorted(maps.Keys(routesByKey)))
	}
	for _, want := range expected {
		key := want.Method + " " + want.Path
		r, ok := routesByKey[key]
		if !ok {
			t.Errorf("no route %s", key)
			continue
		}
		public := key == "GET /healthz" || strings.HasPrefix(want.Path, "/dashboard")
		if strings.HasPrefix(want.Path, "/api/") && public {
			t.Errorf("API route %s is public", key)
		}
		switch {
		case public && r.Properties["AuthorizationType"] != "NONE":
			t.Errorf("route %s: authorization %v, want none", key, r.Properties["AuthorizationType"])
		case !public && (r.Properties["AuthorizationType"] != "JWT" || !jsonEqual(r.Properties["AuthorizerId"], ref(authorizerID))):
			t.Errorf("route %s: authorization %v by %v, want the JWT authorizer", key, r.Properties["AuthorizationType"], r.Properties["AuthorizerId"])
		}
	}
	if _, ok := routesByKey["GET /healthz"]; !ok {
		t.Error("no GET /healthz route")
	}

	authorizer := s.resources[authorizerID].Properties
	if !jsonEqual(authorizer["JwtConfiguration"], map[string]any{"Issuer": testIssuer, "Audience": []any{config.Defaults().AuthAudience}}) {
		t.Errorf("authorizer = %v, want issuer %s and the configured audience", authorizer["JwtConfiguration"], testIssuer)
	}
	if !jsonEqual(authorizer["IdentitySource"], []any{"$request.header.Authorization"}) {
		t.Errorf("authorizer identity source = %v", authorizer["IdentitySource"])
	}
	assert(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Integration"), map[string]any{
			"IntegrationType":      "AWS_PROXY",
			"PayloadFormatVersion": "2.0",
			"IntegrationUri":       getAtt(s.logicalID(t, "AWS::Lambda::Function", apiFn), "Arn"),
		})
	})
}

func TestRoutesAreTheAPIContractsAndTheDashboards(t *testing.T) {
	got := map[string]bool{}
	for _, r := range routes() {
		got[r.Method+" "+r.Path] = r.Public
	}
	// The guide's endpoints, the operators' routes, the catalog's and the
	// marketplace connections' routes, and the public ones.
	want := map[string]bool{
		"GET /healthz":                                      true,
		"GET /dashboard":                                    true,
		"GET /dashboard/{proxy+}":                           true,
		"POST /api/background-jobs":                         false,
		"GET /api/background-jobs/status":                   false,
		"GET /api/background-jobs/{id}/status":              false,
		"POST /api/background-jobs/pause":                   false,
		"GET /api/background-jobs/dead-letters":             false,
		"GET /api/marketplace/connections":                  false,
		"PUT /api/marketplace/connections/{marketplace}":    false,
		"DELETE /api/marketplace/connections/{marketplace}": false,
		"GET /api/catalog/products":                         false,
		"GET /api/catalog/products/{id}":                    false,
		"GET /api/catalog/collections":                      false,
		"GET /api/catalog/categories":                       false,
		"GET /api/catalog/images/{key+}":                    false,
	}
	for key, public := range want {
		if p, ok := got[key]; !ok || p != public {
			t.Errorf("route %s: present %v, public %v; want public %v", key, ok, p, public)
		}
	}
	for key, public := range got {
		if strings.Contains(key, " /api/") && public {
			t.Errorf("API route %s is public", key)
		}
	}
}

func TestEveryAPIPathOfTheDocumentNeedsAToken(t *testing.T) {
	got := documentRoutes([]byte(`{"security": [{"bearer": []}], "paths": {
		"/healthz": {"get": {"security": []}},
		"/api/new-part/things": {"get": {}, "post": {"security": [{"bearer": []}]}, "parameters": []}
	}}`))
	want := []route{
		{Method: "GET", Path: "/api/new-part/things"},
		{Method: "POST", Path: "/api/new-part/things"},
		{Method: "GET", Path: "/healthz", Public: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes = %+v, want %+v", got, want)
	}

	defer func() {
		if recover() == nil {
			t.Error("an /api/ operation without security was synthesized as a public route")
		}
	}()
	documentRoutes([]byte(`{"paths": {"/api/catalog/open": {"get": {"security": []}}}}`))
}

// A path parameter the document marks greedy, spanning several segments,
// is API Gateway's greedy path variable; only as the last segment, where
// API Gateway allows one.
func TestAGreedyPathParameterIsAPIGatewaysGreedyVariable(t *testing.T) {
	got := documentRoutes([]byte(`{"paths": {
		"/api/files/{key}": {"get": {"parameters": [{"name": "key", "in": "path", "required": true, "x-greedy": true}]}},
		"/api/folders/{key}": {"parameters": [{"name": "key", "in": "path", "required": true, "x-greedy": true}], "get": {}},
		"/api/things/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": true}]}}
	}}`))
	want := []route{
		{Method: "GET", Path: "/api/files/{key+}"},
		{Method: "GET", Path: "/api/folders/{key+}"},
		{Method: "GET", Path: "/api/things/{id}"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes = %+v, want %+v", got, want)
	}

	defer func() {
		if recover() == nil {
			t.Error("a greedy path parameter before the path's last segment was synthesized")
		}
	}()
	documentRoutes([]byte(`{"paths": {"/api/files/{key}/meta": {"get": {"parameters": [{"name": "key", "in": "path", "required": true, "x-greedy": true}]}}}}`))
}

func TestMissingBinaryFailsSynthesis(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a function without its bootstrap binary was synthesized")
		}
	}()
	bootstrapDir(t.TempDir(), "api")
}

func TestAuthIssuerIsAskedForAtDeploymentWhenNotSet(t *testing.T) {
	s := variant(t)
	param := dig(s.json, "Parameters", "AuthIssuer")
	if param == nil || dig(s.json, "Parameters", "AuthIssuer", "Type") != "String" {
		t.Fatalf("no AuthIssuer parameter: %v", s.json["Parameters"])
	}
	authorizer := s.resource(t, "AWS::ApiGatewayV2::Authorizer", "HttpApiJwtAuthorizer").Properties
	want := map[string]any{"Issuer": ref("AuthIssuer"), "Audience": []any{"jobs-a", "jobs-b"}}
	if !jsonEqual(authorizer["JwtConfiguration"], want) {
		t.Errorf("authorizer = %v, want %v", authorizer["JwtConfiguration"], want)
	}
	if _, ok := dig(defaultStack.json, "Parameters").(map[string]any)["AuthIssuer"]; ok {
		t.Error("the stack asks for AuthIssuer although the property sets it")
	}
}

func TestStageIsThrottledAndLogsEveryRequest(t *testing.T) {
	for _, c := range []struct {
		name     string
		stack    func(*testing.T) *synthesized
		throttle Throttle
	}{
		{"default", func(*testing.T) *synthesized { return defaultStack }, Throttle{RatePerSecond: 100, Burst: 200}},
		{"property", variant, variantProps.APIThrottle},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.stack(t)
			stage := s.resource(t, "AWS::ApiGatewayV2::Stage", "HttpApiDefaultStage").Properties
			if stage["StageName"] != "$default" || stage["AutoDeploy"] != true {
				t.Errorf("stage %v auto-deploy %v, want $default, auto-deployed", stage["StageName"], stage["AutoDeploy"])
			}
			want := map[string]any{"ThrottlingRateLimit": c.throttle.RatePerSecond, "ThrottlingBurstLimit": c.throttle.Burst}
			if !jsonEqual(stage["DefaultRouteSettings"], want) {
				t.Errorf("stage route settings = %v, want %v", stage["DefaultRouteSettings"], want)
			}
			logs := getAtt(s.logicalID(t, "AWS::Logs::LogGroup", "ApiAccessLogs"), "Arn")
			if !jsonEqual(dig(stage, "AccessLogSettings", "DestinationArn"), logs) {
				t.Errorf("access logs go to %v, want the access log group", dig(stage, "AccessLogSettings", "DestinationArn"))
			}
			var format map[string]string
			if err := json.Unmarshal([]byte(dig(stage, "AccessLogSettings", "Format").(string)), &format); err != nil {
				t.Fatalf("access log format is not JSON: %v", err)
			}
			for field, variable := range map[string]string{"request_id": "$context.requestId", "status": "$context.status", "store_id": "$context.authorizer.claims.store_id"} {
				if format[field] != variable {
					t.Errorf("access log %s = %q, want %q", field, format[field], variable)
				}
			}
		})
	}
}

func TestSchedulesInvokeTheSchedulerWithTheirTask(t *testing.T) {
	defaults := JobsStackProps{}.withDefaults(testStackName).Schedules
	for _, c := range []struct {
		name      string
		stack     func(*testing.T) *synthesized
		schedules Schedules
	}{
		{"default", func(*testing.T) *synthesized { return defaultStack }, defaults},
		{"property", variant, variantProps.Schedules},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.stack(t)
			target := getAtt(s.logicalID(t, "AWS::Lambda::Function", schedulerFn), "Arn")
			want := map[string]string{
				cron.TaskSweep:                c.schedules.Sweep,
				cron.TaskCleanup:              c.schedules.Cleanup,
				cron.TaskDailyCreditDeduction: c.schedules.DailyCreditDeduction,
			}
			rules := s.ofType("AWS::Events::Rule")
			if len(rules) != len(want) {
				t.Errorf("%d rules, want %d", len(rules), len(want))
			}
			for id, rule := range rules {
				targets := list(rule.Properties["Targets"])
				if len(targets) != 1 || !jsonEqual(targets[0].(map[string]any)["Arn"], target) {
					t.Errorf("rule %s targets %v, want the scheduler", id, targets)
					continue
				}
				var input struct{ Task string }
				if err := json.Unmarshal([]byte(targets[0].(map[string]any)["Input"].(string)), &input); err != nil {
					t.Errorf("rule %s input: %v", id, err)
				}
				if schedule, ok := want[input.Task]; !ok || rule.Properties["ScheduleExpression"] != schedule {
					t.Errorf("rule %s runs task %q on %v, want %q", id, input.Task, rule.Properties["ScheduleExpression"], schedule)
				}
				delete(want, input.Task)
				assert(t, func() {
					s.template.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
						"Principal": "events.amazonaws.com", "SourceArn": getAtt(id, "Arn"), "FunctionName": target,
					})
				})
			}
			if len(want) > 0 {
				t.Errorf("no rule for %v", slices.Sorted(maps.Keys(want)))
			}
		})
	}
	if defaults.Sweep != "rate(1 minute)" || defaults.Cleanup != "rate(1 hour)" {
		t.Errorf("default schedules %+v do not follow the configuration's intervals", defaults)
	}
}

func TestAlarmsWatchTheQueueAndNotifyTheTopic(t *testing.T) {
	s := defaultStack
	topic := []any{ref(s.logicalID(t, "AWS::SNS::Topic", "AlarmTopic"))}
	alarms := s.ofType("AWS::CloudWatch::Alarm")
	checked := map[string]bool{}
	check := func(constructID string, want map[string]any) {
		t.Helper()
		id := s.logicalID(t, "AWS::CloudWatch::Alarm", constructID)
		checked[id] = true
		p := alarms[id].Properties
		want["AlarmActions"], want["OKActions"] = topic, topic
		for key, value := range want {
			if !jsonEqual(p[key], value) {
				t.Errorf("%s %s = %v, want %v", constructID, key, p[key], value)
			}
		}
	}
	queueDimension := func(suffix string) []any {
		return []any{map[string]any{"Name": "QueueName", "Value": getAtt(s.queueID(t, suffix), "QueueName")}}
	}
	functionDimension := func(fn string) []any {
		return []any{map[string]any{"Name": "FunctionName", "Value": ref(s.logicalID(t, "AWS::Lambda::Function", fn))}}
	}

	check("DeadLetterMessagesAlarm", map[string]any{
		"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": queueDimension(schema.DeadLetterQueueSuffix),
		"ComparisonOperator": "GreaterThanThreshold", "Threshold": 0,
	})
	maxAge := healthyMessageAge()
	if minimum := config.Defaults().WorkerTimeout + retry.DefaultDelays[len(retry.DefaultDelays)-1]; maxAge < minimum {
		t.Errorf("message age threshold %s would fire on a job retrying after a full invocation (%s)", maxAge, minimum)
	}
	for _, p := range job.Priorities {
		check("OldestMessageAgeAlarm"+pascalCase(p.String()), map[string]any{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage", "Dimensions": queueDimension(schema.PriorityQueueSuffix(p)),
			"ComparisonOperator": "GreaterThanThreshold", "Threshold": maxAge.Seconds(),
		})
	}
	check("WorkerErrorsAlarm", map[string]any{
		"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": functionDimension(workerFn),
		"ComparisonOperator": "GreaterThanThreshold", "Threshold": 0,
	})
	check("WorkerThrottlesAlarm", map[string]any{
		"Namespace": "AWS/Lambda", "MetricName": "Throttles", "Dimensions": functionDimension(workerFn),
		"ComparisonOperator": "GreaterThanThreshold", "Threshold": 0,
	})
	check("SchedulerErrorsAlarm", map[string]any{
		"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": functionDimension(schedulerFn),
		"ComparisonOperator": "GreaterThanOrEqualToThreshold",
	})
	check("JobFailureRateAlarm", map[string]any{
		"ComparisonOperator": "GreaterThanThreshold", "Threshold": 100 * alert.DefaultRules.FailureRate,
	})

	// The failure rate divides the failed by the finished jobs, counted by
	// metric filters on the worker's EMF lines.
	rate := alarms[s.logicalID(t, "AWS::CloudWatch::Alarm", "JobFailureRateAlarm")].Properties
	queries := map[string]map[string]any{}
	for _, q := range list(rate["Metrics"]) {
		q := q.(map[string]any)
		queries[q["Id"].(string)] = q
	}
	for id, metric := range map[string]string{"failed": totalFailed, "completed": totalCompleted} {
		if got := dig(queries[id], "MetricStat", "Metric"); !jsonEqual(got, map[string]any{"MetricName": metric, "Namespace": emf.Namespace}) {
			t.Errorf("failure rate %s = %v, want %s/%s", id, got, emf.Namespace, metric)
		}
	}
	var expression string
	for _, q := range queries {
		if q["ReturnData"] == true {
			expression, _ = q["Expression"].(string)
		}
	}
	if !strings.Contains(expression, "100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(completed, 0))") ||
		!strings.Contains(expression, ">= "+strconv.FormatInt(alert.DefaultRules.MinFinished, 10)) {
		t.Errorf("failure rate expression = %q", expression)
	}
	workerLogs := ref(s.logicalID(t, "AWS::Logs::LogGroup", workerFn+"Logs"))
	for emfName, metric := range map[string]string{emfFailed: totalFailed, emfCompleted: totalCompleted} {
		assert(t, func() {
			s.template.HasResourceProperties(jsii.String("AWS::Logs::MetricFilter"), map[string]any{
				"LogGroupName":  workerLogs,
				"FilterPattern": "{ $." + emfName + " = 1 }",
				"MetricTransformations": []any{map[string]any{
					"MetricNamespace": emf.Namespace, "MetricName": metric, "MetricValue": "1",
				}},
			})
		})
	}

	for id := range alarms {
		if !checked[id] {
			t.Errorf("alarm %s is not checked by this test", id)
		}
	}
}

func TestAlarmTopicAcceptsThisAccountsAlarmsOverTLS(t *testing.T) {
	s := defaultStack
	topic := ref(s.logicalID(t, "AWS::SNS::Topic", "AlarmTopic"))
	assert(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), map[string]any{
			"Topics": []any{topic},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Deny", "Action": "sns:Publish", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				}),
				assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Allow", "Action": "sns:Publish", "Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
					"Condition": assertions.Match_ObjectLike(&map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": ref("AWS::AccountId")}}),
				}),
			})},
		})
	})
}

// resourcelessActions may name no resource: X-Ray has none to name, and
// Translate's TranslateText only custom terminologies, which are not used.
var resourcelessActions = map[string]bool{"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true, "translate:TranslateText": true}

func TestIAMStatementsNameOnlyTheStacksOwnResources(t *testing.T) {
	for _, c := range aiModelCases {
		t.Run(c.name, func(t *testing.T) {
			s := c.stack(t)
			// The one pattern a statement may name of the stack's own: every
			// object of the images bucket, whose keys are the images' content
			// hashes.
			images := objectsOf(s.logicalID(t, "AWS::S3::Bucket", "ImagesBucket"))
			for id, policy := range s.ofType("AWS::IAM::Policy") {
				for _, st := range list(dig(policy.Properties, "PolicyDocument", "Statement")) {
					checkStatementResources(t, s, id, st.(map[string]any), images, c.arns)
				}
			}
			for id, role := range s.ofType("AWS::IAM::Role") {
				if arns, ok := role.Properties["ManagedPolicyArns"]; ok {
					t.Errorf("role %s has managed policies %v", id, arns)
				}
			}
		})
	}
}

// checkStatementResources fails a statement that names an action by
// pattern, or a resource that is neither the stack's own nor the AI model
// (whose ARNs, a cross-region profile's model in every region among them,
// only bedrock:InvokeModel may name).
func checkStatementResources(t *testing.T, s *synthesized, policyID string, st map[string]any, images any, aiModel []any) {
	t.Helper()
	actions := list(st["Action"])
	for _, action := range actions {
		if strings.Contains(action.(string), "*") {
			t.Errorf("policy %s: wildcard action %v", policyID, action)
		}
	}
	for _, res := range list(st["Resource"]) {
		if res == "*" {
			for _, action := range actions {
				if !resourcelessActions[action.(string)] {
					t.Errorf("policy %s: %v on every resource", policyID, action)
				}
			}
			continue
		}
		if slices.ContainsFunc(aiModel, func(arn any) bool { return jsonEqual(res, arn) }) {
			if !jsonEqual(actions, []any{"bedrock:InvokeModel"}) {
				t.Errorf("policy %s: %v on the AI model %v, want only bedrock:InvokeModel", policyID, actions, res)
			}
			continue
		}
		if data, _ := json.Marshal(res); strings.Contains(string(data), "*") && !jsonEqual(res, images) {
			t.Errorf("policy %s: resource %s is a pattern", policyID, data)
		}
		// A resource of the stack's is named through its logical id; the
		// pseudo parameters (AWS::Region, ...) alone name something else.
		ownResource := false
		for _, ref := range referencedIDs(res) {
			_, inStack := s.resources[ref]
			switch {
			case inStack:
				ownResource = true
			case !strings.HasPrefix(ref, "AWS::"):
				t.Errorf("policy %s: resource %v refers to %s, which is not in the stack", policyID, res, ref)
			}
		}
		if !ownResource {
			t.Errorf("policy %s: resource %v is not one of the stack's resources", policyID, res)
		}
	}
}

func TestEachFunctionMayDoOnlyWhatItsCodeDoes(t *testing.T) {
	s := defaultStack
	granted := map[string]grants{}
	for _, fn := range allFunctions {
		granted[fn] = s.grants(t, fn)
	}
	queue := func(suffix string) string { return s.queueID(t, suffix) }
	table := s.logicalID(t, "AWS::DynamoDB::Table", "Table")
	topic := s.logicalID(t, "AWS::SNS::Topic", "AlarmTopic")

	// Every function finds every queue by name when it starts.
	for _, fn := range allFunctions {
		for _, def := range schema.Queues() {
			if !granted[fn].allows("sqs:GetQueueUrl", queue(def.Suffix)) {
				t.Errorf("%s may not look up the %s queue", fn, def.Suffix)
			}
		}
		if !granted[fn].allows("logs:PutLogEvents", s.logicalID(t, "AWS::Logs::LogGroup", fn+"Logs")) {
			t.Errorf("%s may not write to its log group", fn)
		}
		if !granted[fn].allows("dynamodb:UpdateItem", table) {
			t.Errorf("%s may not update the table", fn)
		}
	}
	only := func(owner, action, resource string) {
		t.Helper()
		for _, fn := range allFunctions {
			if got := granted[fn].allows(action, resource); got != (fn == owner) {
				t.Errorf("%s may %s on %s: %v; only the %s should", fn, action, resource, got, owner)
			}
		}
	}
	only(schedulerFn, "sns:Publish", topic)
	only(workerFn, "dynamodb:BatchWriteItem", table)
	only(apiFn, "sqs:ReceiveMessage", queue(schema.DeadLetterQueueSuffix))
	only(workerFn, "sqs:SendMessage", queue(schema.DeadLetterQueueSuffix))
	for _, p := range job.Priorities {
		for _, action := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} {
			only(workerFn, action, queue(schema.PriorityQueueSuffix(p)))
		}
	}
	// The wake queue's mapping consumes it for the worker, which also drops
	// stale wakes and puts the others back itself.
	for _, action := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} {
		only(workerFn, action, queue(schema.WakeQueueSuffix))
	}

	// The catalog: exactly these actions on each resource.
	catalogTable := s.logicalID(t, "AWS::DynamoDB::Table", "CatalogTable")
	bucket := s.logicalID(t, "AWS::S3::Bucket", "ImagesBucket")
	key := s.logicalID(t, "AWS::KMS::Key", "ConnectionsKey")
	for _, c := range []struct {
		resource string
		arn      any
		want     map[string][]string
	}{
		{"catalog table", getAtt(catalogTable, "Arn"), map[string][]string{
			apiFn: {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
			// Imports write in batches; nothing of the worker's deletes an item.
			workerFn: {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		}},
		// The API encrypts credentials as it saves a connection and
		// decrypts them to check one; jobs only decrypt them.
		{"connections key", getAtt(key, "Arn"), map[string][]string{
			apiFn:    {"kms:Decrypt", "kms:GenerateDataKey"},
			workerFn: {"kms:Decrypt"},
		}},
		// The API signs URLs to read images; the worker only stores them.
		{"images", objectsOf(bucket), map[string][]string{
			apiFn:    {"s3:GetObject"},
			workerFn: {"s3:PutObject"},
		}},
		// Nobody lists the bucket.
		{"images bucket", getAtt(bucket, "Arn"), map[string][]string{}},
	} {
		for _, fn := range allFunctions {
			if got := granted[fn].on(c.arn); !slices.Equal(got, c.want[fn]) {
				t.Errorf("%s may %v on the %s, want %v", fn, got, c.resource, c.want[fn])
			}
		}
	}
	for _, fn := range allFunctions {
		got := granted[fn].on("*")
		want := []string{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}
		if fn == workerFn {
			want = []string{"translate:TranslateText", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s may %v on every resource, want %v", fn, got, want)
		}
	}
	if got := granted[apiFn].indexes(catalogTable); len(got) > 0 {
		t.Errorf("the API may query the catalog table's indexes %v; it has none", got)
	}

	wantIndexes := map[string][]string{
		apiFn:       {schema.AllJobsIndex, schema.StoreIndex, schema.FinishedIndex},
		workerFn:    {schema.CleanupIndex},
		schedulerFn: {schema.DueIndex},
	}
	var all []string
	for _, fn := range allFunctions {
		got := granted[fn].indexes(table)
		if !slices.Equal(got, wantIndexes[fn]) {
			t.Errorf("%s may query the indexes %v, want %v", fn, got, wantIndexes[fn])
		}
		all = append(all, got...)
	}
	for _, index := range schema.Table.Indexes {
		if !slices.Contains(all, index.Name) {
			t.Errorf("no function may query the index %s", index.Name)
		}
	}
}

func TestOutputsNameTheDeployedResources(t *testing.T) {
	s := defaultStack
	outputs, _ := s.json["Outputs"].(map[string]any)
	want := map[string]any{
		"TableName":         ref(s.logicalID(t, "AWS::DynamoDB::Table", "Table")),
		"AlarmTopicArn":     ref(s.logicalID(t, "AWS::SNS::Topic", "AlarmTopic")),
		"CatalogTableName":  ref(s.logicalID(t, "AWS::DynamoDB::Table", "CatalogTable")),
		"ImagesBucketName":  ref(s.logicalID(t, "AWS::S3::Bucket", "ImagesBucket")),
		"ConnectionsKeyArn": getAtt(s.logicalID(t, "AWS::KMS::Key", "ConnectionsKey"), "Arn"),
	}
	for _, def := range schema.Queues() {
		want["QueueUrl"+pascalCase(def.Suffix)] = ref(s.queueID(t, def.Suffix))
	}
	for name, value := range want {
		if got := dig(outputs, name, "Value"); !jsonEqual(got, value) {
			t.Errorf("output %s = %v, want %v", name, got, value)
		}
	}
	api := s.logicalID(t, "AWS::ApiGatewayV2::Api", "HttpApi")
	if url, _ := json.Marshal(dig(outputs, "ApiUrl", "Value")); !strings.Contains(string(url), `"Ref":"`+api+`"`) {
		t.Errorf("output ApiUrl = %s, want the HTTP API's URL", url)
	}
}

func TestDashboardShowsDepthRunningOutcomesAndDuration(t *testing.T) {
	s := defaultStack
	data, _ := json.Marshal(s.single(t, "AWS::CloudWatch::Dashboard").Properties["DashboardBody"])
	body := string(data)
	for _, want := range []string{
		"ApproximateNumberOfMessagesVisible", "ConcurrentExecutions", totalCompleted, totalFailed,
		`MetricName=\\\"` + emfDuration + `\\\"', 'p50'`, `MetricName=\\\"` + emfDuration + `\\\"', 'p95'`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard has no %s", want)
		}
	}
	for _, p := range job.Priorities {
		if !strings.Contains(body, s.queueID(t, schema.PriorityQueueSuffix(p))) {
			t.Errorf("dashboard does not show the %s queue", p)
		}
	}
}

func TestContextSetsTheStackProperties(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{
		"authIssuer":                   testIssuer,
		"authAudience":                 "jobs-a, jobs-b",
		"workerConcurrency":            7, // a JSON number, as cdk.json gives it
		"alarmEmail":                   "ops@example.com",
		"creditsLedgerUrl":             variantProps.CreditsLedgerURL,
		"creditsLedgerTokenSecret":     variantProps.CreditsLedgerTokenSecret,
		"aiModelId":                    variantProps.AIModelID,
		"imagesPublicUrl":              variantProps.ImagesPublicURL,
		"deletionProtection":           "false", // a string, as -c gives it
		"lambdaArchitecture":           "x86_64",
		"sweepSchedule":                "rate(2 minutes)",
		"cleanupSchedule":              "rate(3 hours)",
		"dailyCreditDeductionSchedule": "cron(30 1 * * ? *)",
	}})
	props, err := appContext{app}.props()
	if err != nil {
		t.Fatal(err)
	}
	if props.AuthIssuer != testIssuer || !slices.Equal(props.AuthAudience, []string{"jobs-a", "jobs-b"}) ||
		props.WorkerConcurrency != 7 || props.AlarmEmail != "ops@example.com" || props.DeletionProtection == nil || *props.DeletionProtection ||
		*props.Architecture.Name() != "x86_64" || props.Schedules != variantProps.Schedules ||
		props.CreditsLedgerURL != variantProps.CreditsLedgerURL || props.CreditsLedgerTokenSecret != variantProps.CreditsLedgerTokenSecret ||
		props.AIModelID != variantProps.AIModelID || props.ImagesPublicURL != variantProps.ImagesPublicURL {
		t.Errorf("props = %+v", props)
	}

	for key, value := range map[string]any{"workerConcurrency": "1", "deletionProtection": "maybe", "lambdaArchitecture": "386"} {
		app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{key: value}})
		if _, err := (appContext{app}).props(); err == nil {
			t.Errorf("%s=%v accepted", key, value)
		}
	}
}

func TestRateExpression(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute: "rate(1 minute)", 5 * time.Minute: "rate(5 minutes)",
		time.Hour: "rate(1 hour)", 3 * time.Hour: "rate(3 hours)", 90 * time.Minute: "rate(90 minutes)",
	} {
		if got := rateExpression(d); got != want {
			t.Errorf("rateExpression(%s) = %q, want %q", d, got, want)
		}
	}
}
