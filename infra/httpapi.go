package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/dainostore/jobs/docs"
)

// route is one route of the HTTP API.
type route struct {
	Method string // GET, POST, ...
	Path   string // /api/background-jobs/{id}
	Public bool   // no token needed
}

// dashboardRoutes are the dashboard's pages and assets, which the API
// function serves without a token (the pages are the same for everyone and
// call the API with the viewer's token), so a browser can open them.
var dashboardRoutes = []route{
	{Method: "GET", Path: "/dashboard", Public: true},
	{Method: "GET", Path: "/dashboard/{proxy+}", Public: true},
}

// routes are the API's routes as its contract, docs/openapi.json, lists
// them, then the dashboard's. The API's tests check that the document
// describes exactly the routes the API serves; path parameters are written
// the same way in OpenAPI and API Gateway, but for one that spans several
// segments, which API Gateway writes {key+}. Exact routes rather than
// a catch-all: API Gateway answers unknown paths itself, without invoking
// the function, and no route goes without the authorizer by accident.
func routes() []route {
	return append(documentRoutes(docs.OpenAPI), dashboardRoutes...)
}

// documentRoutes are the operations of an OpenAPI document. Every path
// under /api/ needs a token, whatever its part of the API (background jobs,
// the catalog, marketplace connections); elsewhere an operation is public
// when it overrides the document's security with none (/healthz). An /api/
// operation that says it needs no token fails synthesis: the document and
// the deployment would disagree about who may call it.
func documentRoutes(document []byte) []route {
	// A path item's other keys (parameters, summary, ...) are not
	// operations and may be of any type.
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(document, &doc); err != nil {
		panic(fmt.Sprintf("docs/openapi.json: %v", err))
	}
	var list []route
	for _, path := range slices.Sorted(maps.Keys(doc.Paths)) {
		item := doc.Paths[path]
		var shared []parameter
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				panic(fmt.Sprintf("docs/openapi.json: %s: parameters: %v", path, err))
			}
		}
		for _, method := range slices.Sorted(maps.Keys(item)) {
			if !httpMethods[method] {
				continue
			}
			var operation struct {
				Security   *[]any      `json:"security"`
				Parameters []parameter `json:"parameters"`
			}
			if err := json.Unmarshal(item[method], &operation); err != nil {
				panic(fmt.Sprintf("docs/openapi.json: %s %s: %v", method, path, err))
			}
			noToken := operation.Security != nil && len(*operation.Security) == 0
			if noToken && strings.HasPrefix(path, "/api/") {
				panic(fmt.Sprintf("docs/openapi.json: %s %s needs no token, but every /api/ route has the JWT authorizer", strings.ToUpper(method), path))
			}
			list = append(list, route{Method: strings.ToUpper(method), Path: gatewayPath(path, slices.Concat(shared, operation.Parameters)), Public: noToken})
		}
	}
	return list
}

// parameter is what the routes need of an OpenAPI parameter.
type parameter struct {
	Name string `json:"name"`
	In   string `json:"in"`
	// Greedy (x-greedy) marks a path parameter that spans several
	// segments, such as an image's key stores/<store>/images/<name>.
	Greedy bool `json:"x-greedy"`
}

// gatewayPath is a document's path as API Gateway routes it: a greedy
// parameter {key} is its greedy path variable {key+}, which API Gateway
// allows only as the last segment (synthesis fails on any other).
func gatewayPath(path string, parameters []parameter) string {
	for _, p := range parameters {
		if p.In != "path" || !p.Greedy {
			continue
		}
		variable := "{" + p.Name + "}"
		if !strings.HasSuffix(path, "/"+variable) {
			panic(fmt.Sprintf("docs/openapi.json: %s: the greedy path parameter %s must be the path's last segment", path, variable))
		}
		path = strings.TrimSuffix(path, variable) + "{" + p.Name + "+}"
	}
	return path
}

// httpMethods are the keys of an OpenAPI path item that are operations.
var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true}

