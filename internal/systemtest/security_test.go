package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/testenv"
)

type cleanupArgs struct{}

func (cleanupArgs) Kind() string { return "system:cleanup" }

// securityRegistry has dev:simulate and a system job type.
func securityRegistry() *jobtype.Registry {
	r := jobtype.NewRegistry()
	jobtype.Register[simulate.Args](r, simulate.Handler{})
	jobtype.Register[cleanupArgs](r, jobtype.Func[cleanupArgs](func(context.Context, jobtype.Runtime, cleanupArgs) (any, error) { return nil, nil }), jobtype.AsSystem())
	return r
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func TestAStoreSeesAndTouchesOnlyItsOwnJobs(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{JobTypes: securityRegistry()})
	base := testenv.Serve(t, a)
	alice, bob := bearer(testenv.StoreToken(t, "alice")), bearer(testenv.StoreToken(t, "bob"))

	// Alice may leave store_id out: it is her store.
	status, created := call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 1000, "step_ms": 50}}, alice...)
	if status != http.StatusCreated || created["job"].(map[string]any)["store_id"] != "alice" {
		t.Fatalf("alice creates: %d %v", status, created)
	}
	id := created["job"].(map[string]any)["id"].(string)

	// Bob cannot see or touch it, nor learn that it exists.
	for _, probe := range []struct{ method, path string }{
		{http.MethodGet, "/api/background-jobs/" + id},
		{http.MethodGet, "/api/background-jobs/" + id + "/status"},
		{http.MethodGet, "/api/background-jobs/" + id + "/logs"},
		{http.MethodPost, "/api/background-jobs/" + id + "/cancel"},
		{http.MethodPost, "/api/background-jobs/" + id + "/retry"},
		{http.MethodGet, "/api/background-jobs?store_id=alice"},
		{http.MethodGet, "/api/background-jobs/status?store_id=alice"},
		{http.MethodGet, "/api/background-jobs/metrics?store_id=alice"},
	} {
		status, out := call(t, probe.method, base+probe.path, nil, bob...)
		if status != http.StatusNotFound {
			t.Errorf("bob %s %s: %d %v, want 404", probe.method, probe.path, status, out)
		}
	}
	// Bob's own views are scoped to bob.
	_, list := call(t, http.MethodGet, base+"/api/background-jobs", nil, bob...)
	if jobs := list["jobs"].([]any); len(jobs) != 0 {
		t.Errorf("bob's list shows %d jobs", len(jobs))
	}
	_, stats := call(t, http.MethodGet, base+"/api/background-jobs/status", nil, bob...)
	if total := stats["statistics"].(map[string]any)["total"]; total != 0.0 {
		t.Errorf("bob's statistics count %v jobs", total)
	}
	_, stats = call(t, http.MethodGet, base+"/api/background-jobs/status", nil, alice...)
	if total := stats["statistics"].(map[string]any)["total"]; total != 1.0 {
		t.Errorf("alice's statistics count %v jobs, want 1", total)
	}
	// Bob cannot create for alice, nor create system jobs.
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "dev:simulate", "store_id": "alice"}, bob...); status != http.StatusForbidden {
		t.Errorf("bob creates for alice: %d, want 403", status)
	}
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "system:cleanup"}, bob...); status != http.StatusForbidden {
		t.Errorf("bob creates a system job: %d, want 403", status)
	}
	// Queue control and the dead-letter queue are for operators.
	for _, path := range []string{"/api/background-jobs/pause", "/api/background-jobs/resume"} {
		if status, _ := call(t, http.MethodPost, base+path, nil, bob...); status != http.StatusForbidden {
			t.Errorf("bob POST %s: %d, want 403", path, status)
		}
	}
	if status, _ := call(t, http.MethodGet, base+"/api/background-jobs/dead-letters", nil, bob...); status != http.StatusForbidden {
		t.Errorf("bob reads dead letters: %d, want 403", status)
	}

	// The job is untouched, and alice and an operator can act on it.
	if got := jobStatus(t, base, id)["status"]; got == "cancelled" {
		t.Fatal("bob's cancel reached alice's job")
	}
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/cancel", nil, alice...); status != http.StatusAccepted && status != http.StatusOK {
		t.Errorf("alice cancels her job: %d", status)
	}
	waitForStatus(t, base, id, "cancelled")
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/retry", nil); status != http.StatusAccepted {
		t.Errorf("an operator retries alice's job: %d", status)
	}
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "system:cleanup", "store_id": "platform"}); status != http.StatusCreated {
		t.Errorf("an operator creates a system job: %d", status)
	}
}

