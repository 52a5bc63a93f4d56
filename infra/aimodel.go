package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// crossRegionGeographies are the prefixes of Bedrock's cross-region
// (system-defined) inference profiles: "us.amazon.nova-lite-v1:0" routes
// amazon.nova-lite-v1:0 to the regions of the US geography, "global." to
// every commercial region.
var crossRegionGeographies = []string{"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"}

// crossRegionProfile splits the id of a cross-region inference profile into
// its geography and the model it routes to; ok is false for a model id.
func crossRegionProfile(modelID string) (geography, model string, ok bool) {
	prefix, rest, found := strings.Cut(modelID, ".")
	if found && slices.Contains(crossRegionGeographies, prefix) {
		return prefix, rest, true
	}
	return "", "", false
}

// aiModelArns are the resources on which bedrock:InvokeModel lets the
// worker call modelID. A model id is one foundation model, in the stack's
// region. A cross-region inference profile is authorized twice: on the
// profile, in the stack's region, and on its model in the region Bedrock
// routes the call to, which may be any of the geography's, so the model is
// allowed in every region. modelID has passed checkAIModelID.
func aiModelArns(stack awscdk.Stack, modelID string) []*string {
	foundationModel := func(region *string, id string) *string {
		return stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("bedrock"),
			Region:       region, // nil: the stack's
			Account:      jsii.String(""),
			Resource:     jsii.String("foundation-model"),
			ResourceName: jsii.String(id),
			ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		})
	}
	_, model, isProfile := crossRegionProfile(modelID)
	if !isProfile {
		return []*string{foundationModel(nil, modelID)}
	}
	profile := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("bedrock"),
		Resource:     jsii.String("inference-profile"),
		ResourceName: jsii.String(modelID),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	return []*string{profile, foundationModel(jsii.String("*"), model)}
}

// checkAIModelID refuses what would make the worker's policy name more than
// one model, or a resource that is not a model: a pattern, a path, or an
// ARN (an application inference profile's, which this stack does not
// support).
func checkAIModelID(modelID string) {
	if modelID == "" || strings.ContainsAny(modelID, "*/ \t\n") || strings.HasPrefix(modelID, "arn:") {
		panic(fmt.Sprintf("AIModelID %q is not the id of a Bedrock model or of a cross-region inference profile", modelID))
	}
}
