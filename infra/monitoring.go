package main

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dainostore/jobs/internal/alert"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/emf"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/retry"
)

// The EMF metrics the worker prints per outcome (internal/worker), in
// namespace emf.Namespace with the dimensions JobType and Priority.
const (
	emfCompleted = "JobsCompleted"
	emfFailed    = "JobsFailed"
	emfDuration  = "Duration" // milliseconds since the job first started
)

// The worker's EMF lines carry only the JobType and Priority dimensions,
// and an alarm's metric math can name at most 10 metrics, fewer than job
// types times priorities. So metric filters on the worker's log group
// count the same lines once more, without dimensions, under these names.
const (
	totalCompleted = "JobsCompletedTotal"
	totalFailed    = "JobsFailedTotal"
)

// failureRateWindow is about the window of the sweep's own per-type
// failure-rate alert (store.RecentOutcomes: this hour and the last), used
// for the stack-wide alarm.
const failureRateWindow = 2 * time.Hour

// healthyMessageAge is the oldest a job message can be while all is well.
// A message lives from its enqueue until its job ends or continues: each
// attempt runs for at most one invocation (a continuation sends a new
// message), and between attempts it waits the retry delays. An older
// message means a job is waiting for a worker that does not come (or a
// rate-limited job waits longer than the schedule, which is worth a look
// too).
func healthyMessageAge() time.Duration {
	delays := retry.DefaultDelays
	age := time.Duration(len(delays)+1) * config.Defaults().WorkerTimeout
	for _, d := range delays {
		age += d
	}
	return (age + time.Minute - 1).Truncate(time.Minute) // whole minutes, rounded up
}

// minutes writes a duration of whole minutes for people.
func minutes(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}

// newAlarmTopic creates the topic that receives the CloudWatch alarms and
// the sweep's alerts (JOBS_ALARM_TOPIC_ARN).
func newAlarmTopic(scope constructs.Construct, email string) awssns.Topic {
	topic := awssns.NewTopic(scope, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Background jobs alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	// The topic policy that EnforceSSL adds replaces SNS's default policy,
	// which is what let CloudWatch alarms of this account publish; say so
	// again, for this account's alarms only.
	stack := awscdk.Stack_Of(scope)
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
			"ArnLike": map[string]any{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String("*"),
				ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
			})},
		},
	}))
	if email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	return topic
}

// metricOptions is a statistic over a period, with an optional label.
func metricOptions(statistic string, period time.Duration, label string) *awscloudwatch.MetricOptions {
	o := &awscloudwatch.MetricOptions{Statistic: jsii.String(statistic), Period: seconds(period)}
	if label != "" {
		o.Label = jsii.String(label)
	}
	return o
}

// monitoring creates the alarms and the dashboard.
type monitoring struct {
	scope  constructs.Construct
	action awscloudwatch.IAlarmAction
}

// alarm creates an alarm that notifies the topic when it fires and when it
// recovers. Missing data is not a breach: idle queues and functions
// publish nothing.
func (m monitoring) alarm(id, description string, metric awscloudwatch.IMetric, op awscloudwatch.ComparisonOperator, threshold float64) {
	a := awscloudwatch.NewAlarm(m.scope, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(description),
		Metric:             metric,
		ComparisonOperator: op,
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	a.AddAlarmAction(m.action)
	a.AddOkAction(m.action)
}

func newMonitoring(scope constructs.Construct, props JobsStackProps, q queues, fns functions, topic awssns.ITopic) {
	m := monitoring{scope: scope, action: awscloudwatchactions.NewSnsAction(topic)}

	m.alarm("DeadLetterMessagesAlarm",
		"Messages in the dead-letter queue: a job message that can never be processed (GET /api/background-jobs/dead-letters says why).",
		q.deadLetter.MetricApproximateNumberOfMessagesVisible(metricOptions("Maximum", time.Minute, "")),
		awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, 0)

	maxAge := healthyMessageAge()
	for _, p := range job.Priorities {
		m.alarm("OldestMessageAgeAlarm"+pascalCase(p.String()),
			fmt.Sprintf("The oldest message in the %s queue is older than %s, longer than a job takes with every retry: jobs are waiting for workers.", p, minutes(maxAge)),
			q.priority[p].MetricApproximateAgeOfOldestMessage(metricOptions("Maximum", 5*time.Minute, "")),
			awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, maxAge.Seconds())
	}

	// A worker invocation whose run fails returns batch item failures, not
	// an error: Errors counts crashes, panics outside a job and timeouts.
	m.alarm("WorkerErrorsAlarm", "Worker invocations crashed or timed out.",
		fns.worker.MetricErrors(metricOptions("Sum", 5*time.Minute, "")), awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, 0)
	// The mapping's maximum concurrency equals the reserved concurrency, so
	// a throttle means the two have come apart.
	m.alarm("WorkerThrottlesAlarm", "Worker invocations were throttled: the wake queue's maximum concurrency exceeds the reserved concurrency.",
		fns.worker.MetricThrottles(metricOptions("Sum", 5*time.Minute, "")), awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, 0)
	// The sweep runs every minute and is what recovers lost messages; two
	// failures in five minutes are no longer a passing blip.
	m.alarm("SchedulerErrorsAlarm", "Scheduled tasks (the sweep, system job creation) are failing.",
		fns.scheduler.MetricErrors(metricOptions("Sum", 5*time.Minute, "")), awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 2)

	completed, failed := countOutcomes(scope, fns.worker.LogGroup())
	rules := alert.DefaultRules
	m.alarm("JobFailureRateAlarm",
		fmt.Sprintf("More than %.0f%% of the jobs that finished in the last %s failed (of at least %d).", 100*rules.FailureRate, minutes(failureRateWindow), rules.MinFinished),
		awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(fmt.Sprintf("IF(FILL(failed, 0) + FILL(completed, 0) >= %d, 100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(completed, 0)), 0)", rules.MinFinished)),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"completed": completed.With(metricOptions("Sum", failureRateWindow, "")),
				"failed":    failed.With(metricOptions("Sum", failureRateWindow, "")),
			},
			Period: seconds(failureRateWindow),
			Label:  jsii.String("Failed jobs (%)"),
		}),
		awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, 100*rules.FailureRate)

	newDashboard(scope, props, q, fns, completed, failed)
}

