// Package lambdaruntime tests the Lambda functions as they are deployed: the
// bootstrap binaries of functions/api, functions/worker and
// functions/scheduler, built with the flags of `make build` (for this
// machine's architecture), each running under the AWS Lambda Runtime
// Interface Emulator. The emulator speaks the Lambda runtime API to the
// binary exactly as Lambda does (init, next invocation, response or error),
// so these tests cover what the in-process tests of internal/systemtest
// cannot: the process's start-up from its environment, lambda.Start, the
// JSON of real API Gateway, SQS and EventBridge events, and the handlers'
// responses as Lambda serialises them.
//
// The emulator is pinned in rie/go.mod, a module of its own, and installed
// into build/tools by the tests themselves (or `make rie`). The functions
// run against the local AWS emulators on a table and queues of their own
// (internal/testenv), so `make test` runs these tests like every other.
//
// BenchmarkColdStart measures each function's init duration; `make
// lambda-report` prints it with the sizes of the deployed binaries.
package lambdaruntime
