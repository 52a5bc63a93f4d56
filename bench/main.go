// Command jobsbench measures what a job of the job queue costs and how fast
// it moves, on the local emulators, beside Asynq (Redis) and River
// (PostgreSQL) running the same no-op jobs on the same machine, and how
// close the catalog imports and exports come to the marketplaces' rate
// limits and the AI's answer time, and writes the results as markdown and
// JSON. `make bench` starts what it needs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "jobsbench:", err)
		os.Exit(1)
	}
}

// settings are the sizes of the run; the defaults are those of the table.
type settings struct {
	out           string
	redisAddr     string
	postgresURL   string
	costRuns      int
	latencyJobs   int
	backlog       int
	urgentJobs    int
	throughputN   int
	readSizes     []int
	concurrencies []int
	submitters    int
	// shopifyProducts and akeneoProducts size the import benchmarks.
	shopifyProducts int
	akeneoProducts  int
	// exportProducts sizes each export benchmark.
	exportProducts int
	phases         map[string]bool
	// translationLabels sizes the translation benchmark.
	translationLabels int
}

func run() error {
	var s settings
	var readSizes, concurrencies string
	flag.StringVar(&s.out, "out", "results", "directory for results.md and results.json")
	flag.StringVar(&s.redisAddr, "redis", "", "Redis address for Asynq (empty: skip Asynq)")
	flag.StringVar(&s.postgresURL, "postgres", "", "PostgreSQL URL for River (empty: skip River)")
	flag.IntVar(&s.costRuns, "cost-runs", 3, "runs of each cost scenario")
	flag.IntVar(&s.latencyJobs, "latency-jobs", 2000, "no-op jobs of the latency run")
	flag.IntVar(&s.backlog, "backlog", 5000, "low jobs queued behind the urgent ones")
	flag.IntVar(&s.urgentJobs, "urgent-jobs", 20, "urgent jobs measured behind the backlog")
	flag.IntVar(&s.throughputN, "throughput-jobs", 1000, "no-op jobs of each throughput run")
	flag.StringVar(&readSizes, "read-sizes", "1000,100000", "stored jobs at which reads are measured")
	flag.StringVar(&concurrencies, "concurrency", "5,50", "worker concurrencies of the throughput runs")
	flag.IntVar(&s.submitters, "submitters", 10, "clients creating jobs at once in throughput and backlog runs")
	flag.IntVar(&s.shopifyProducts, "import-shopify-products", 1000, "products of the Shopify import (0: skip it)")
	flag.IntVar(&s.akeneoProducts, "import-akeneo-products", 5000, "products of the Akeneo import (0: skip it)")
	flag.IntVar(&s.exportProducts, "export-products", 200, "products of the Amazon and eBay exports (0: skip them)")
	flag.IntVar(&s.translationLabels, "translation-labels", 500, "UI labels of the translation (0: skip it)")
	phases := flag.String("phases", "cost,flow,reads,imports,exports,translations,schedules", "what to measure: cost, flow (latency, throughput, peers), reads, imports, exports, translations, schedules")
	flag.Parse()
	s.phases = map[string]bool{}
	for _, phase := range strings.Split(*phases, ",") {
		s.phases[strings.TrimSpace(phase)] = true
	}
	var err error
	if s.readSizes, err = ints(readSizes); err != nil {
		return err
	}
	if s.concurrencies, err = ints(concurrencies); err != nil {
		return err
	}
	// The imports add about five minutes, most of it the Shopify import's
	// wait for its cost bucket; the exports about four, most of it the AI's
	// answers; the schedules about four, most of it waiting for due times.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	began := time.Now()
	r := Results{Environment: environment(ctx, s), Prices: allPrices, PricesTakenOn: PricesTakenOn}
	if s.phases["cost"] {
		if r.Cost, err = measureCosts(ctx, s.costRuns); err != nil {
			return fmt.Errorf("cost: %w", err)
		}
	}
	if s.phases["flow"] {
		if r.Flow, err = measureFlows(ctx, s); err != nil {
			return fmt.Errorf("latency and throughput: %w", err)
		}
	}
	if s.phases["reads"] {
		if r.Reads, err = measureReadCosts(ctx, s.readSizes); err != nil {
			return fmt.Errorf("read cost: %w", err)
		}
	}
	if s.phases["imports"] {
		if r.Imports, err = measureImports(ctx, s); err != nil {
			return fmt.Errorf("imports: %w", err)
		}
	}
	if s.phases["exports"] && s.exportProducts > 0 {
		if r.Exports, err = measureExports(ctx, s); err != nil {
			return fmt.Errorf("exports: %w", err)
		}
	}
	if s.phases["translations"] && s.translationLabels > 0 {
		if r.Translations, err = measureTranslations(ctx, s); err != nil {
			return fmt.Errorf("translations: %w", err)
		}
	}
	if s.phases["schedules"] {
		schedules, err := measureSchedules(ctx)
		if err != nil {
			return fmt.Errorf("schedules: %w", err)
		}
		r.Schedules = &schedules
	}
	r.Seconds = time.Since(began).Seconds()
	return r.write(s.out)
}

func ints(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a list of positive numbers", list)
		}
		out = append(out, n)
	}
	return out, nil
}

// progress tells the person waiting what is being measured.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}
