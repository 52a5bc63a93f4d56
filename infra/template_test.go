package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/dainostore/jobs/internal/schema"
)

// testStackName is the stack's name in the tests, and so the queue prefix.
const testStackName = "JobsTest"

// testIssuer is the JWT issuer the tests configure.
const testIssuer = "https://issuer.example.com/"

// synthesized is one synthesized stack: the CDK assertions template and its
// JSON, which the tests walk where a matcher cannot say what they check.
type synthesized struct {
	template  assertions.Template
	resources map[string]resource
	json      map[string]any
}

// resource is one entry of the template's Resources.
type resource struct {
	Type                string
	Properties          map[string]any
	DeletionPolicy      string
	UpdateReplacePolicy string
}

// defaultStack is synthesized once, from the repository's cdk.json context
// and the properties a deployment sets least: only the issuer.
var defaultStack *synthesized

func TestMain(m *testing.M) {
	code := func() int {
		defer jsii.Close()
		assets, err := fakeAssets()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(assets)
		testAssets = assets
		defaultStack, err = synth(JobsStackProps{AuthIssuer: testIssuer})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// testAssets holds a bootstrap file per function, so the tests do not
// depend on `make build`.
var testAssets string

func fakeAssets() (string, error) {
	dir, err := os.MkdirTemp("", "infra-assets-")
	if err != nil {
		return "", err
	}
	for _, fn := range []string{"api", "worker", "scheduler"} {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// cdkContext is the context of the repository's cdk.json, so the tests
// synthesize with the same feature flags as the CLI.
func cdkContext() (map[string]any, error) {
	data, err := os.ReadFile("../cdk.json")
	if err != nil {
		return nil, err
	}
	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return file.Context, nil
}

// synth synthesizes the stack with the given properties.
func synth(props JobsStackProps) (s *synthesized, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synthesis failed: %v\n%s", r, debug.Stack())
		}
	}()
	ctx, err := cdkContext()
	if err != nil {
		return nil, err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, AnalyticsReporting: jsii.Bool(false)})
	if props.AssetDir == "" {
		props.AssetDir = testAssets
	}
	stack := NewJobsStack(app, testStackName, props)
	template := assertions.Template_FromStack(stack, nil)
	data, err := json.Marshal(template.ToJSON())
	if err != nil {
		return nil, err
	}
	s = &synthesized{template: template}
	if err := json.Unmarshal(data, &s.json); err != nil {
		return nil, err
	}
	var parsed struct{ Resources map[string]resource }
	if err := json.Unmarshal(data, &parsed); err != nil {
		return nil, err
	}
	s.resources = parsed.Resources
	return s, nil
}

// ofType returns the resources of a type by logical id.
func (s *synthesized) ofType(typ string) map[string]resource {
	found := map[string]resource{}
	for id, r := range s.resources {
		if r.Type == typ {
			found[id] = r
		}
	}
	return found
}

// logicalID finds the one resource of a type created at the stack's top
// level with the given construct id (CDK appends an 8-digit hash).
func (s *synthesized) logicalID(t *testing.T, typ, constructID string) string {
	t.Helper()
	pattern := regexp.MustCompile("^" + regexp.QuoteMeta(constructID) + "[0-9A-F]{8}$")
	var ids []string
	for id := range s.ofType(typ) {
		if pattern.MatchString(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		sort.Strings(ids)
		t.Fatalf("%d resources of type %s named %s: %v", len(ids), typ, constructID, ids)
	}
	return ids[0]
}

// resource returns a resource by construct id.
func (s *synthesized) resource(t *testing.T, typ, constructID string) resource {
	t.Helper()
	return s.resources[s.logicalID(t, typ, constructID)]
}

// assert runs a CDK assertion, which panics when it fails, as a test failure.
func assert(t *testing.T, check func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Helper()
			t.Error(r)
		}
	}()
	check()
}

// ref and getAtt are CloudFormation's intrinsic references.
func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func getAtt(id, attribute string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attribute}}
}

