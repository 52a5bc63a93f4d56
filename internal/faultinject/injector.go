package faultinject

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Service IDs as the SDK reports them.
const (
	DynamoDB = dynamodb.ServiceID // "DynamoDB"
	SQS      = sqs.ServiceID      // "SQS"
)

// injectorIDs numbers injectors so that the middleware of two injectors can
// share a stack.
var injectorIDs atomic.Uint64

// Injector decides, for each call made through the clients it is installed
// in, whether to fail it, delay it or let it through, according to its
// rules. The zero value is not usable; call New. It is safe for concurrent
// use.
type Injector struct {
	id uint64

	mu       sync.Mutex
	rules    []*Rule
	calls    map[opKey]int
	attempts map[opKey]int
	requests uint64 // numbers the request IDs of injected responses
}

type opKey struct{ service, operation string }

// New returns an Injector with no rules.
func New() *Injector {
	return &Injector{
		id:       injectorIDs.Add(1),
		calls:    map[opKey]int{},
		attempts: map[opKey]int{},
	}
}

// DynamoDBOption returns a DynamoDB client option that installs the
// injector: dynamodb.NewFromConfig(cfg, inj.DynamoDBOption()).
func (i *Injector) DynamoDBOption() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, i.Middleware) }
}

// SQSOption returns an SQS client option that installs the injector:
// sqs.NewFromConfig(cfg, inj.SQSOption()).
func (i *Injector) SQSOption() func(*sqs.Options) {
	return func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, i.Middleware) }
}

type ruleKind int

const (
	kindFail ruleKind = iota
	kindPause
	kindBlock
)

// Rule is one fault an Injector applies. Its methods are safe for concurrent
// use. The modifiers PerAttempt and AfterSend should be called right after the
// rule is made, before the calls it is meant for start.
type Rule struct {
	inj       *Injector
	service   string
	operation string
	kind      ruleKind
	err       error                // kindFail
	nth       int                  // kindFail: fire only on the nth matching call; 0 = any
	pred      func(input any) bool // nil matches every call
	times     int                  // kindFail: at most this many hits; 0 = unlimited
	delay     time.Duration        // kindPause
	release   chan struct{}        // kindBlock: closed by release
	once      sync.Once            // closes release

	// Guarded by inj.mu.
	perAttempt bool
	afterSend  bool
	seen       int           // matching calls seen
	hits       int           // calls affected
	hitCh      chan struct{} // closed and replaced at each hit
	removed    bool
}

// FailNth fails only the n-th call (1-based) of the operation made after the
// rule was added, with err. Other calls are untouched. It panics if n < 1.
func (i *Injector) FailNth(service, operation string, n int, err error) *Rule {
	if n < 1 {
		panic(fmt.Sprintf("faultinject: FailNth: n must be at least 1, got %d", n))
	}
	return i.add(&Rule{service: service, operation: operation, kind: kindFail, err: mustErr(err), nth: n, times: 1})
}

// FailAll fails every call of the operation with err until the rule is
// removed.
func (i *Injector) FailAll(service, operation string, err error) *Rule {
	return i.add(&Rule{service: service, operation: operation, kind: kindFail, err: mustErr(err)})
}

// FailWhen fails calls of the operation for which pred returns true, with err,
// at most times times (0 = unlimited). pred gets the operation's typed input,
// such as *dynamodb.UpdateItemInput or *sqs.SendMessageInput; a nil pred
// matches every call. pred must not change the input; it may be called
// concurrently. It panics if times < 0.
func (i *Injector) FailWhen(service, operation string, pred func(input any) bool, times int, err error) *Rule {
	if times < 0 {
		panic(fmt.Sprintf("faultinject: FailWhen: times must not be negative, got %d", times))
	}
	return i.add(&Rule{service: service, operation: operation, kind: kindFail, err: mustErr(err), pred: pred, times: times})
}

// Pause delays every call of the operation by d, then lets it go on, until the
// rule is removed. A call whose context ends during the pause returns at once
// with a cancellation error and is not sent.
func (i *Injector) Pause(service, operation string, d time.Duration) *Rule {
	return i.add(&Rule{service: service, operation: operation, kind: kindPause, delay: d})
}