func TestInvalidTokensAre401(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{JobTypes: securityRegistry()})
	base := testenv.Serve(t, a)

	sign := func(secret string, claims jwt.MapClaims, method jwt.SigningMethod) string {
		token, err := jwt.NewWithClaims(method, claims).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "x", "store_id": "alice", "iss": env.Config.AuthIssuer, "aud": env.Config.AuthAudience, "exp": time.Now().Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims { c := valid(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := valid(); delete(c, k); return c }
	const secret = "test-secret-of-at-least-thirty-two-bytes"
	unsigned, _ := jwt.NewWithClaims(jwt.SigningMethodNone, valid()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	bad := map[string]string{
		"no token":        "",
		"not a JWT":       "Bearer not-a-jwt",
		"basic auth":      "Basic dXNlcjpwYXNz",
		"expired":         "Bearer " + sign(secret, with("exp", time.Now().Add(-time.Hour).Unix()), jwt.SigningMethodHS256),
		"no expiry":       "Bearer " + sign(secret, without("exp"), jwt.SigningMethodHS256),
		"wrong signature": "Bearer " + sign("another-secret-of-thirty-two-bytes!!", valid(), jwt.SigningMethodHS256),
		"wrong audience":  "Bearer " + sign(secret, with("aud", "someone-else"), jwt.SigningMethodHS256),
		"wrong issuer":    "Bearer " + sign(secret, with("iss", "https://evil.example"), jwt.SigningMethodHS256),
		"alg none":        "Bearer " + unsigned,
		"no store claim":  "Bearer " + sign(secret, without("store_id"), jwt.SigningMethodHS256),
	}
	routes := a.API.Routes()
	for name, header := range bad {
		for _, route := range routes {
			method, path, _ := strings.Cut(route.Pattern, " ")
			path = strings.ReplaceAll(path, "{id}", "some-job")
			req, _ := http.NewRequest(method, base+path, nil)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := http.StatusUnauthorized
			if route.Public {
				want = http.StatusOK
			}
			if resp.StatusCode != want {
				t.Errorf("%s on %s: %d, want %d", name, route.Pattern, resp.StatusCode, want)
			}
			if want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s on %s: no WWW-Authenticate: Bearer header", name, route.Pattern)
			}
		}
	}
}

func TestHostileInputsAreRejectedAndWriteNothing(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{JobTypes: securityRegistry()})
	base := testenv.Serve(t, a)

	tests := []struct {
		name string
		body string
		want int
	}{
		{"huge body", `{"type": "dev:simulate", "store_id": "s", "payload": {"x": "` + strings.Repeat("a", 300<<10) + `"}}`, http.StatusRequestEntityTooLarge},
		{"payload over its limit", `{"type": "dev:simulate", "store_id": "s", "payload": {"x": "` + strings.Repeat("a", 70<<10) + `"}}`, http.StatusBadRequest},
		{"deep nesting", `{"type": "dev:simulate", "store_id": "s", "payload": ` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100) + `}`, http.StatusBadRequest},
		{"deep arrays", `{"type": "dev:simulate", "store_id": "s", "payload": {"a": ` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}}`, http.StatusBadRequest},
		{"invalid UTF-8", "{\"type\": \"dev:simulate\", \"store_id\": \"s\xff\xfe\"}", http.StatusBadRequest},
		{"invalid UTF-8 in payload", "{\"type\": \"dev:simulate\", \"store_id\": \"s\", \"payload\": {\"x\": \"\xc3\x28\"}}", http.StatusBadRequest},
		{"raw NUL byte", "{\"type\": \"dev:simulate\", \"store_id\": \"s\x00\"}", http.StatusBadRequest},
		{"escaped NUL", `{"type": "dev:simulate", "store_id": "s\u0000"}`, http.StatusBadRequest},
		{"escaped NUL in payload", `{"type": "dev:simulate", "store_id": "s", "payload": {"x": "a\u0000b"}}`, http.StatusBadRequest},
		{"10k-char store id", `{"type": "dev:simulate", "store_id": "` + strings.Repeat("s", 10000) + `"}`, http.StatusBadRequest},
		{"10k-char type", `{"type": "` + strings.Repeat("t", 10000) + `", "store_id": "s"}`, http.StatusBadRequest},
		{"negative priority", `{"type": "dev:simulate", "store_id": "s", "priority": -1}`, http.StatusBadRequest},
		{"float priority", `{"type": "dev:simulate", "store_id": "s", "priority": 1.5}`, http.StatusBadRequest},
		{"huge priority", `{"type": "dev:simulate", "store_id": "s", "priority": 1e308}`, http.StatusBadRequest},
		{"duplicate keys", `{"type": "dev:simulate", "store_id": "s", "store_id": "other"}`, http.StatusBadRequest},
		{"duplicate keys in payload", `{"type": "dev:simulate", "store_id": "s", "payload": {"steps": 1, "steps": 2}}`, http.StatusBadRequest},
		{"duplicate keys differing in case", `{"type": "dev:simulate", "store_id": "mine", "Store_ID": "victim"}`, http.StatusBadRequest},
		{"a key spelled with a look-alike letter", `{"type": "dev:simulate", "ſtore_id": "victim"}`, http.StatusBadRequest},
		{"a field in the wrong case", `{"type": "dev:simulate", "STORE_ID": "s"}`, http.StatusBadRequest},
		{"payload keys differing in case", `{"type": "dev:simulate", "store_id": "s", "payload": {"steps": 1, "STEPS": 2}}`, http.StatusBadRequest},
		{"two objects", `{"type": "dev:simulate", "store_id": "s"} {"type": "dev:simulate", "store_id": "t"}`, http.StatusBadRequest},
		{"empty body", ``, http.StatusBadRequest},
		{"null", `null`, http.StatusBadRequest},
		{"string", `"dev:simulate"`, http.StatusBadRequest},
		{"type of wrong kind", `{"type": 7, "store_id": "s"}`, http.StatusBadRequest},
		{"store id with a slash", `{"type": "dev:simulate", "store_id": "a/b"}`, http.StatusBadRequest},
		{"store id with spaces", `{"type": "dev:simulate", "store_id": " s "}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		status, out := call(t, http.MethodPost, base+"/api/background-jobs", tt.body)
		errObj, _ := out["error"].(map[string]any)
		if status != tt.want || errObj == nil || errObj["message"] == "" {
			t.Errorf("%s: %d %v, want %d with a clear error", tt.name, status, truncate(fmt.Sprint(out), 200), tt.want)
		}
	}
	hostileKeys := []string{strings.Repeat("k", 10000), "has space", "semi;colon", "ünïcode"}
	for _, key := range hostileKeys {
		status, _ := call(t, http.MethodPost, base+"/api/background-jobs", `{"type": "dev:simulate", "store_id": "s"}`, "Idempotency-Key", key)
		if status != http.StatusBadRequest {
			t.Errorf("idempotency key %q: %d, want 400", truncate(key, 20), status)
		}
	}
	for _, query := range []string{"limit=-1", "limit=1.5", "limit=100000", "store_id=" + strings.Repeat("s", 10000), "store_id=s&cursor=%00%ff"} {
		if status, _ := call(t, http.MethodGet, base+"/api/background-jobs?"+query, nil); status != http.StatusBadRequest {
			t.Errorf("list with %s: %d, want 400", truncate(query, 40), status)
		}
	}

	// Nothing reached DynamoDB or SQS.
	ctx := withTimeout(t, 30*time.Second)
	items, err := env.DynamoDB().Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(env.Config.TableName)})
	if err != nil {
		t.Fatal(err)
	}
	if items.Count != 0 {
		t.Errorf("rejected requests wrote %d items", items.Count)
	}
	if err := queuesEmpty(a); err != nil {
		t.Error(err)
	}
}

