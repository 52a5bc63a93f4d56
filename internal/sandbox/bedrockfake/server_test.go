package bedrockfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/sandbox/bedrockfake"
)

const model = "amazon.nova-lite-v1:0"

type testBundle struct {
	fake   *bedrockfake.Server
	server *httptest.Server
	client *bedrockruntime.Client
}

func setup(t *testing.T, opts bedrockfake.Options) *testBundle {
	t.Helper()
	fake := bedrockfake.New(opts)
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	client := bedrockruntime.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}, func(o *bedrockruntime.Options) {
		o.BaseEndpoint = aws.String(server.URL)
		o.RetryMaxAttempts = 1 // every answer reaches the test as sent
	})
	return &testBundle{fake: fake, server: server, client: client}
}

// limits are eBay's: no bullet points.
const limitsJSON = `{"marketplace":"eBay","title_max_characters":30,"description_max_characters":4000,"bullet_point_max_characters":0,"bullet_points_max":0}`

const productJSON = `{"title":"Linen Shirt","description":"<p>A breezy shirt in <b>washed linen</b>.<\/p><ul><li>Relaxed fit &amp; long<\/li><\/ul>",` +
	`"brand":"Acme","features":["Colour: Sand","Material: 100% linen"],"language":"en-US"}`

// prompt is a conversation as package ai sends it.
func prompt(limits, product string) *bedrockruntime.ConverseInput {
	return &bedrockruntime.ConverseInput{
		ModelId: aws.String(model),
		System: []types.SystemContentBlock{&types.SystemContentBlockMemberText{
			Value: "You write product listings.\n" + ai.LimitsOpen + limits + ai.LimitsClose,
		}},
		Messages: []types.Message{{
			Role:    types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "Rewrite this.\n" + ai.ProductOpen + "\n" + product + "\n" + ai.ProductClose}},
		}},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(1000), Temperature: aws.Float32(0.2)},
	}
}

func textOf(t *testing.T, out *bedrockruntime.ConverseOutput) string {
	t.Helper()
	msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok || msg.Value.Role != types.ConversationRoleAssistant || len(msg.Value.Content) != 1 {
		t.Fatalf("output = %#v", out.Output)
	}
	text, ok := msg.Value.Content[0].(*types.ContentBlockMemberText)
	if !ok {
		t.Fatalf("content = %#v", msg.Value.Content[0])
	}
	return text.Value
}

func TestConverseAnswersTheJSONAskedFor(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{})

	out, err := b.client.Converse(context.Background(), prompt(limitsJSON, productJSON))
	if err != nil {
		t.Fatal(err)
	}

	const want = `{"title":"Acme Linen Shirt – Sand","description":"A breezy shirt in washed linen. Relaxed fit & long\n\n` +
		`Details: Colour: Sand; Material: 100% linen.","bullet_points":[]}`
	if got := textOf(t, out); got != want {
		t.Errorf("text = %s\nwant   %s", got, want)
	}
	if out.StopReason != types.StopReasonEndTurn || aws.ToInt64(out.Metrics.LatencyMs) != 0 {
		t.Errorf("stop reason %q, latency %d ms", out.StopReason, aws.ToInt64(out.Metrics.LatencyMs))
	}
	in, outTokens := int(aws.ToInt32(out.Usage.InputTokens)), int(aws.ToInt32(out.Usage.OutputTokens))
	if outTokens != (utf8.RuneCountInString(want)+3)/4 || in < 50 || aws.ToInt32(out.Usage.TotalTokens) != int32(in+outTokens) {
		t.Errorf("usage = %d in, %d out, %d total", in, outTokens, aws.ToInt32(out.Usage.TotalTokens))
	}
	c := b.fake.Counters()
	if c.Calls != 1 || c.Answered != 1 || c.InputTokens != in || c.OutputTokens != outTokens || c.CallsByModel[model] != 1 {
		t.Errorf("counters = %+v", c)
	}

	again, err := b.client.Converse(context.Background(), prompt(limitsJSON, productJSON))
	if err != nil || textOf(t, again) != want {
		t.Errorf("second answer to the same request differs: %v", err)
	}
}

func TestTitleIsCutAtAWordBoundary(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{})
	limits := strings.Replace(limitsJSON, `"title_max_characters":30`, `"title_max_characters":20`, 1)
	limits = strings.Replace(limits, `"bullet_point_max_characters":0,"bullet_points_max":0`, `"bullet_point_max_characters":12,"bullet_points_max":1`, 1)

	out, err := b.client.Converse(context.Background(), prompt(limits, productJSON))
	if err != nil {
		t.Fatal(err)
	}

	var text ai.Text
	if err := json.Unmarshal([]byte(textOf(t, out)), &text); err != nil {
		t.Fatal(err)
	}
	// "Acme Linen Shirt – Sand" is 23 characters; "Colour: Sand" fits 12.
	if text.Title != "Acme Linen Shirt" || len(text.Bullets) != 1 || text.Bullets[0] != "Colour: Sand" {
		t.Errorf("text = %+v", text)
	}
}

