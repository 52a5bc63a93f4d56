package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of the queue's metrics.
const Namespace = "BackgroundJobs"

// Limits from the EMF specification and the CloudWatch API.
const (
	// MaxDimensions is the largest number of dimensions in a dimension set.
	MaxDimensions = 30
	// MaxMetrics is the largest number of metrics in a metric directive.
	MaxMetrics = 100

	maxNameLen           = 255  // namespace, dimension and metric names
	maxDimensionValueLen = 1024 // dimension values
)

// awsKey is the root member holding the metadata; no other member may use it.
const awsKey = "_aws"

// ErrInvalid is wrapped by the errors Line and Writer.Emit return for input
// that would not make a valid EMF document.
var ErrInvalid = errors.New("emf: invalid metric line")

// Unit is a CloudWatch metric unit. An empty Unit is left out of the line
// and CloudWatch assumes None.
type Unit string

// The CloudWatch metric units.
const (
	Seconds            Unit = "Seconds"
	Microseconds       Unit = "Microseconds"
	Milliseconds       Unit = "Milliseconds"
	Bytes              Unit = "Bytes"
	Kilobytes          Unit = "Kilobytes"
	Megabytes          Unit = "Megabytes"
	Gigabytes          Unit = "Gigabytes"
	Terabytes          Unit = "Terabytes"
	Bits               Unit = "Bits"
	Kilobits           Unit = "Kilobits"
	Megabits           Unit = "Megabits"
	Gigabits           Unit = "Gigabits"
	Terabits           Unit = "Terabits"
	Percent            Unit = "Percent"
	Count              Unit = "Count"
	BytesPerSecond     Unit = "Bytes/Second"
	KilobytesPerSecond Unit = "Kilobytes/Second"
	MegabytesPerSecond Unit = "Megabytes/Second"
	GigabytesPerSecond Unit = "Gigabytes/Second"
	TerabytesPerSecond Unit = "Terabytes/Second"
	BitsPerSecond      Unit = "Bits/Second"
	KilobitsPerSecond  Unit = "Kilobits/Second"
	MegabitsPerSecond  Unit = "Megabits/Second"
	GigabitsPerSecond  Unit = "Gigabits/Second"
	TerabitsPerSecond  Unit = "Terabits/Second"
	CountPerSecond     Unit = "Count/Second"
	None               Unit = "None"
)

var validUnits = map[Unit]bool{
	Seconds: true, Microseconds: true, Milliseconds: true,
	Bytes: true, Kilobytes: true, Megabytes: true, Gigabytes: true, Terabytes: true,
	Bits: true, Kilobits: true, Megabits: true, Gigabits: true, Terabits: true,
	Percent: true, Count: true,
	BytesPerSecond: true, KilobytesPerSecond: true, MegabytesPerSecond: true,
	GigabytesPerSecond: true, TerabytesPerSecond: true,
	BitsPerSecond: true, KilobitsPerSecond: true, MegabitsPerSecond: true,
	GigabitsPerSecond: true, TerabitsPerSecond: true,
	CountPerSecond: true, None: true,
}

// Valid reports whether u is empty or one of the CloudWatch units.
func (u Unit) Valid() bool { return u == "" || validUnits[u] }

// Metric is one metric value of a line.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
}

