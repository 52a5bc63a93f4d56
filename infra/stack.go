package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dainostore/jobs/internal/schema"
)

// NewJobsStack creates the whole deployment: the jobs table, the queues,
// the catalog's table, images bucket and connections key, the three
// functions, the HTTP API, the schedules, the alarm topic, the alarms and
// the dashboard. The stack is environment-agnostic: synthesis needs no
// AWS credentials and makes no lookups.
func NewJobsStack(scope constructs.Construct, id string, props JobsStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	props = props.withDefaults(*stack.StackName())

	res := resources{
		table:          newTable(stack, props.DeletionProtection),
		queues:         newQueues(stack, props.QueuePrefix),
		alarmTopic:     newAlarmTopic(stack, props.AlarmEmail),
		catalogTable:   newCatalogTable(stack, props.DeletionProtection),
		connectionsKey: newConnectionsKey(stack, *stack.StackName()),
		imagesBucket:   newImagesBucket(stack),
		aiModel:        props.AIModelID,
	}
	fns := newFunctions(stack, props, res)
	stage := newHTTPAPI(stack, props, fns.api)
	newSchedules(stack, props.Schedules, fns.scheduler)
	newMonitoring(stack, props, res.queues, fns, res.alarmTopic)

	output := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
	}
	output("ApiUrl", stage.Url(), "The HTTP API's URL: the API under /api/, the dashboard under /dashboard.")
	output("TableName", res.table.TableName(), "The DynamoDB table (JOBS_TABLE_NAME).")
	output("CatalogTableName", res.catalogTable.TableName(), "The catalog's DynamoDB table (JOBS_CATALOG_TABLE_NAME).")
	output("ImagesBucketName", res.imagesBucket.BucketName(), "The catalog's images bucket (JOBS_IMAGES_BUCKET).")
	output("ConnectionsKeyArn", res.connectionsKey.KeyArn(), "The KMS key of the marketplace credentials (JOBS_CONNECTIONS_KEY_ID).")
	output("AlarmTopicArn", res.alarmTopic.TopicArn(), "The SNS topic of the alarms and alerts (JOBS_ALARM_TOPIC_ARN).")
	for _, def := range schema.Queues() {
		output("QueueUrl"+pascalCase(def.Suffix), res.queues.bySuffix(def.Suffix).QueueUrl(), "The "+def.Suffix+" queue.")
	}
	return stack
}
