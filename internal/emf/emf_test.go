package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var at = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

func jobCompleted() (map[string]string, []Metric, map[string]any) {
	return map[string]string{"Priority": "high", "JobType": "send-email"},
		[]Metric{
			{Name: "JobsCompleted", Unit: Count, Value: 1},
			{Name: "Duration", Unit: Milliseconds, Value: 1234.5},
			{Name: "QueueWait", Unit: Milliseconds, Value: 250},
		},
		map[string]any{"job_id": "01J9Z6W6F3Q1X2C8M7N5P4R3S2"}
}

func TestLineJobCompletedGolden(t *testing.T) {
	t.Parallel()
	dims, metrics, props := jobCompleted()
	got, err := Line("Jobs", at, dims, metrics, props)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"_aws":{"Timestamp":1773480413589,"CloudWatchMetrics":[{"Namespace":"Jobs",` +
		`"Dimensions":[["JobType","Priority"]],"Metrics":[{"Name":"JobsCompleted","Unit":"Count"},` +
		`{"Name":"Duration","Unit":"Milliseconds"},{"Name":"QueueWait","Unit":"Milliseconds"}]}]},` +
		`"JobType":"send-email","Priority":"high","JobsCompleted":1,"Duration":1234.5,"QueueWait":250,` +
		`"job_id":"01J9Z6W6F3Q1X2C8M7N5P4R3S2"}`
	if string(got) != want {
		t.Fatalf("Line =\n%s\nwant\n%s", got, want)
	}
	if bytes.ContainsAny(got, "\n\r") {
		t.Fatal("line contains a line break")
	}
	// Same input, same bytes (map iteration order does not leak).
	for range 20 {
		again, err := Line("Jobs", at, dims, metrics, props)
		if err != nil || string(again) != want {
			t.Fatalf("Line is not deterministic: %s, %v", again, err)
		}
	}
}

// TestLineStructure decodes a line and checks it the way CloudWatch reads it:
// every name in the directive refers to a root member of the right type.
func TestLineStructure(t *testing.T) {
	t.Parallel()
	dims := map[string]string{"JobType": "resize<image>&co", "Priority": "low", "Stage": "prod"}
	props := map[string]any{
		"job_id":  "j-1",
		"attempt": 2,
		"error":   map[string]any{"code": "timeout", "retry": true},
		"tags":    []string{"a", "b"},
		"nothing": nil,
	}
	metrics := []Metric{{Name: "JobsFailed", Unit: Count, Value: 1}, {Name: "Ratio", Value: 0.25}}
	line, err := Line("Jobs/Worker", at, dims, metrics, props)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []map[string]string
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatalf("line is not JSON: %v\n%s", err, line)
	}
	var root map[string]any
	if err := json.Unmarshal(line, &root); err != nil {
		t.Fatal(err)
	}
	if doc.AWS.Timestamp != at.UnixMilli() {
		t.Errorf("Timestamp = %d, want %d", doc.AWS.Timestamp, at.UnixMilli())
	}
	if len(doc.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("%d directives, want 1", len(doc.AWS.CloudWatchMetrics))
	}
	d := doc.AWS.CloudWatchMetrics[0]
	if d.Namespace != "Jobs/Worker" {
		t.Errorf("Namespace = %q", d.Namespace)
	}
	if fmt.Sprint(d.Dimensions) != "[[JobType Priority Stage]]" {
		t.Errorf("Dimensions = %v, want one sorted set", d.Dimensions)
	}
	for _, name := range d.Dimensions[0] {
		if v, ok := root[name].(string); !ok || v != dims[name] {
			t.Errorf("dimension %q = %#v, want %q", name, root[name], dims[name])
		}
	}
	if len(d.Metrics) != 2 || d.Metrics[0]["Unit"] != "Count" {
		t.Errorf("Metrics = %v", d.Metrics)
	}
	if _, ok := d.Metrics[1]["Unit"]; ok {
		t.Errorf("empty unit was written: %v", d.Metrics[1])
	}
	for _, m := range metrics {
		if v, ok := root[m.Name].(float64); !ok || v != m.Value {
			t.Errorf("metric %q = %#v, want %v", m.Name, root[m.Name], m.Value)
		}
	}
	for name := range props {
		if _, ok := root[name]; !ok {
			t.Errorf("property %q missing", name)
		}
	}
	if len(root) != 1+len(dims)+len(metrics)+len(props) {
		t.Errorf("root has %d members, want %d", len(root), 1+len(dims)+len(metrics)+len(props))
	}
	if !bytes.Contains(line, []byte(`"resize<image>&co"`)) {
		t.Errorf("dimension value was escaped: %s", line)
	}
}

func TestLineWithoutDimensions(t *testing.T) {
	t.Parallel()
	got, err := Line("Jobs", at, nil, []Metric{{Name: "Sweeps", Unit: Count, Value: 3}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"_aws":{"Timestamp":1773480413589,"CloudWatchMetrics":[{"Namespace":"Jobs","Dimensions":[[]],` +
		`"Metrics":[{"Name":"Sweeps","Unit":"Count"}]}]},"Sweeps":3}`
	if string(got) != want {
		t.Fatalf("Line =\n%s\nwant\n%s", got, want)
	}
}

