package systemtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/testenv"
)

// The planted credentials of the test; none may ever show up.
const (
	plantedKey      = "sk-live-PLANTED-4f9a8c7e"
	plantedPassword = "PLANTED-hunter2-password"
	plantedSellerID = "PLANTED-seller-A1B2C3"
)

type exportArgs struct {
	Products    []string `json:"products"`
	APIKey      string   `json:"api_key"`
	SellerID    string   `json:"seller_id"`
	Credentials struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"credentials"`
}

func (exportArgs) Kind() string { return "test:marketplace-export" }

// A careless handler: it logs, reports and fails with its credentials.
type carelessExporter struct{}

func (carelessExporter) Run(ctx context.Context, rt jobtype.Runtime, args exportArgs) (any, error) {
	rt.Log(slog.LevelInfo, "calling the marketplace with key "+args.APIKey, slog.String("password", args.Credentials.Password), slog.String("seller", args.SellerID))
	rt.Progress(50, "Exporting as "+args.SellerID+" with "+args.APIKey)
	if rt.Attempt() == 1 {
		return nil, fmt.Errorf("marketplace refused key %s for user %s:%s", args.APIKey, args.Credentials.Username, args.Credentials.Password)
	}
	if rt.Attempt() == 2 {
		panic("crashed while holding " + args.APIKey)
	}
	return map[string]any{"exported": len(args.Products), "access_token": plantedKey, "echo": args.SellerID}, nil
}

// safeBuffer is a log sink shared by the system's goroutines.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestCredentialsNeverLeakIntoResponsesOrLogs(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{time.Second, time.Second}
	logs := &safeBuffer{}
	env.LogCopy = logs
	handlers := jobtype.NewRegistry()
	jobtype.Register[exportArgs](handlers, carelessExporter{}, jobtype.SecretFields("seller_id"))
	a := env.App(t, app.Overrides{JobTypes: handlers})
	base := testenv.Serve(t, a)

	var responses []string
	record := func(status int, body map[string]any) map[string]any {
		responses = append(responses, fmt.Sprint(status, body))
		return body
	}
	payload := map[string]any{
		"products":    []string{"blue-widget", "red-widget"},
		"api_key":     plantedKey,
		"seller_id":   plantedSellerID,
		"credentials": map[string]any{"username": "shop-owner", "password": plantedPassword},
	}
	created := record(call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "test:marketplace-export", "store_id": "secretive", "payload": payload}))
	id := created["job"].(map[string]any)["id"].(string)
	waitForStatus(t, base, id, "completed")
	record(call(t, http.MethodGet, base+"/api/background-jobs/"+id, nil))
	record(call(t, http.MethodGet, base+"/api/background-jobs/"+id+"/status", nil))
	record(call(t, http.MethodGet, base+"/api/background-jobs?store_id=secretive", nil))
	record(call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/retry", nil))
	record(call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/cancel", nil))
	raw, err := http.Get(base + "/api/background-jobs/status")
	if err == nil {
		data, _ := io.ReadAll(raw.Body)
		raw.Body.Close()
		responses = append(responses, string(data))
	}

	// The job really ran with its credentials, and its shape survived.
	stored, err := a.Jobs.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stored.Payload), plantedKey) {
		t.Error("the handler must still receive its credentials")
	}
	got := record(call(t, http.MethodGet, base+"/api/background-jobs/"+id, nil))["job"].(map[string]any)
	shown := got["payload"].(map[string]any)
	if shown["api_key"] != "[redacted]" || shown["seller_id"] != "[redacted]" || shown["credentials"] != "[redacted]" || len(shown["products"].([]any)) != 2 {
		t.Errorf("payload as shown = %v", shown)
	}

	everything := strings.Join(responses, "\n") + "\n" + logs.String()
	if logs.String() == "" {
		t.Fatal("no log lines were captured")
	}
	for _, planted := range []string{plantedKey, plantedPassword, plantedSellerID} {
		if strings.Contains(everything, planted) {
			i := strings.Index(everything, planted)
			t.Errorf("%q leaked: …%s…", planted, everything[max(0, i-200):min(len(everything), i+50)])
		}
	}
	if !strings.Contains(logs.String(), "[redacted]") {
		t.Error("the handler's log lines did not show where credentials were scrubbed")
	}
}
