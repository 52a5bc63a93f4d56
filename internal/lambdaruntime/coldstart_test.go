package lambdaruntime

import (
	"slices"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/testenv"
)

// BenchmarkColdStart starts each function cold b.N times and reports:
//
//   - init-ms: the median init duration as the emulator measures it, from
//     starting the bootstrap until the runtime asks for its first
//     invocation (Lambda's "Init Duration"): the Go runtime's start, reading
//     the configuration, the AWS SDK's configuration, and looking up the six
//     queue URLs (six SQS requests, here to the local emulator);
//   - init-max-ms: the slowest of those;
//   - cold-invoke-ms: the median time the first invocation took as its caller
//     saw it: the init, then the handler on a small event.
//
// The time to start the emulator itself is not counted: Lambda's own
// sandbox start is not part of what the binary controls. `make
// lambda-report` runs it.
func BenchmarkColdStart(b *testing.B) {
	env := testenv.New(b)
	environment := functionEnvironment(env)
	cases := []struct {
		function string
		event    []byte
	}{
		// A job that does not exist: one DynamoDB read, answered 404.
		{apiFunction, jobRequest(b, "00000000-0000-0000-0000-000000000000", "/status")},
		// A wake with every queue empty: one poll of each.
		{workerFunction, fixture(b, "sqs-wake-event.json")},
		{schedulerFunction, fixture(b, "eventbridge-sweep.json")},
	}
	binaries(b)
	for _, c := range cases {
		b.Run(c.function, func(b *testing.B) {
			var inits, invokes []time.Duration
			for range b.N {
				f := startFunction(b, c.function, environment)
				start := time.Now()
				result := f.invoke(b, c.event)
				invokes = append(invokes, time.Since(start))
				if result.Error != nil {
					b.Fatalf("%s: %+v", c.function, result.Error)
				}
				inits = append(inits, f.initDuration(b))
				f.stop()
			}
			b.ReportMetric(0, "ns/op") // an iteration's time is mostly the emulator's start and stop
			b.ReportMetric(milliseconds(median(inits)), "init-ms")
			b.ReportMetric(milliseconds(slices.Max(inits)), "init-max-ms")
			b.ReportMetric(milliseconds(median(invokes)), "cold-invoke-ms")
		})
	}
}

func median(samples []time.Duration) time.Duration {
	sorted := slices.Sorted(slices.Values(samples))
	return sorted[len(sorted)/2]
}

func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