func TestAnswerStopsAtMaxTokens(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{})
	in := prompt(limitsJSON, productJSON)
	in.InferenceConfig.MaxTokens = aws.Int32(10)

	out, err := b.client.Converse(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}

	text := textOf(t, out)
	if out.StopReason != types.StopReasonMaxTokens || aws.ToInt32(out.Usage.OutputTokens) != 10 || utf8.RuneCountInString(text) != 40 {
		t.Errorf("stop reason %q, %d tokens, text %q", out.StopReason, aws.ToInt32(out.Usage.OutputTokens), text)
	}
}

func TestAnswerFaultsStrayFromThePrompt(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{})
	b.fake.SetFaults(bedrockfake.Faults{InvalidJSONNext: 1, OverlongNext: 1, MaxTokensNext: 1, FencedNext: 1})
	converse := func() (string, types.StopReason) {
		t.Helper()
		out, err := b.client.Converse(context.Background(), prompt(limitsJSON, productJSON))
		if err != nil {
			t.Fatal(err)
		}
		return textOf(t, out), out.StopReason
	}

	if text, _ := converse(); json.Valid([]byte(text)) || !strings.Contains(text, "Acme Linen Shirt") {
		t.Errorf("invalid JSON fault answered %q", text)
	}
	text, _ := converse()
	var long ai.Text
	if err := json.Unmarshal([]byte(text), &long); err != nil || utf8.RuneCountInString(long.Title) <= 30 {
		t.Errorf("overlong fault answered %q (%v)", text, err)
	}
	if text, stop := converse(); stop != types.StopReasonMaxTokens || json.Valid([]byte(text)) {
		t.Errorf("max tokens fault answered %q, stop reason %q", text, stop)
	}
	if text, _ := converse(); !strings.HasPrefix(text, "```json\n{") || !strings.HasSuffix(text, "}\n```") {
		t.Errorf("fence fault answered %q", text)
	}
	if text, _ := converse(); !json.Valid([]byte(text)) {
		t.Errorf("answer after the faults = %q", text)
	}
	if f := b.fake.Faults(); f.InvalidJSONNext+f.OverlongNext+f.MaxTokensNext+f.FencedNext != 0 {
		t.Errorf("faults left = %+v", f)
	}
}

func TestRefusalsAreBedrockExceptions(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{})
	b.fake.SetFaults(bedrockfake.Faults{ServerErrorsNext: 2, ThrottleNext: 1, DeniedModels: []string{"amazon.nova-pro-v1:0"}})
	call := func(modelID string) error {
		in := prompt(limitsJSON, productJSON)
		in.ModelId = aws.String(modelID)
		_, err := b.client.Converse(context.Background(), in)
		return err
	}

	var internal *types.InternalServerException
	if err := call(model); !errors.As(err, &internal) {
		t.Errorf("first server error = %v", err)
	}
	var unavailable *types.ServiceUnavailableException
	if err := call(model); !errors.As(err, &unavailable) {
		t.Errorf("second server error = %v", err)
	}
	var throttled *types.ThrottlingException
	if err := call(model); !errors.As(err, &throttled) || aws.ToString(throttled.Message) != "Too many requests, please wait before trying again." {
		t.Errorf("throttle = %v", err)
	}
	var notFound *types.ResourceNotFoundException
	if err := call("amazon.nova-mega-v9:0"); !errors.As(err, &notFound) {
		t.Errorf("unknown model = %v", err)
	}
	var denied *types.AccessDeniedException
	if err := call("amazon.nova-pro-v1:0"); !errors.As(err, &denied) {
		t.Errorf("denied model = %v", err)
	}
	in := prompt(limitsJSON, productJSON)
	in.Messages[0].Role = types.ConversationRoleAssistant
	var invalid *types.ValidationException
	if _, err := b.client.Converse(context.Background(), in); !errors.As(err, &invalid) ||
		!strings.HasPrefix(aws.ToString(invalid.Message), "A conversation must start with a user message.") {
		t.Errorf("conversation starting with the assistant = %v", err)
	}
	if err := call(model); err != nil {
		t.Errorf("call after the faults = %v", err)
	}

	c := b.fake.Counters()
	if c.Calls != 7 || c.Answered != 1 || c.Throttled != 1 || c.CallsByModel["amazon.nova-mega-v9:0"] != 1 || c.CallsByModel[model] != 5 {
		t.Errorf("counters = %+v", c)
	}
}

