// Package faultinject injects faults into aws-sdk-go-v2 clients (DynamoDB,
// SQS, or any other service client) from inside the SDK's own middleware
// stack, so the code under test is built and called exactly as in
// production. Only the client options a test uses differ:
//
//	inj := faultinject.New()
//	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
//		o.APIOptions = append(o.APIOptions, inj.Middleware)
//	})
//	// or: dynamodb.NewFromConfig(cfg, inj.DynamoDBOption())
//	// or, for every client built from cfg:
//	// cfg.APIOptions = append(cfg.APIOptions, inj.Middleware)
//
// A test then adds rules, and each call made through the client is checked
// against them:
//
//	inj.FailNth(faultinject.DynamoDB, "TransactWriteItems", 2, faultinject.ServerError(faultinject.DynamoDB))
//	inj.FailWhen(faultinject.DynamoDB, "UpdateItem", func(in any) bool {
//		u := in.(*dynamodb.UpdateItemInput)
//		return u.Key["pk"].(*types.AttributeValueMemberS).Value == "job#42"
//	}, 1, faultinject.Throttling(faultinject.DynamoDB))
//	inj.Pause(faultinject.SQS, "SendMessage", 2*time.Second)
//	rule, release := inj.Block(faultinject.DynamoDB, "PutItem")
//
// # Matching
//
// A rule matches by service ID and operation name, as the SDK names them:
// "DynamoDB" and "SQS" (the constants [DynamoDB] and [SQS]) and operation
// names such as "GetItem", "TransactWriteItems" or "SendMessage". An empty
// service or operation matches any. Rules are consulted in the order they
// were added. Pause and Block rules delay a call and let it go on; the first
// failing rule that fires ends the consultation and decides the error. Every
// matching FailNth rule still counts the call, so "the n-th call" always means
// the n-th call made, whatever other rules did to the earlier ones.
//
// # Whole calls and single attempts
//
// Where a fault is injected decides whether the SDK's retryer sees it.
//
// By default a rule acts on the whole call, in the Initialize step, before
// the SDK's retry loop: the operation fails once, with no SDK retry,
// whatever the error — as a caller sees a call that the SDK has given up
// on. Nothing is sent to the service. (A retryable error that really came
// back from the service on the SDK's last attempt would also be wrapped in a
// *retry.MaxAttemptsError; a whole-call fault is not, as no attempt was
// made. Use PerAttempt to get the SDK's own wrapping.)
//
// A rule marked with [Rule.PerAttempt] acts on each attempt instead, at the
// end of the Finalize step, after the retry middleware and just before the
// request would be sent. The SDK's retryer sees those faults like real
// responses: a throttling error injected for fewer attempts than the
// retryer's maximum is retried transparently and the call succeeds; one
// injected for every attempt ends in a [retry.MaxAttemptsError]. Counting
// (FailNth, the times of FailWhen, Hits) is then per attempt.
//
// A failing rule marked with [Rule.AfterSend] lets the call (or attempt) go
// through to the service and then replaces its result with the error: the
// write happened, but the caller never learns it did — a lost response.
//
// # Errors
//
// An injected error that is a [smithy.APIError] (such as those of
// [Throttling] and [ServerError], or a modeled error like
// *types.ConditionalCheckFailedException) is wrapped the way the SDK wraps an
// error response from the service: in an *awshttp.ResponseError carrying a
// synthetic HTTP response (status 500 for a server fault, 400 otherwise) and
// a request ID, and the client wraps that in its *smithy.OperationError. So
// errors.As(err, &apiErr) gives the error code, errors.As with the modeled
// type works, and the retryer classifies the error as it would a real one.
// An error that already carries an HTTP response, and any error that is not
// an API error (say a *smithyhttp.RequestSendError for a dropped
// connection), is returned as given.
//
// A call delayed by Pause or Block whose context ends returns a
// *smithy.CanceledError wrapping the context's error, as the SDK's transport
// does, so errors.Is(err, context.Canceled) holds.
//
// # Counting
//
// [Injector.Calls] counts the calls made through instrumented clients and
// [Injector.Attempts] the attempts the SDK made for them (retries included),
// whether or not a rule affected them. Calls that the SDK rejects before they
// start (input validation) are not counted. [Rule.Hits] counts the calls or
// attempts a rule affected, and [Rule.WaitHits] waits for them, which is how
// a test learns that a call is being held by Block.
//
// An Injector and its rules are safe for concurrent use.
package faultinject
