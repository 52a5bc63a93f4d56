package lambdaadapter_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dainostore/jobs/internal/lambdaadapter"
)

func ExampleHTTP() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/background-jobs/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		owner := "anonymous"
		if ev, ok := lambdaadapter.RequestFromContext(r.Context()); ok {
			if a := ev.RequestContext.Authorizer; a != nil && a.JWT != nil {
				owner = a.JWT.Claims["sub"]
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"status":"running","owner":%q}`, r.PathValue("id"), owner)
	})

	// In the Lambda entry point: lambda.Start(lambdaadapter.HTTP(mux))
	handler := lambdaadapter.HTTP(mux)

	resp, err := handler(context.Background(), events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "GET /api/background-jobs/{id}/status",
		RawPath:  "/api/background-jobs/job_42/status",
		Headers:  map[string]string{"host": "api.jobs.example.com", "accept": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
					Claims: map[string]string{"sub": "user_42"},
				},
			},
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:   "GET",
				Path:     "/api/background-jobs/job_42/status",
				Protocol: "HTTP/1.1",
				SourceIP: "203.0.113.10",
			},
		},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(resp.StatusCode, resp.Headers["Content-Type"], resp.IsBase64Encoded)
	fmt.Println(resp.Body)
	// Output:
	// 200 application/json false
	// {"id":"job_42","status":"running","owner":"user_42"}
}