// countOutcomes derives the all-types counts of completed and failed jobs
// from the worker's EMF lines.
func countOutcomes(scope constructs.Construct, workerLogs awslogs.ILogGroup) (completed, failed awscloudwatch.Metric) {
	count := func(emfName, total string) awscloudwatch.Metric {
		filter := awslogs.NewMetricFilter(scope, jsii.String(total+"Filter"), &awslogs.MetricFilterProps{
			LogGroup:        workerLogs,
			FilterPattern:   awslogs.FilterPattern_NumberValue(jsii.String("$."+emfName), jsii.String("="), jsii.Number(1)),
			MetricNamespace: jsii.String(emf.Namespace),
			MetricName:      jsii.String(total),
			MetricValue:     jsii.String("1"),
			Unit:            awscloudwatch.Unit_COUNT,
		})
		return filter.Metric(nil)
	}
	return count(emfCompleted, totalCompleted), count(emfFailed, totalFailed)
}

// newDashboard shows the queue at a glance: what waits per priority, what
// runs, what finishes and fails, how long jobs take.
func newDashboard(scope constructs.Construct, props JobsStackProps, q queues, fns functions, completed, failed awscloudwatch.Metric) {
	perPriority := func(queueMetric string) []awscloudwatch.IMetric {
		list := make([]awscloudwatch.IMetric, 0, len(job.Priorities))
		for _, p := range job.Priorities {
			list = append(list, q.priority[p].Metric(jsii.String(queueMetric), metricOptions("Maximum", time.Minute, p.String())))
		}
		return list
	}
	// byType graphs an EMF metric per job type and priority: whatever
	// types the worker has reported.
	byType := func(metric, statistic string) awscloudwatch.IMetric {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,JobType,Priority} MetricName="%s"', '%s', 300)`, emf.Namespace, metric, statistic)),
			Label:      jsii.String(statistic),
			Period:     seconds(5 * time.Minute),
		})
	}
	graph := func(title string, left []awscloudwatch.IMetric, annotations ...*awscloudwatch.HorizontalAnnotation) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &left, LeftAnnotations: &annotations,
			Width: jsii.Number(12), Height: jsii.Number(6),
		})
	}

	dashboard := awscloudwatch.NewDashboard(scope, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	dashboard.AddWidgets(
		graph("Jobs waiting, by priority", perPriority("ApproximateNumberOfMessagesVisible")),
		graph("Jobs running or waiting to retry, by priority", perPriority("ApproximateNumberOfMessagesNotVisible")),
	)
	dashboard.AddWidgets(
		graph("Workers running",
			[]awscloudwatch.IMetric{fns.worker.Metric(jsii.String("ConcurrentExecutions"), metricOptions("Maximum", time.Minute, "running"))},
			&awscloudwatch.HorizontalAnnotation{Value: jsii.Number(props.WorkerConcurrency), Label: jsii.String("reserved concurrency")}),
		graph("Jobs completed and failed per minute", []awscloudwatch.IMetric{
			completed.With(metricOptions("Sum", time.Minute, "completed")),
			failed.With(metricOptions("Sum", time.Minute, "failed")),
		}),
	)
	dashboard.AddWidgets(
		graph("Job duration p50 and p95 (ms), by type and priority", []awscloudwatch.IMetric{byType(emfDuration, "p50"), byType(emfDuration, "p95")}),
		graph("Failed jobs per 5 minutes, by type and priority", []awscloudwatch.IMetric{byType(emfFailed, "Sum")}),
	)
	dashboard.AddWidgets(
		graph("Dead-letter messages", []awscloudwatch.IMetric{
			q.deadLetter.MetricApproximateNumberOfMessagesVisible(metricOptions("Maximum", time.Minute, "messages")),
		}),
		graph("Function errors and throttles", []awscloudwatch.IMetric{
			fns.worker.MetricErrors(metricOptions("Sum", 5*time.Minute, "worker errors")),
			fns.worker.MetricThrottles(metricOptions("Sum", 5*time.Minute, "worker throttles")),
			fns.api.MetricErrors(metricOptions("Sum", 5*time.Minute, "API errors")),
			fns.scheduler.MetricErrors(metricOptions("Sum", 5*time.Minute, "scheduler errors")),
		}),
	)
}