func TestErrorWireShape(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{})
	b.fake.SetFaults(bedrockfake.Faults{ThrottleNext: 1})

	// The model id arrives path-escaped, as the SDK sends it.
	resp, err := http.Post(b.server.URL+"/model/amazon.nova-lite-v1%3A0/converse", "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)

	if resp.StatusCode != http.StatusTooManyRequests ||
		resp.Header.Get("X-Amzn-ErrorType") != "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/" ||
		resp.Header.Get("x-amzn-RequestId") == "" ||
		strings.TrimSpace(string(body)) != `{"message":"Too many requests, please wait before trying again."}` {
		t.Errorf("answer = %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if c := b.fake.Counters(); c.CallsByModel[model] != 1 {
		t.Errorf("calls by model = %v", c.CallsByModel)
	}
}

func TestConcurrencyCapThrottles(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	b := setup(t, bedrockfake.Options{
		MaxConcurrent: 1,
		// The first answer is held until released, so the second call finds
		// the cap full.
		Latency: func() time.Duration {
			entered <- struct{}{}
			<-release
			return 0
		},
	})
	first := make(chan error, 1)
	go func() {
		_, err := b.client.Converse(context.Background(), prompt(limitsJSON, productJSON))
		first <- err
	}()
	<-entered

	_, err := b.client.Converse(context.Background(), prompt(limitsJSON, productJSON))
	var throttled *types.ThrottlingException
	if !errors.As(err, &throttled) {
		t.Errorf("call past the cap = %v", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("held call = %v", err)
	}

	go func() { <-entered }() // the cap is free again
	if _, err := b.client.Converse(context.Background(), prompt(limitsJSON, productJSON)); err != nil {
		t.Errorf("call after the held one = %v", err)
	}
	if c := b.fake.Counters(); c.Calls != 3 || c.Answered != 2 || c.Throttled != 1 {
		t.Errorf("counters = %+v", c)
	}
}

func TestLatencyIsReported(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{Latency: func() time.Duration { return 3 * time.Millisecond }})

	out, err := b.client.Converse(context.Background(), prompt(limitsJSON, productJSON))
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToInt64(out.Metrics.LatencyMs); got != 3 {
		t.Errorf("latencyMs = %d, want 3", got)
	}
}

func TestControlsAreNeverDelayed(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{})
	b.fake.SetFaults(bedrockfake.Faults{Latency: 5 * time.Minute})
	client := &http.Client{Timeout: 10 * time.Second} // a delayed control fails instead of hanging

	for _, path := range []string{"/", "/_faults", "/_counters"} {
		resp, err := client.Get(b.server.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}
}

func TestFaultsEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{})
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, b.server.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(out))
	}

	status, got := do(http.MethodPost, "/_faults", `{"throttle_next":2,"overlong_next":1,"denied_models":["amazon.nova-pro-v1:0"],"latency":"3s"}`)
	const want = `{"denied_models":["amazon.nova-pro-v1:0"],"server_errors_next":0,"throttle_next":2,"invalid_json_next":0,` +
		`"overlong_next":1,"max_tokens_next":0,"fenced_next":0,"latency":"3s"}`
	if status != http.StatusOK || got != want {
		t.Fatalf("POST /_faults = %d %s", status, got)
	}
	if f := b.fake.Faults(); f.ThrottleNext != 2 || f.OverlongNext != 1 || f.Latency != 3*time.Second || len(f.DeniedModels) != 1 {
		t.Errorf("Faults() = %+v", f)
	}
	if _, got := do(http.MethodGet, "/_faults", ""); got != want {
		t.Errorf("GET /_faults = %s", got)
	}
	for _, bad := range []string{`{"throttle_next":-1}`, `{"latency":"soon"}`, `{"latency":"2h"}`, `{"throttle":1}`} {
		if status, _ := do(http.MethodPost, "/_faults", bad); status != http.StatusBadRequest {
			t.Errorf("POST %s = %d, want 400", bad, status)
		}
	}
	if status, _ := do(http.MethodPost, "/_faults", `{}`); status != http.StatusOK || b.fake.Faults().ThrottleNext != 0 {
		t.Errorf("POST {} did not clear the faults: %d", status)
	}
}

func TestCountersAndIndex(t *testing.T) {
	t.Parallel()
	b := setup(t, bedrockfake.Options{Models: []string{model}})
	b.fake.SetPublicURL("http://127.0.0.1:8080/bedrock/")
	if _, err := b.client.Converse(context.Background(), prompt(limitsJSON, productJSON)); err != nil {
		t.Fatal(err)
	}
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(b.server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}

	var counters map[string]any
	get("/_counters", &counters)
	if counters["calls"] != 1.0 || counters["answered"] != 1.0 || counters["throttled"] != 0.0 ||
		counters["input_tokens"].(float64) < 1 || counters["output_tokens"].(float64) < 1 ||
		counters["calls_by_model"].(map[string]any)[model] != 1.0 {
		t.Errorf("GET /_counters = %v", counters)
	}
	var index map[string]any
	get("/", &index)
	if index["bedrock_runtime_endpoint"] != "http://127.0.0.1:8080/bedrock" ||
		index["converse_url"] != "http://127.0.0.1:8080/bedrock/model/{modelId}/converse" ||
		len(index["models"].([]any)) != 1 {
		t.Errorf("GET / = %v", index)
	}
}
