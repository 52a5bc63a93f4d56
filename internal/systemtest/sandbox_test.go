package systemtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/jobtype/catalogimport"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/testenv"
)

// startSandbox serves the fakes of the outside systems for one test and
// points the test's configuration at them, as `make dev` does.
func startSandbox(t *testing.T, env *testenv.Env, o sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	box := sandbox.New(o)
	server := httptest.NewServer(box)
	t.Cleanup(server.Close)
	box.SetBaseURL(server.URL)
	box.Endpoints().Configure(&env.Config)
	return box
}

// connect connects a store to a sandbox marketplace through the API.
func connect(t *testing.T, base, storeID, name string, creds any) {
	t.Helper()
	status, body := call(t, http.MethodPut, base+"/api/marketplace/connections/"+name, creds, bearer(testenv.StoreToken(t, storeID))...)
	if status != http.StatusOK {
		t.Fatalf("connect %s for %s: %d %v", name, storeID, status, body)
	}
}

// recordedWaits stands in for the imports' rate-limit waits: it records
// each and returns at once, so a test sees every wait a job asked for
// without spending it.
type recordedWaits struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recordedWaits) wait(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recordedWaits) all() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

// importResult reads a finished import's result.
func importResult(t *testing.T, a *app.App, id string) catalogimport.Result {
	t.Helper()
	j, err := a.Jobs.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var result catalogimport.Result
	if err := json.Unmarshal(j.Result, &result); err != nil {
		t.Fatalf("result of %s: %v (%s)", id, err, j.Result)
	}
	return result
}

// catalogProducts reads every product of a store's catalog.
func catalogProducts(t *testing.T, a *app.App, storeID string) map[string]catalog.Product {
	t.Helper()
	products := map[string]catalog.Product{}
	cursor := ""
	for {
		page, err := a.Catalog.List(context.Background(), storeID, catalog.KindProduct, "", 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range page.Docs {
			var p catalog.Product
			if err := json.Unmarshal(doc, &p); err != nil {
				t.Fatal(err)
			}
			if _, dup := products[p.SourceID]; dup {
				t.Fatalf("product %s is in the catalog twice", p.SourceID)
			}
			products[p.SourceID] = p
		}
		if page.Next == "" {
			return products
		}
		cursor = page.Next
	}
}

// failedReasons groups a result's failed items by source id.
func failedReasons(r catalogimport.Result) map[string]string {
	m := map[string]string{}
	for _, f := range r.FailedItems {
		m[f.SourceID] += f.Reason + ";"
	}
	return m
}

// storedImageKeys lists the objects of the test's image bucket.
func storedImageKeys(t *testing.T, env *testenv.Env) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	out, err := env.S3().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(env.Config.ImagesBucket)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out.Contents {
		keys[*o.Key] = true
	}
	if out.IsTruncated != nil && *out.IsTruncated {
		t.Fatalf("more than one page of images; the test expects fewer")
	}
	return keys
}

func mustContain(t *testing.T, what, s, part string) {
	t.Helper()
	if !strings.Contains(s, part) {
		t.Errorf("%s = %q, want it to contain %q", what, s, part)
	}
}
