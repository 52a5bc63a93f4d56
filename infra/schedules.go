package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newSchedules creates one EventBridge rule per scheduled task, each
// invoking the scheduler function with {"task": "<name>"}
// (lambdaadapter.ScheduledEvent).
func newSchedules(scope constructs.Construct, schedules Schedules, fn awslambda.IFunction) {
	for _, t := range schedules.tasks() {
		awsevents.NewRule(scope, jsii.String("Schedule"+pascalCase(t.Task)), &awsevents.RuleProps{
			Description: jsii.String("Runs the scheduled task " + t.Task + "."),
			Schedule:    awsevents.Schedule_Expression(jsii.String(t.Schedule)),
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
				Event: awsevents.RuleTargetInput_FromObject(map[string]string{"task": t.Task}),
			})},
		})
	}
}
