package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/testenv"
)

// get calls the API with a token and decodes its JSON answer.
func get(t *testing.T, base, path, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET %s: %d with a body that is not JSON: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// listedIDs lists the ids of a job page.
// serveAPI serves the API on the test's own resources, without a worker:
// jobs stay as the test leaves them.
func serveAPI(t *testing.T) (*app.App, *httptest.Server) {
	t.Helper()
	a := testenv.New(t).App(t, app.Overrides{})
	server := httptest.NewServer(a.API)
	t.Cleanup(server.Close)
	return a, server
}

func listedIDs(out map[string]any) []string {
	var ids []string
	jobs, _ := out["jobs"].([]any)
	for _, j := range jobs {
		ids = append(ids, j.(map[string]any)["id"].(string))
	}
	return ids
}

func TestOperatorsListEveryStoresJobsWithFilters(t *testing.T) {
	t.Parallel()
	a, server := serveAPI(t)
	operator := testenv.OperatorToken(t)
	start := time.Now().UTC()

	// No worker runs: the jobs stay pending.
	var ids []string
	for _, storeID := range []string{"north", "south", "north-east"} {
		j, _, err := a.Dispatcher.Create(t.Context(), dispatchRequest(storeID))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
		time.Sleep(2 * time.Millisecond) // distinct creation times, so "newest first" is one order
	}
	all := []string{ids[2], ids[1], ids[0]}
	after := url.QueryEscape(time.Now().UTC().Add(time.Hour).Format(time.RFC3339))
	tests := []struct {
		query string
		want  []string
	}{
		{"", all},
		{"?store_id=south", []string{ids[1]}},
		{"?type=dev:simulate&status=pending,running", all},
		{"?status=completed", nil},
		{"?type=amazon:export:products", nil},
		{"?from=" + url.QueryEscape(start.Add(-time.Minute).Format(time.RFC3339Nano)) + "&to=" + after, all},
		{"?to=" + url.QueryEscape(start.Add(-time.Minute).Format(time.RFC3339)), nil},
	}
	for _, tt := range tests {
		status, out := get(t, server.URL, "/api/background-jobs"+tt.query, operator)
		if status != http.StatusOK || fmt.Sprint(listedIDs(out)) != fmt.Sprint(tt.want) {
			t.Errorf("operator list %q: %d %v, want 200 %v", tt.query, status, listedIDs(out), tt.want)
		}
	}

	// Pages follow each other without a gap or a repeat.
	var paged []string
	cursor := ""
	for range 5 {
		_, out := get(t, server.URL, "/api/background-jobs?limit=1&cursor="+cursor, operator)
		paged = append(paged, listedIDs(out)...)
		if cursor, _ = out["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if fmt.Sprint(paged) != fmt.Sprint(all) {
		t.Errorf("paged listing %v, want %v", paged, all)
	}

	// A store sees its own jobs only, whatever it asks for.
	store := testenv.StoreToken(t, "north")
	if status, out := get(t, server.URL, "/api/background-jobs?status=pending", store); status != http.StatusOK || fmt.Sprint(listedIDs(out)) != fmt.Sprint([]string{ids[0]}) {
		t.Errorf("store list: %d %v, want only its own job %s", status, listedIDs(out), ids[0])
	}
	if status, _ := get(t, server.URL, "/api/background-jobs?store_id=south", store); status != http.StatusNotFound {
		t.Errorf("store listing another store: %d, want 404", status)
	}
}

func TestListingRejectsBadQueriesClearly(t *testing.T) {
	t.Parallel()
	_, server := serveAPI(t)
	operator := testenv.OperatorToken(t)
	tests := []struct {
		query, code, mentions string
	}{
		{"stauts=failed", "invalid_request", `unknown query parameter "stauts"`},
		{"status=failed&status=running", "invalid_request", "more than once"},
		{"status=done", "invalid_request", `status "done" is not one of`},
		{"status=failed,", "invalid_request", `status "" is not one of`},
		{"type=" + strings.Repeat("t", 129), "invalid_request", "type must be"},
		{"type=has%20space", "invalid_request", "type must be"},
		{"from=yesterday", "invalid_request", "from must be an RFC 3339 time"},
		{"to=2026-11-29", "invalid_request", "to must be an RFC 3339 time"},
		{"from=2026-11-29T10:00:00Z&to=2026-11-29T09:00:00Z", "invalid_request", "from must be before to"},
		{"limit=0", "invalid_request", "limit must be between 1 and 100"},
		{"cursor=bogus", "invalid_cursor", "cursor is not valid"},
		{"store_id=-bad", "invalid_request", "store_id"},
		{"order=newest", "invalid_request", `order "newest" is not one of created, finished`},
		{"order=finished", "invalid_request", "order=finished lists one store's jobs: give store_id"},
		{"order=finished&store_id=north&from=2026-11-29T09:00:00Z", "invalid_request", "from bounds the creation time"},
		{"order=finished&store_id=north&to=2026-11-29T09:00:00Z", "invalid_request", "to bounds the creation time"},
		{"order=finished&store_id=north&status=completed,running", "invalid_request", `status "running" is not a finished status`},
	}
	for _, tt := range tests {
		status, out := get(t, server.URL, "/api/background-jobs?"+tt.query, operator)
		apiErr, _ := out["error"].(map[string]any)
		if status != http.StatusBadRequest || apiErr["code"] != tt.code || !strings.Contains(fmt.Sprint(apiErr["message"]), tt.mentions) {
			t.Errorf("?%s: %d %v, want 400 %s mentioning %q", tt.query, status, out, tt.code, tt.mentions)
		}
	}
}

// order=finished lists a store's finished jobs by when they finished: the
// job created first but finished last comes first.
func TestStoresListTheirFinishedJobsByWhenTheyFinished(t *testing.T) {
	t.Parallel()
	a, server := serveAPI(t)
	create := func(storeID, jobType string) string {
		t.Helper()
		j, _, err := a.Dispatcher.Create(t.Context(), dispatch.Request{StoreID: storeID, Type: jobType, Payload: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct times, so each order is one order
		return j.ID
	}
	end := func(id string) {
		t.Helper()
		if _, err := a.Jobs.Cancel(t.Context(), id, "test"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	long := create("north", "shopify:import:products")
	short := create("north", "dev:simulate")
	pending := create("north", "amazon:export:products")
	elsewhere := create("south", "dev:simulate")
	end(short)
	end(elsewhere)
	end(long)

	north, south, operator := testenv.StoreToken(t, "north"), testenv.StoreToken(t, "south"), testenv.OperatorToken(t)
	for _, tt := range []struct {
		query, token string
		want         []string
	}{
		{"?order=finished", north, []string{long, short}},
		{"?order=finished&store_id=north", operator, []string{long, short}},
		{"?order=finished&status=cancelled&type=dev:simulate", north, []string{short}},
		{"?order=finished", south, []string{elsewhere}},
		{"?order=created", north, []string{pending, short, long}},
		{"", north, []string{pending, short, long}},
	} {
		status, out := get(t, server.URL, "/api/background-jobs"+tt.query, tt.token)
		if status != http.StatusOK || fmt.Sprint(listedIDs(out)) != fmt.Sprint(tt.want) {
			t.Errorf("list %q: %d %v, want 200 %v", tt.query, status, listedIDs(out), tt.want)
		}
	}
	if status, _ := get(t, server.URL, "/api/background-jobs?order=finished&store_id=south", north); status != http.StatusNotFound {
		t.Errorf("a store listing another store's finished jobs: %d, want 404", status)
	}

	// Pages follow each other without a gap or a repeat.
	var paged []string
	cursor := ""
	for range 5 {
		_, out := get(t, server.URL, "/api/background-jobs?order=finished&limit=1&cursor="+cursor, north)
		paged = append(paged, listedIDs(out)...)
		if cursor, _ = out["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if fmt.Sprint(paged) != fmt.Sprint([]string{long, short}) {
		t.Errorf("paged finished listing %v, want %v", paged, []string{long, short})
	}
}

func dispatchRequest(storeID string) dispatch.Request {
	return dispatch.Request{StoreID: storeID, Type: "dev:simulate", Payload: json.RawMessage(`{"steps": 1}`)}
}