// Block holds every call of the operation until release is called (or the
// rule is removed), then lets the held calls and all later ones go on. A held
// call whose context ends returns at once with a cancellation error and is
// not sent, which is how a test stops a process between two writes. Use
// [Rule.WaitHits] to learn that a call is being held. release may be called
// more than once.
func (i *Injector) Block(service, operation string) (rule *Rule, release func()) {
	r := i.add(&Rule{service: service, operation: operation, kind: kindBlock, release: make(chan struct{})})
	return r, r.unblock
}

func mustErr(err error) error {
	if err == nil {
		panic("faultinject: a failing rule needs a non-nil error")
	}
	return err
}

func (i *Injector) add(r *Rule) *Rule {
	r.inj = i
	r.hitCh = make(chan struct{})
	i.mu.Lock()
	i.rules = append(i.rules, r)
	i.mu.Unlock()
	return r
}

// PerAttempt makes the rule act on each attempt the SDK makes, after its
// retry middleware, instead of on the whole call before it: the SDK's
// retryer then sees the fault and may retry it. It returns r.
func (r *Rule) PerAttempt() *Rule {
	r.inj.mu.Lock()
	r.perAttempt = true
	r.inj.mu.Unlock()
	return r
}

// AfterSend makes a failing rule let the call (or, with PerAttempt, the
// attempt) reach the service and only then return its error in place of the
// result, as when a response is lost after the service acted on the request.
// It has no effect on Pause and Block rules. It returns r.
func (r *Rule) AfterSend() *Rule {
	r.inj.mu.Lock()
	r.afterSend = true
	r.inj.mu.Unlock()
	return r
}

// Remove stops the rule from affecting further calls. Calls held by a Block
// rule are released. Removing a rule twice is harmless.
func (r *Rule) Remove() {
	i := r.inj
	i.mu.Lock()
	if !r.removed {
		r.removed = true
		for k, x := range i.rules {
			if x == r {
				i.rules = append(i.rules[:k:k], i.rules[k+1:]...)
				break
			}
		}
	}
	i.mu.Unlock()
	if r.kind == kindBlock {
		r.unblock()
	}
}

// Hits reports how many calls (or attempts, with PerAttempt) the rule has
// affected: failed, delayed or held.
func (r *Rule) Hits() int {
	r.inj.mu.Lock()
	defer r.inj.mu.Unlock()
	return r.hits
}

// WaitHits waits until the rule has affected at least n calls, or ctx ends.
// For a Block rule a hit is counted when the call starts being held.
func (r *Rule) WaitHits(ctx context.Context, n int) error {
	for {
		r.inj.mu.Lock()
		hits, ch := r.hits, r.hitCh
		r.inj.mu.Unlock()
		if hits >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("faultinject: waiting for %d hits of %s, got %d: %w", n, r, hits, ctx.Err())
		}
	}
}

// String describes the rule, for test failure messages.
func (r *Rule) String() string {
	kind := [...]string{kindFail: "fail", kindPause: "pause", kindBlock: "block"}[r.kind]
	return fmt.Sprintf("%s %s.%s", kind, orAny(r.service), orAny(r.operation))
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func (r *Rule) unblock() { r.once.Do(func() { close(r.release) }) }

// hit records that the rule affects the current call. The caller holds inj.mu.
func (r *Rule) hit() {
	r.hits++
	close(r.hitCh)
	r.hitCh = make(chan struct{})
}

// Calls reports how many calls of the operation were made through
// instrumented clients, affected by a rule or not, retries not counted. An
// empty service or operation matches any.
func (i *Injector) Calls(service, operation string) int {
	return i.count(i.calls, service, operation)
}

// Attempts reports how many attempts the SDK made for calls of the operation,
// retries included, up to the point where a request is sent. Calls failed by
// a whole-call rule make no attempt. An empty service or operation matches
// any.
func (i *Injector) Attempts(service, operation string) int {
	return i.count(i.attempts, service, operation)
}

func (i *Injector) count(m map[opKey]int, service, operation string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	n := 0
	for k, c := range m {
		if matches(service, k.service) && matches(operation, k.operation) {
			n += c
		}
	}
	return n
}

// Reset removes every rule, releasing held calls, and zeroes the counts of
// Calls and Attempts.
func (i *Injector) Reset() {
	i.mu.Lock()
	rules := i.rules
	i.rules = nil
	for _, r := range rules {
		r.removed = true
	}
	i.calls = map[opKey]int{}
	i.attempts = map[opKey]int{}
	i.mu.Unlock()
	for _, r := range rules {
		if r.kind == kindBlock {
			r.unblock()
		}
	}
}

func matches(pattern, name string) bool { return pattern == "" || pattern == name }
