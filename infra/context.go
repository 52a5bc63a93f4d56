package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// appContext reads the stack's properties from the CDK context. A value
// given with -c is a string; one from cdk.json may be a JSON number,
// boolean or list.
type appContext struct{ app awscdk.App }

func (c appContext) value(key string) (string, bool) {
	switch v := c.app.Node().TryGetContext(jsii.String(key)).(type) {
	case nil:
		return "", false
	case string:
		return v, v != ""
	case []any:
		parts := make([]string, len(v))
		for i, part := range v {
			parts[i] = fmt.Sprint(part)
		}
		return strings.Join(parts, ","), len(parts) > 0
	default:
		return fmt.Sprint(v), true
	}
}

func (c appContext) string(key, fallback string) string {
	if v, ok := c.value(key); ok {
		return v
	}
	return fallback
}

// props reads every property the context sets; the rest keep their defaults.
func (c appContext) props() (JobsStackProps, error) {
	props := JobsStackProps{
		AuthIssuer:               c.string("authIssuer", ""),
		AlarmEmail:               c.string("alarmEmail", ""),
		CreditsLedgerURL:         c.string("creditsLedgerUrl", ""),
		CreditsLedgerTokenSecret: c.string("creditsLedgerTokenSecret", ""),
		AIModelID:                c.string("aiModelId", ""),
		ImagesPublicURL:          c.string("imagesPublicUrl", ""),
		Schedules: Schedules{
			Sweep:                c.string("sweepSchedule", ""),
			Cleanup:              c.string("cleanupSchedule", ""),
			DailyCreditDeduction: c.string("dailyCreditDeductionSchedule", ""),
		},
	}
	if v, ok := c.value("authAudience"); ok {
		for _, audience := range strings.Split(v, ",") {
			if audience = strings.TrimSpace(audience); audience != "" {
				props.AuthAudience = append(props.AuthAudience, audience)
			}
		}
	}
	if v, ok := c.value("workerConcurrency"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			return props, fmt.Errorf("workerConcurrency=%q is not a number of at least 2", v)
		}
		props.WorkerConcurrency = n
	}
	switch v, _ := c.value("lambdaArchitecture"); v {
	case "":
	case "arm64":
		props.Architecture = awslambda.Architecture_ARM_64()
	case "x86_64":
		props.Architecture = awslambda.Architecture_X86_64()
	default:
		return props, fmt.Errorf("lambdaArchitecture=%q is not arm64 or x86_64", v)
	}
	if v, ok := c.value("deletionProtection"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return props, fmt.Errorf("deletionProtection=%q is not true or false", v)
		}
		props.DeletionProtection = jsii.Bool(b)
	}
	return props, nil
}
