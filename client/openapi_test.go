package client

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/docs"
)

// The Go type of each schema of the OpenAPI document. Every object schema
// of the document must be here: a schema added to the API without its type
// here fails TestTypesFollowTheOpenAPIDocument.
var schemaTypes = map[string]any{
	"CreateJobRequest":   CreateRequest{},
	"Job":                Job{},
	"JobEnvelope":        jobEnvelope{},
	"JobStatus":          JobStatus{},
	"Waiting":            Waiting{},
	"Estimate":           Estimate{},
	"JobStatusEnvelope":  jobStatusEnvelope{},
	"JobPage":            JobPage{},
	"QueueStatus":        QueueStatus{},
	"PauseRequest":       pauseRequest{},
	"Pauses":             Pauses{},
	"DeadLetters":        DeadLetters{},
	"Error":              errorEnvelope{},
	"ConflictError":      conflictEnvelope{},
	"LogEntry":           LogEntry{},
	"LogPage":            LogPage{},
	"Percentiles":        Percentiles{},
	"MetricsRow":         MetricsRow{},
	"Metrics":            Metrics{},
	"Alert":              Alert{},
	"FailureGroup":       FailureGroup{},
	"Alerts":             Alerts{},
	"Connection":         Connection{},
	"ConnectionEnvelope": connectionEnvelope{},
	"Connections":        connectionList{},
	"Product":            Product{},
	"ProductEnvelope":    productEnvelope{},
	"Listing":            Listing{},
	"ProductPage":        ProductPage{},
	"Collection":         Collection{},
	"CollectionPage":     CollectionPage{},
	"Category":           Category{},
	"CategoryPage":       CategoryPage{},
	"UILabel":            UILabel{},
	"UILabelPage":        UILabelPage{},
	"UILabelsRequest":    uiLabelsRequest{},
	"UILabelsWritten":    UILabelsWritten{},
	"ImageURL":           ImageURL{},
	"Credits":            Credits{},
	"Schedule":           Schedule{},
	"ScheduleRun":        ScheduleRun{},
	"ScheduleEnvelope":   scheduleEnvelope{},
	"Schedules":          scheduleList{},
	"ScheduleRequest":    ScheduleRequest{},
	"SchedulePatch":      SchedulePatch{},
}

// Schemas that are not objects of their own, with the reason.
var schemasWithoutType = map[string]string{
	"StoreID":           "a string",
	"Status":            "Status",
	"Priority":          "Priority",
	"Time":              "time.Time",
	"Marketplace":       "a string (the Shopify, Akeneo, Amazon, Ebay constants)",
	"LanguageCode":      "a string",
	"ConnectionRequest": "one object per marketplace: Connect takes the caller's value as it is",
}

// The client's method for each operation of the document.
var operationMethods = map[string]string{
	"healthz":          "Healthz",
	"openapi":          "OpenAPI",
	"createJob":        "Create",
	"listJobs":         "ListPage",
	"queueStatus":      "QueueStatus",
	"getJob":           "Get",
	"jobStatus":        "Status",
	"cancelJob":        "Cancel",
	"retryJob":         "Retry",
	"pauseQueue":       "Pause",
	"resumeQueue":      "Resume",
	"deadLetters":      "DeadLetters",
	"jobLogs":          "Logs",
	"metrics":          "Metrics",
	"alerts":           "Alerts",
	"listConnections":  "Connections",
	"putConnection":    "Connect",
	"deleteConnection": "Disconnect",
	"listProducts":     "ProductsPage",
	"getProduct":       "Product",
	"listCollections":  "Collections",
	"listCategories":   "Categories",
	"getImage":         "ImageURL",
	"getCredits":       "Credits",
	"getUILabels":      "UILabels",
	"putUILabels":      "PutUILabels",
	"listSchedules":    "Schedules",
	"createSchedule":   "CreateSchedule",
	"getSchedule":      "Schedule",
	"updateSchedule":   "UpdateSchedule",
	"deleteSchedule":   "DeleteSchedule",
	"runSchedule":      "RunSchedule",
}