func TestLineValidation(t *testing.T) {
	t.Parallel()
	ok := []Metric{{Name: "JobsCompleted", Unit: Count, Value: 1}}
	manyDims := map[string]string{}
	for i := range MaxDimensions + 1 {
		manyDims["D"+strconv.Itoa(i)] = "v"
	}
	var manyMetrics []Metric
	for i := range MaxMetrics + 1 {
		manyMetrics = append(manyMetrics, Metric{Name: "M" + strconv.Itoa(i), Value: 1})
	}
	tests := []struct {
		name       string
		namespace  string
		at         time.Time
		dimensions map[string]string
		metrics    []Metric
		properties map[string]any
		want       string // in the error message
	}{
		{"empty namespace", "", at, nil, ok, nil, "namespace"},
		{"blank namespace", "  ", at, nil, ok, nil, "namespace"},
		{"long namespace", strings.Repeat("n", 256), at, nil, ok, nil, "namespace"},
		{"zero time", "Jobs", time.Time{}, nil, ok, nil, "zero timestamp"},
		{"31 dimensions", "Jobs", at, manyDims, ok, nil, "31 dimensions"},
		{"empty dimension value", "Jobs", at, map[string]string{"JobType": ""}, ok, nil, `dimension "JobType" value "": empty`},
		{"blank dimension value", "Jobs", at, map[string]string{"JobType": "   "}, ok, nil, "blank"},
		{"non-ASCII dimension value", "Jobs", at, map[string]string{"JobType": "envoi-é"}, ok, nil, "not printable ASCII"},
		{"control char in dimension value", "Jobs", at, map[string]string{"JobType": "a\nb"}, ok, nil, "not printable ASCII"},
		{"long dimension value", "Jobs", at, map[string]string{"JobType": strings.Repeat("v", 1025)}, ok, nil, "longer than 1024"},
		{"empty dimension name", "Jobs", at, map[string]string{"": "x"}, ok, nil, "dimension name"},
		{"colon dimension name", "Jobs", at, map[string]string{":JobType": "x"}, ok, nil, "starts with ':'"},
		{"reserved dimension name", "Jobs", at, map[string]string{"_aws": "x"}, ok, nil, "reserved"},
		{"no metrics", "Jobs", at, nil, nil, nil, "no metrics"},
		{"101 metrics", "Jobs", at, nil, manyMetrics, nil, "101 metrics"},
		{"empty metric name", "Jobs", at, nil, []Metric{{Name: "", Value: 1}}, nil, "metric name"},
		{"long metric name", "Jobs", at, nil, []Metric{{Name: strings.Repeat("m", 256), Value: 1}}, nil, "metric name"},
		{"reserved metric name", "Jobs", at, nil, []Metric{{Name: "_aws", Value: 1}}, nil, "reserved"},
		{"duplicate metric", "Jobs", at, nil, []Metric{{Name: "Duration", Value: 1}, {Name: "Duration", Value: 2}}, nil, `"Duration" appears twice`},
		{"unknown unit", "Jobs", at, nil, []Metric{{Name: "Duration", Unit: "ms", Value: 1}}, nil, "unknown unit"},
		{"NaN", "Jobs", at, nil, []Metric{{Name: "Duration", Value: math.NaN()}}, nil, "not a finite number"},
		{"+Inf", "Jobs", at, nil, []Metric{{Name: "Duration", Value: math.Inf(1)}}, nil, "not a finite number"},
		{"metric is a dimension", "Jobs", at, map[string]string{"Duration": "x"}, []Metric{{Name: "Duration", Value: 1}}, nil, "both a metric and a dimension"},
		{"metric is a property", "Jobs", at, nil, ok, map[string]any{"JobsCompleted": 2}, "both a metric and a property"},
		{"dimension is a property", "Jobs", at, map[string]string{"JobType": "x"}, ok, map[string]any{"JobType": "y"}, "both a dimension and a property"},
		{"reserved property", "Jobs", at, nil, ok, map[string]any{"_aws": 1}, "reserved"},
		{"empty property name", "Jobs", at, nil, ok, map[string]any{"": 1}, "empty property name"},
	}
	for _, tt := range tests {
		line, err := Line(tt.namespace, tt.at, tt.dimensions, tt.metrics, tt.properties)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ErrInvalid mentioning %q", tt.name, err, tt.want)
		}
		if line != nil {
			t.Errorf("%s: got a line with the error: %s", tt.name, line)
		}
	}

	// Exactly at the limits is fine.
	atLimit := map[string]string{}
	for i := range MaxDimensions {
		atLimit["D"+strconv.Itoa(i)] = "v"
	}
	if _, err := Line("Jobs", at, atLimit, manyMetrics[:MaxMetrics], nil); err != nil {
		t.Errorf("30 dimensions and 100 metrics: %v", err)
	}

	// A property that cannot be marshaled is an error too, naming the property.
	_, err := Line("Jobs", at, nil, ok, map[string]any{"callback": func() {}})
	if err == nil || !strings.Contains(err.Error(), `"callback"`) {
		t.Errorf("unmarshalable property: err = %v", err)
	}
}