// Line renders one EMF document as a single line of JSON, without a
// trailing newline:
//
//	{"_aws":{"Timestamp":<ms>,"CloudWatchMetrics":[{"Namespace":<namespace>,
//	"Dimensions":[[<dimension names, sorted>]],"Metrics":[{"Name":..,"Unit":..},..]}]},
//	"<dimension>":"<value>",..,"<metric>":<value>,..,"<property>":<value>,..}
//
// Every metric is published once with all the dimensions; an empty or nil
// dimensions map publishes the metrics without dimensions. Metrics keep
// their order; dimensions and properties are sorted by name. Property
// values may be anything encoding/json can marshal; they are not part of
// the metric identity.
//
// Line returns an error wrapping ErrInvalid, and no line, if the namespace
// is empty or longer than 255 bytes; if at is the zero time; if there are
// more than MaxDimensions dimensions, a dimension name or value is empty,
// blank, too long (255 and 1024 bytes), not printable ASCII, or the name
// starts with ':'; if there are no metrics or more than MaxMetrics, a metric
// name is empty, too long or repeated, a unit is unknown, or a value is NaN
// or infinite; or if a name is used twice across dimensions, metrics and
// properties, or is "_aws". An error marshaling a property value is
// returned wrapped with the property's name.
func Line(namespace string, at time.Time, dimensions map[string]string, metrics []Metric, properties map[string]any) ([]byte, error) {
	if err := validate(namespace, at, dimensions, metrics, properties); err != nil {
		return nil, err
	}
	dimNames := slices.Sorted(maps.Keys(dimensions))
	propNames := slices.Sorted(maps.Keys(properties))

	var buf bytes.Buffer
	buf.Grow(256)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// put appends v as compact JSON (Encode adds a newline, which is cut).
	put := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1)
		return nil
	}
	// All the values below are strings or finite numbers, which always
	// marshal; only properties can fail.
	buf.WriteString(`{"_aws":{"Timestamp":`)
	_ = put(at.UnixMilli())
	buf.WriteString(`,"CloudWatchMetrics":[{"Namespace":`)
	_ = put(namespace)
	buf.WriteString(`,"Dimensions":[[`)
	for i, name := range dimNames {
		if i > 0 {
			buf.WriteByte(',')
		}
		_ = put(name)
	}
	buf.WriteString(`]],"Metrics":[`)
	for i, m := range metrics {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"Name":`)
		_ = put(m.Name)
		if m.Unit != "" {
			buf.WriteString(`,"Unit":`)
			_ = put(string(m.Unit))
		}
		buf.WriteByte('}')
	}
	buf.WriteString(`]}]}`)
	for _, name := range dimNames {
		buf.WriteByte(',')
		_ = put(name)
		buf.WriteByte(':')
		_ = put(dimensions[name])
	}
	for _, m := range metrics {
		buf.WriteByte(',')
		_ = put(m.Name)
		buf.WriteByte(':')
		_ = put(m.Value)
	}
	for _, name := range propNames {
		buf.WriteByte(',')
		_ = put(name)
		buf.WriteByte(':')
		if err := put(properties[name]); err != nil {
			return nil, fmt.Errorf("emf: property %q: %w", name, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func validate(namespace string, at time.Time, dimensions map[string]string, metrics []Metric, properties map[string]any) error {
	if namespace == "" || len(namespace) > maxNameLen || strings.TrimSpace(namespace) == "" {
		return invalid("namespace %q must have 1 to %d bytes and not be blank", namespace, maxNameLen)
	}
	if at.IsZero() {
		return invalid("zero timestamp")
	}
	if len(dimensions) > MaxDimensions {
		return invalid("%d dimensions, at most %d allowed", len(dimensions), MaxDimensions)
	}
	for name, value := range dimensions {
		if err := checkText(name, maxNameLen); err != nil {
			return invalid("dimension name %q: %v", name, err)
		}
		if name[0] == ':' {
			return invalid("dimension name %q starts with ':'", name)
		}
		if name == awsKey {
			return invalid("dimension name %q is reserved", name)
		}
		if err := checkText(value, maxDimensionValueLen); err != nil {
			return invalid("dimension %q value %q: %v", name, value, err)
		}
		if _, ok := properties[name]; ok {
			return invalid("%q is both a dimension and a property", name)
		}
	}
	if len(metrics) == 0 {
		return invalid("no metrics")
	}
	if len(metrics) > MaxMetrics {
		return invalid("%d metrics, at most %d allowed", len(metrics), MaxMetrics)
	}
	seen := make(map[string]bool, len(metrics))
	for _, m := range metrics {
		switch {
		case m.Name == "" || len(m.Name) > maxNameLen:
			return invalid("metric name %q must have 1 to %d bytes", m.Name, maxNameLen)
		case m.Name == awsKey:
			return invalid("metric name %q is reserved", m.Name)
		case seen[m.Name]:
			return invalid("metric %q appears twice", m.Name)
		case !m.Unit.Valid():
			return invalid("metric %q has unknown unit %q", m.Name, m.Unit)
		case math.IsNaN(m.Value) || math.IsInf(m.Value, 0):
			return invalid("metric %q value %v is not a finite number", m.Name, m.Value)
		}
		seen[m.Name] = true
		if _, ok := dimensions[m.Name]; ok {
			return invalid("%q is both a metric and a dimension", m.Name)
		}
		if _, ok := properties[m.Name]; ok {
			return invalid("%q is both a metric and a property", m.Name)
		}
	}
	for name := range properties {
		if name == "" {
			return invalid("empty property name")
		}
		if name == awsKey {
			return invalid("property name %q is reserved", name)
		}
	}
	return nil
}

// checkText applies the CloudWatch rules for dimension names and values:
// 1 to maxLen bytes of printable ASCII, not only spaces.
func checkText(s string, maxLen int) error {
	if s == "" {
		return errors.New("empty")
	}
	if len(s) > maxLen {
		return fmt.Errorf("longer than %d bytes", maxLen)
	}
	blank := true
	for i := range len(s) {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return errors.New("not printable ASCII")
		}
		if c != ' ' {
			blank = false
		}
	}
	if blank {
		return errors.New("blank")
	}
	return nil
}

// Writer writes EMF lines to an io.Writer, typically os.Stdout in a Lambda
// function. It is safe for concurrent use: each Emit is a single Write of
// one whole, newline-terminated line, and Writes do not overlap.
type Writer struct {
	mu        sync.Mutex
	out       io.Writer
	namespace string
}

// NewWriter returns a Writer of lines in namespace to w.
func NewWriter(w io.Writer, namespace string) *Writer {
	return &Writer{out: w, namespace: namespace}
}

// Emit writes one line (see Line) followed by a newline. A zero at means
// now. Nothing is written if the line is invalid.
func (w *Writer) Emit(at time.Time, dimensions map[string]string, metrics []Metric, properties map[string]any) error {
	if at.IsZero() {
		at = time.Now()
	}
	line, err := Line(w.namespace, at, dimensions, metrics, properties)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err = w.out.Write(line)
	return err
}
