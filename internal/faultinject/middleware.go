package faultinject

import (
	"context"
	"fmt"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Middleware installs the injector in an SDK middleware stack. Append it to
// a client's (or an aws.Config's) APIOptions. It adds two steps: one at the
// end of the Initialize step, before the retry loop, for whole-call rules,
// and one at the end of the Finalize step, after the retry middleware, for
// per-attempt rules. Installing the same injector twice in one stack (say
// through both the aws.Config and the client options) installs it once.
func (i *Injector) Middleware(stack *middleware.Stack) error {
	callID := fmt.Sprintf("faultinject.Call.%d", i.id)
	if _, ok := stack.Initialize.Get(callID); ok {
		return nil
	}
	if err := stack.Initialize.Add(&callMiddleware{inj: i, id: callID}, middleware.After); err != nil {
		return err
	}
	attemptID := fmt.Sprintf("faultinject.Attempt.%d", i.id)
	return stack.Finalize.Add(&attemptMiddleware{inj: i, id: attemptID}, middleware.After)
}

// inputKey holds the operation's input for the Finalize step, which only
// sees the serialized request.
type inputKey struct{}

type callMiddleware struct {
	inj *Injector
	id  string
}

func (m *callMiddleware) ID() string { return m.id }

func (m *callMiddleware) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	ctx = middleware.WithStackValue(ctx, inputKey{}, in.Parameters)
	afterSend, err := m.inj.apply(ctx, false, in.Parameters)
	if err != nil && !afterSend {
		return middleware.InitializeOutput{}, middleware.Metadata{}, err
	}
	out, md, nextErr := next.HandleInitialize(ctx, in)
	if err != nil {
		return middleware.InitializeOutput{}, md, err
	}
	return out, md, nextErr
}

type attemptMiddleware struct {
	inj *Injector
	id  string
}

func (m *attemptMiddleware) ID() string { return m.id }

func (m *attemptMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	afterSend, err := m.inj.apply(ctx, true, middleware.GetStackValue(ctx, inputKey{}))
	if err != nil && !afterSend {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	out, md, nextErr := next.HandleFinalize(ctx, in)
	if err != nil {
		return middleware.FinalizeOutput{}, md, err
	}
	return out, md, nextErr
}

// apply counts the call (or attempt) and runs the rules for it. It returns
// the error to fail it with, if any, and whether that error replaces the
// result of the call instead of preventing it.
func (i *Injector) apply(ctx context.Context, perAttempt bool, input any) (afterSend bool, err error) {
	key := opKey{awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)}

	i.mu.Lock()
	if perAttempt {
		i.attempts[key]++
	} else {
		i.calls[key]++
	}
	var rules []*Rule
	for _, r := range i.rules {
		if r.perAttempt == perAttempt && matches(r.service, key.service) && matches(r.operation, key.operation) {
			rules = append(rules, r)
		}
	}
	i.mu.Unlock()

	var failWith *Rule
	for _, r := range rules {
		if failWith != nil && r.nth == 0 {
			continue // only FailNth rules count calls that another rule fails
		}
		if r.pred != nil && !r.pred(input) {
			continue
		}
		if !r.claim(failWith != nil) {
			continue
		}
		switch r.kind {
		case kindFail:
			failWith = r
		case kindPause:
			t := time.NewTimer(r.delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return false, &smithy.CanceledError{Err: ctx.Err()}
			}
		case kindBlock:
			select {
			case <-r.release:
			case <-ctx.Done():
				return false, &smithy.CanceledError{Err: ctx.Err()}
			}
		}
	}
	if failWith == nil {
		return false, nil
	}
	i.mu.Lock()
	afterSend = failWith.afterSend
	i.mu.Unlock()
	return afterSend, i.wrap(failWith.err)
}

// claim counts a matching call and reports whether the rule affects it.
// decided tells that an earlier rule already fails the call: the call then
// still counts towards FailNth, but nothing else happens to it.
func (r *Rule) claim(decided bool) bool {
	i := r.inj
	i.mu.Lock()
	defer i.mu.Unlock()
	if r.removed {
		return false
	}
	r.seen++
	if decided {
		return false
	}
	switch r.kind {
	case kindFail:
		if r.nth > 0 && r.seen != r.nth {
			return false
		}
		if r.times > 0 && r.hits >= r.times {
			return false
		}
	case kindBlock:
		select {
		case <-r.release:
			return false // released: calls pass
		default:
		}
	}
	r.hit()
	return true
}