// unsafeWriter records each Write separately and has no locking of its own,
// so overlapping Writes are reported by the race detector.
type unsafeWriter struct{ writes [][]byte }

func (w *unsafeWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

func TestWriterConcurrentEmitWritesWholeLines(t *testing.T) {
	t.Parallel()
	out := &unsafeWriter{}
	w := NewWriter(out, "Jobs")
	const goroutines, perGoroutine = 16, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				err := w.Emit(at, map[string]string{"JobType": "type-" + strconv.Itoa(g)},
					[]Metric{{Name: "Duration", Unit: Milliseconds, Value: float64(i)}},
					map[string]any{"job_id": fmt.Sprintf("g%d-i%d", g, i), "padding": strings.Repeat("x", 4096)})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(out.writes) != goroutines*perGoroutine {
		t.Fatalf("%d writes, want %d (one per Emit)", len(out.writes), goroutines*perGoroutine)
	}
	seen := map[string]bool{}
	for _, p := range out.writes {
		if !bytes.HasSuffix(p, []byte("\n")) || bytes.Count(p, []byte("\n")) != 1 {
			t.Fatalf("write is not one newline-terminated line: %q", p)
		}
		var line struct {
			JobID string `json:"job_id"`
		}
		if err := json.Unmarshal(p, &line); err != nil {
			t.Fatalf("line is not whole JSON: %v", err)
		}
		seen[line.JobID] = true
	}
	if len(seen) != goroutines*perGoroutine {
		t.Fatalf("%d distinct lines, want %d", len(seen), goroutines*perGoroutine)
	}
}

func TestWriterEmit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewWriter(&buf, "Jobs")
	dims, metrics, props := jobCompleted()
	if err := w.Emit(at, dims, metrics, props); err != nil {
		t.Fatal(err)
	}
	want, _ := Line("Jobs", at, dims, metrics, props)
	if buf.String() != string(want)+"\n" {
		t.Fatalf("Emit wrote %q, want the line and a newline", buf.String())
	}

	// An invalid line writes nothing.
	buf.Reset()
	if err := w.Emit(at, dims, nil, nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Emit without metrics: err = %v, want ErrInvalid", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("invalid Emit wrote %q", buf.String())
	}

	// A zero time means now.
	before := time.Now().UnixMilli()
	if err := w.Emit(time.Time{}, nil, []Metric{{Name: "Ticks", Value: 1}}, nil); err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixMilli()
	var doc struct {
		AWS struct{ Timestamp int64 } `json:"_aws"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.AWS.Timestamp < before || doc.AWS.Timestamp > after {
		t.Fatalf("Timestamp = %d, want between %d and %d", doc.AWS.Timestamp, before, after)
	}

	// Write errors are returned.
	failing := NewWriter(errWriter{}, "Jobs")
	if err := failing.Emit(at, nil, []Metric{{Name: "Ticks", Value: 1}}, nil); err == nil || err.Error() != "closed" {
		t.Fatalf("Emit to a failing writer: err = %v", err)
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestUnitValid(t *testing.T) {
	t.Parallel()
	for _, u := range []Unit{"", Milliseconds, Count, CountPerSecond, None, BytesPerSecond} {
		if !u.Valid() {
			t.Errorf("%q.Valid() = false", u)
		}
	}
	for _, u := range []Unit{"ms", "count", "Millisecond", "Count/second"} {
		if u.Valid() {
			t.Errorf("%q.Valid() = true", u)
		}
	}
}

func ExampleWriter_Emit() {
	w := NewWriter(os.Stdout, "Jobs") // in Lambda, stdout goes to CloudWatch Logs
	finished := time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)
	err := w.Emit(finished,
		map[string]string{"JobType": "send-email", "Priority": "high"},
		[]Metric{
			{Name: "JobsCompleted", Unit: Count, Value: 1},
			{Name: "Duration", Unit: Milliseconds, Value: 1234.5},
			{Name: "QueueWait", Unit: Milliseconds, Value: 250},
		},
		map[string]any{"job_id": "01J9Z6W6F3Q1X2C8M7N5P4R3S2"},
	)
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"_aws":{"Timestamp":1773480413589,"CloudWatchMetrics":[{"Namespace":"Jobs","Dimensions":[["JobType","Priority"]],"Metrics":[{"Name":"JobsCompleted","Unit":"Count"},{"Name":"Duration","Unit":"Milliseconds"},{"Name":"QueueWait","Unit":"Milliseconds"}]}]},"JobType":"send-email","Priority":"high","JobsCompleted":1,"Duration":1234.5,"QueueWait":250,"job_id":"01J9Z6W6F3Q1X2C8M7N5P4R3S2"}
}