func TestCreationIsRateLimitedPerStore(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.CreateRateLimit = 3
	env.Config.MaxConcurrency = 1
	a := env.App(t, app.Overrides{JobTypes: securityRegistry()})
	base := testenv.Serve(t, a)
	// Paused, created jobs stay pending: each is cancelled to free its slot.
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/pause", nil); status != http.StatusOK {
		t.Fatal("pause")
	}
	create := func(store string, i int) (int, http.Header) {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/background-jobs", strings.NewReader(fmt.Sprintf(`{"type": "dev:simulate", "store_id": %q, "payload": {"steps": %d}}`, store, i)))
		req.Header.Set("Authorization", "Bearer "+testenv.OperatorToken(t))
		req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%d", store, i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	// One active job per (store, type): cancel each so the next may start.
	accepted := 0
	var limited http.Header
	// Seven tries span at most two one-minute windows of three: one is refused.
	for i := range 7 {
		status, header := create("busy-store", i)
		if status == http.StatusCreated {
			accepted++
			_, list := call(t, http.MethodGet, base+"/api/background-jobs?store_id=busy-store&limit=1", nil)
			id := list["jobs"].([]any)[0].(map[string]any)["id"].(string)
			call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/cancel", nil)
			continue
		}
		if status != http.StatusTooManyRequests {
			t.Fatalf("create %d: %d, want 201 or 429", i, status)
		}
		limited = header
	}
	if accepted < 3 || accepted > 6 || limited == nil {
		t.Fatalf("%d of 7 creates accepted, last 429 headers %v; want the limit of 3 a minute enforced", accepted, limited)
	}
	if retryAfter, err := strconv.Atoi(limited.Get("Retry-After")); err != nil || retryAfter < 1 || retryAfter > 60 {
		t.Errorf("Retry-After = %q, want 1-60 seconds", limited.Get("Retry-After"))
	}
	// Another store is not affected.
	if status, _ := create("quiet-store", 0); status != http.StatusCreated {
		t.Errorf("another store's create: %d, want 201", status)
	}
	counts, _ := a.Jobs.Counts(context.Background(), "busy-store")
	if counts.Total != int64(accepted) {
		t.Errorf("store counts %d jobs, want %d: a limited create wrote something", counts.Total, accepted)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
