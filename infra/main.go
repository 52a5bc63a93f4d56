// Command infra is the CDK app of the background-jobs deployment. The CDK
// CLI builds it and runs it in the repository's root (cdk.json, `make
// synth`); the stack's properties come from the context (cdk.json, or
// -c key=value):
//
//	stackName            the stack's name (default BackgroundJobs), also the queues' prefix
//	authIssuer           the JWT issuer (default: the template parameter AuthIssuer)
//	authAudience         the JWT audiences, comma-separated (default background-jobs)
//	workerConcurrency    jobs running at once (default 5)
//	alarmEmail           an address subscribed to the alarm topic
//	creditsLedgerUrl     the credits ledger of system:daily_credit_deduction and
//	                     of the exports' AI optimization
//	creditsLedgerTokenSecret
//	                     the Secrets Manager secret holding the ledger's token
//	aiModelId            the Bedrock model or cross-region inference profile of
//	                     the exports' AI optimization (default amazon.nova-lite-v1:0)
//	imagesPublicUrl      where marketplaces fetch the catalog's images (a CDN)
//	deletionProtection   the tables' deletion protection (default true)
//	lambdaArchitecture   arm64 (default) or x86_64, as `make build` built them
//	sweepSchedule, cleanupSchedule, dailyCreditDeductionSchedule
//	                     EventBridge schedule expressions
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	ctx := appContext{app}
	props, err := ctx.props()
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
	NewJobsStack(app, ctx.string("stackName", "BackgroundJobs"), props)
	app.Synth(nil)
}
