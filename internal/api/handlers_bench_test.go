package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/testenv"
)

// benchAPI is the whole app on a table and queues of the benchmark's own;
// without the emulators the benchmark is skipped.
func benchAPI(b *testing.B) (http.Handler, string) {
	b.Helper()
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" || os.Getenv("AWS_ENDPOINT_URL_SQS") == "" {
		b.Skip("needs the local emulators: localstack/with-emulators.sh --fresh go test -bench . ./internal/api")
	}
	b.Setenv("JOBS_TEST_QUIET", "1")
	env := testenv.New(b)
	env.Config.CreateRateLimit = 1 << 30 // one store per job: the limit is not what is measured
	return env.App(b, app.Overrides{}).HTTP, testenv.OperatorToken(b)
}

func serve(b *testing.B, h http.Handler, token, method, path, body string, want int) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	return rec
}

// POST /api/background-jobs: authentication, input checks, the create
// transaction, the enqueue and the wake.
func BenchmarkCreateHandler(b *testing.B) {
	h, token := benchAPI(b)
	for i := 0; b.Loop(); i++ {
		body := fmt.Sprintf(`{"type":"dev:simulate","store_id":"store-%d","payload":{"steps":0}}`, i)
		serve(b, h, token, http.MethodPost, "/api/background-jobs", body, http.StatusCreated)
	}
}

// GET /api/background-jobs/{id}/status: authentication, one strongly
// consistent read, and, since no worker runs here and the job stays
// pending, the reads that say why it waits (the pauses, the active jobs
// ahead of it, the counters).
func BenchmarkJobStatusHandler(b *testing.B) {
	h, token := benchAPI(b)
	rec := serve(b, h, token, http.MethodPost, "/api/background-jobs", `{"type":"dev:simulate","store_id":"store-1","payload":{"steps":0}}`, http.StatusCreated)
	id := strings.Split(strings.SplitN(rec.Body.String(), `"id":"`, 2)[1], `"`)[0]
	for b.Loop() {
		serve(b, h, token, http.MethodGet, "/api/background-jobs/"+id+"/status", "", http.StatusOK)
	}
}
