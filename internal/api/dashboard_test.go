package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/lambdaadapter"
	"github.com/dainostore/jobs/internal/testenv"
)

// The dashboards' pages are public (they hold no data: the browser calls
// the API with the viewer's token), while every API route still needs a
// token. Deployed, API Gateway routes /dashboard without its authorizer.
func TestDashboardsArePublicAndTheAPIIsNot(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	for _, path := range []string{"/dashboard/", "/dashboard/jobs", "/dashboard/jobs/any-id", "/dashboard/assets/common.js"} {
		rec := httptest.NewRecorder()
		a.API.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s without a token: %d, want 200", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	a.API.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dashboard/", nil))
	if !strings.Contains(rec.Body.String(), `"type":"dev:simulate"`) {
		t.Errorf("the store view does not offer the registered job types")
	}
	for _, route := range a.API.Routes() {
		if route.Public {
			continue
		}
		method, path, _ := strings.Cut(route.Pattern, " ")
		rec := httptest.NewRecorder()
		a.API.ServeHTTP(rec, httptest.NewRequest(method, strings.ReplaceAll(path, "{id}", "x"), nil))
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", route.Pattern, rec.Code)
		}
		if strings.HasPrefix(path, "/dashboard") {
			t.Errorf("%s: API routes must stay out of /dashboard, which is served without a token", route.Pattern)
		}
	}
}

// The API Lambda serves the dashboards as the local process does: API
// Gateway routes /dashboard to it without the authorizer, so the event
// carries no claims.
func TestTheAPILambdaServesTheDashboardsWithoutClaims(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{Authenticator: auth.Gateway{}})
	lambda := lambdaadapter.HTTP(a.HTTP)
	request := func(path string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		resp, err := lambda(t.Context(), events.APIGatewayV2HTTPRequest{
			Version: "2.0", RawPath: path, Headers: map[string]string{"host": "jobs.example.com"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodGet, Path: path}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, path := range []string{"/dashboard/", "/dashboard/jobs", "/dashboard/assets/vendor/uplot/uPlot.esm.js"} {
		resp := request(path)
		if resp.StatusCode != http.StatusOK || resp.IsBase64Encoded || len(resp.Body) < 100 {
			t.Errorf("GET %s through the Lambda: %d (base64 %v, %d bytes)", path, resp.StatusCode, resp.IsBase64Encoded, len(resp.Body))
		}
	}
	if resp := request("/api/background-jobs/status"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API without claims: %d, want 401", resp.StatusCode)
	}
}