// referencedIDs lists the logical ids an intrinsic value refers to
// (Ref, Fn::GetAtt, at any depth of Fn::Join and the like).
func referencedIDs(v any) []string {
	var ids []string
	switch v := v.(type) {
	case map[string]any:
		if id, ok := v["Ref"].(string); ok {
			ids = append(ids, id)
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && len(att) > 0 {
			if id, ok := att[0].(string); ok {
				ids = append(ids, id)
			}
		}
		for _, inner := range v {
			ids = append(ids, referencedIDs(inner)...)
		}
	case []any:
		for _, inner := range v {
			ids = append(ids, referencedIDs(inner)...)
		}
	}
	return ids
}

// list turns a value that CloudFormation allows as one item or a list into
// a list.
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// jsonEqual compares two values as JSON.
func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// single is the stack's one resource of a type; more or none fails the test.
func (s *synthesized) single(t *testing.T, typ string) resource {
	t.Helper()
	found := s.ofType(typ)
	if len(found) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(found), typ)
	}
	for _, r := range found {
		return r
	}
	panic("unreachable")
}

// wakeMapping is the one event source mapping: the wake queue's.
func (s *synthesized) wakeMapping(t *testing.T) resource {
	t.Helper()
	return s.single(t, "AWS::Lambda::EventSourceMapping")
}

// queueID finds a queue by its name, <stack name>-<suffix>.
func (s *synthesized) queueID(t *testing.T, suffix string) string {
	t.Helper()
	name := schema.QueueName(testStackName, suffix)
	for id, q := range s.ofType("AWS::SQS::Queue") {
		if q.Properties["QueueName"] == name {
			return id
		}
	}
	t.Fatalf("no queue named %s", name)
	return ""
}

// env is a function's environment.
func (s *synthesized) env(t *testing.T, fn string) map[string]any {
	t.Helper()
	env, _ := dig(s.resource(t, "AWS::Lambda::Function", fn).Properties, "Environment", "Variables").(map[string]any)
	return env
}

// grants are a role's allowed actions: action → the JSON of each resource.
type grants map[string][]any

// grants collects what a function's role allows.
func (s *synthesized) grants(t *testing.T, fn string) grants {
	t.Helper()
	role := s.logicalID(t, "AWS::IAM::Role", fn+"Role")
	g := grants{}
	for _, policy := range s.ofType("AWS::IAM::Policy") {
		if !jsonEqual(policy.Properties["Roles"], []any{ref(role)}) {
			continue
		}
		for _, st := range list(dig(policy.Properties, "PolicyDocument", "Statement")) {
			st := st.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			for _, action := range list(st["Action"]) {
				g[action.(string)] = append(g[action.(string)], list(st["Resource"])...)
			}
		}
	}
	return g
}

// allows reports whether the action is allowed on the resource itself (an
// ARN of the logical id, not a path below it).
func (g grants) allows(action, logicalID string) bool {
	for _, res := range g[action] {
		if jsonEqual(res, getAtt(logicalID, "Arn")) || jsonEqual(res, ref(logicalID)) {
			return true
		}
	}
	return false
}

// on lists the actions the grants allow on exactly this resource (a
// template value such as getAtt(id, "Arn")), sorted.
func (g grants) on(resource any) []string {
	var actions []string
	for action, resources := range g {
		if slices.ContainsFunc(resources, func(r any) bool { return jsonEqual(r, resource) }) {
			actions = append(actions, action)
		}
	}
	slices.Sort(actions)
	return actions
}

// objectsOf is the ARN pattern of every object of a bucket, as CDK writes it.
func objectsOf(bucketID string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{getAtt(bucketID, "Arn"), "/*"}}}
}

// indexes lists the table's indexes that the grants allow to query.
func (g grants) indexes(tableID string) []string {
	var names []string
	for _, res := range g["dynamodb:Query"] {
		parts, _ := dig(res, "Fn::Join").([]any)
		if len(parts) != 2 {
			continue
		}
		pieces := parts[1].([]any)
		if len(pieces) == 2 && jsonEqual(pieces[0], getAtt(tableID, "Arn")) {
			if name, ok := strings.CutPrefix(pieces[1].(string), "/index/"); ok {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// dig follows keys into nested JSON objects; nil where one is missing.
func dig(v any, keys ...string) any {
	for _, key := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}
	return v
}