type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 any                `json:"type"`
	Format               string             `json:"format"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	Items                *schema            `json:"items"`
	OneOf                []*schema          `json:"oneOf"`
	AnyOf                []*schema          `json:"anyOf"`
	Const                any                `json:"const"`
}

func loadDoc(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// Every operation of the document has its method on Client, and every
// method named here is an operation of the document.
func TestEveryOperationHasItsMethod(t *testing.T) {
	doc := loadDoc(t)
	seen := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			seen[op.OperationID] = true
			name, ok := operationMethods[op.OperationID]
			if !ok {
				t.Errorf("%s %s (%s) has no method on Client", strings.ToUpper(method), path, op.OperationID)
				continue
			}
			if _, ok := reflect.TypeFor[*Client]().MethodByName(name); !ok {
				t.Errorf("operation %s: Client has no method %s", op.OperationID, name)
			}
		}
	}
	for id := range operationMethods {
		if !seen[id] {
			t.Errorf("operation %s is not in the document", id)
		}
	}
}

// Each schema's properties are its Go type's JSON fields, both ways, with
// matching kinds; a required property is never left out when encoded.
func TestTypesFollowTheOpenAPIDocument(t *testing.T) {
	doc := loadDoc(t)
	for name, s := range doc.Components.Schemas {
		goValue, ok := schemaTypes[name]
		if !ok {
			if _, scalar := schemasWithoutType[name]; !scalar {
				t.Errorf("schema %s has no Go type in schemaTypes", name)
			}
			continue
		}
		var problems []string
		checker{problems: &problems, schemas: doc.Components.Schemas}.check(name, s, reflect.TypeOf(goValue))
		for _, p := range problems {
			t.Error(p)
		}
	}
	for name := range schemaTypes {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("schemaTypes names %s, which the document does not have", name)
		}
	}
}

// checker gathers what does not match.
type checker struct {
	problems *[]string
	schemas  map[string]*schema
}

func (c checker) errorf(format string, args ...any) {
	*c.problems = append(*c.problems, fmt.Sprintf(format, args...))
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

func (c checker) resolve(s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = c.schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// check reports where the Go type t cannot carry what schema s describes.
func (c checker) check(at string, s *schema, t reflect.Type) {
	s = c.resolve(s)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if alternatives := append(slices.Clone(s.OneOf), s.AnyOf...); len(alternatives) > 0 {
		// Nullable (X or null), or alternatives of which one must fit.
		var fits int
		for _, alt := range alternatives {
			alt = c.resolve(alt)
			if alt.Type == "null" {
				fits++
				continue
			}
			if c.fits(alt, t) {
				fits++
			}
		}
		if fits == 0 {
			c.errorf("%s: %s fits none of the schema's alternatives", at, t)
		}
		return
	}
	if t == rawType || t.Kind() == reflect.Interface {
		return // any JSON value
	}
	switch s.Type {
	case "object":
		c.checkObject(at, s, t)
	case "array":
		if t.Kind() != reflect.Slice {
			c.errorf("%s: an array in the document, %s in Go", at, t)
			return
		}
		c.check(at+"[]", s.Items, t.Elem())
	case "string":
		if t != timeType && t.Kind() != reflect.String {
			c.errorf("%s: a string in the document, %s in Go", at, t)
		}
		if s.Format == "date-time" && t != timeType {
			c.errorf("%s: a date-time in the document, %s in Go", at, t)
		}
	case "integer":
		if k := t.Kind(); k < reflect.Int || k > reflect.Uint64 {
			c.errorf("%s: an integer in the document, %s in Go", at, t)
		}
	case "number":
		if k := t.Kind(); k != reflect.Float64 && k != reflect.Float32 {
			c.errorf("%s: a number in the document, %s in Go", at, t)
		}
	case "boolean":
		if t.Kind() != reflect.Bool {
			c.errorf("%s: a boolean in the document, %s in Go", at, t)
		}
	case nil:
		if s.Const != nil && t.Kind() != reflect.String {
			c.errorf("%s: a constant in the document, %s in Go", at, t)
		}
	}
}

// fits says whether check finds nothing wrong.
func (c checker) fits(s *schema, t reflect.Type) bool {
	var problems []string
	checker{problems: &problems, schemas: c.schemas}.check("", s, t)
	return len(problems) == 0
}

func (c checker) checkObject(at string, s *schema, t reflect.Type) {
	if len(s.Properties) == 0 {
		switch {
		case t.Kind() == reflect.Map:
			var values *schema
			if len(s.AdditionalProperties) > 0 && json.Unmarshal(s.AdditionalProperties, &values) == nil && values != nil {
				c.check(at+"{}", values, t.Elem())
			}
		case t.Kind() != reflect.Struct:
			c.errorf("%s: an object in the document, %s in Go", at, t)
		}
		return
	}
	if t.Kind() != reflect.Struct {
		c.errorf("%s: an object with properties in the document, %s in Go", at, t)
		return
	}
	fields := map[string]reflect.StructField{}
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() && name == "" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f
		if _, ok := s.Properties[name]; !ok {
			c.errorf("%s: Go field %s.%s (%q) is not in the document", at, t.Name(), f.Name, name)
		}
		if slices.Contains(s.Required, name) && strings.Contains(opts, "omitempty") {
			c.errorf("%s.%s is required by the document but omitempty in Go", at, name)
		}
	}
	for name, prop := range s.Properties {
		f, ok := fields[name]
		if !ok {
			c.errorf("%s.%s is in the document but not in Go type %s", at, name, t)
			continue
		}
		c.check(at+"."+name, prop, f.Type)
	}
}