// newHTTPAPI creates the HTTP API in front of the API function.
//
// Every route but the public ones (/healthz, the dashboard's pages), so
// every /api/ route, has the JWT authorizer: API Gateway checks the token's
// signature, expiry, issuer and audience and passes all its claims to the
// function in requestContext.authorizer.jwt.claims, where auth.Gateway
// reads sub, store_id and scope (jobs:admin for operators). The function
// refuses a request without those claims, so the routes stay closed even if
// a route lost its authorizer.
func newHTTPAPI(scope constructs.Construct, props JobsStackProps, fn awslambda.IFunction) awsapigatewayv2.HttpStage {
	httpAPI := awsapigatewayv2.NewHttpApi(scope, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description: jsii.String("Background jobs: the API and the dashboard."),
		// The $default stage is created below, with throttling and access logs.
		CreateDefaultStage: jsii.Bool(false),
	})
	authorizer := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("JwtAuthorizer"), authIssuer(scope, props.AuthIssuer),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{
			JwtAudience:    jsii.Strings(props.AuthAudience...),
			IdentitySource: jsii.Strings("$request.header.Authorization"),
		})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiFunction"), fn,
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
			// lambdaadapter.HTTP reads payload format 2.0.
			PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
		})
	for _, r := range routes() {
		var routeAuthorizer awsapigatewayv2.IHttpRouteAuthorizer = authorizer
		if r.Public {
			routeAuthorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
		}
		httpAPI.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: integration,
			Authorizer:  routeAuthorizer,
		})
	}

	accessLogs := awslogs.NewLogGroup(scope, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{Retention: props.LogRetention})
	return httpAPI.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		// Limits for the whole stage, so a misbehaving client cannot run up
		// the table's on-demand bill or crowd out other stores; each store's
		// job creation is limited separately by the API (JOBS_CREATE_RATE_LIMIT).
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(props.APIThrottle.RatePerSecond),
			BurstLimit: jsii.Number(props.APIThrottle.Burst),
		},
		AccessLogSettings: &accessLogSettings{
			destination: awsapigatewayv2.NewLogGroupLogDestination(accessLogs),
			format:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat())),
		},
	})
}

// authIssuer is the issuer the authorizer accepts: the property, or else a
// template parameter that must be given at deployment.
func authIssuer(scope constructs.Construct, issuer string) *string {
	if issuer != "" {
		return jsii.String(issuer)
	}
	param := awscdk.NewCfnParameter(awscdk.Stack_Of(scope), jsii.String("AuthIssuer"), &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Description:           jsii.String("The JWT issuer the API accepts: an https URL that serves /.well-known/openid-configuration."),
		AllowedPattern:        jsii.String("^https://.+"),
		ConstraintDescription: jsii.String("must be an https URL"),
	})
	return param.ValueAsString()
}

// accessLogFormat is one JSON object per request: who (the token's subject
// and store), what (route, status, latency) and, for failures, why (the
// authorizer's or the integration's error).
func accessLogFormat() string {
	fields := map[string]string{
		"request_id":        "$context.requestId",
		"time":              "$context.requestTime",
		"ip":                "$context.identity.sourceIp",
		"user_agent":        "$context.identity.userAgent",
		"method":            "$context.httpMethod",
		"path":              "$context.path",
		"route":             "$context.routeKey",
		"status":            "$context.status",
		"protocol":          "$context.protocol",
		"response_length":   "$context.responseLength",
		"latency_ms":        "$context.responseLatency",
		"integration_ms":    "$context.integrationLatency",
		"integration_error": "$context.integrationErrorMessage",
		"authorizer_error":  "$context.authorizer.error",
		"subject":           "$context.authorizer.claims.sub",
		"store_id":          "$context.authorizer.claims.store_id",
	}
	data, err := json.Marshal(fields) // sorted keys: a stable template
	if err != nil {
		panic(err)
	}
	return string(data)
}

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings.
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

func (s *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination { return s.destination }
func (s *accessLogSettings) Format() awsapigateway.AccessLogFormat              { return s.format }
