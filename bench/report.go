package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Results is everything one run measured.
type Results struct {
	Environment   Environment  `json:"environment"`
	Cost          CostResults  `json:"cost"`
	Flow          []SystemFlow `json:"flow"`
	Reads         ReadCosts    `json:"reads"`
	Imports       []ImportRun  `json:"imports"`
	Exports       []ExportRun  `json:"exports"`
	Prices        []Price      `json:"prices"`
	PricesTakenOn string       `json:"prices_taken_on"`
	Seconds       float64      `json:"seconds"`
	// Translations are the UI label translation's runs.
	Translations []TranslationRun `json:"translations"`
	// Schedules are the recurring schedules' costs and punctuality.
	Schedules *ScheduleResults `json:"schedules,omitempty"`
}

// Environment is where and with what the run was made.
type Environment struct {
	Date     string            `json:"date"`
	CPU      string            `json:"cpu"`
	Cores    int               `json:"cores"`
	Go       string            `json:"go"`
	Versions map[string]string `json:"versions"`
}

func environment(ctx context.Context, s settings) Environment {
	env := Environment{Date: time.Now().UTC().Format(time.RFC3339), CPU: cpuModel(), Cores: runtime.NumCPU(), Go: runtime.Version(), Versions: map[string]string{}}
	for name, version := range emulatorVersions() {
		env.Versions[name] = version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			switch dep.Path {
			case "github.com/hibiken/asynq", "github.com/riverqueue/river", "github.com/aws/aws-sdk-go-v2":
				env.Versions[dep.Path] = dep.Version
			}
		}
	}
	if s.redisAddr != "" {
		network, address := redisAddress(s.redisAddr)
		rdb := redis.NewClient(&redis.Options{Network: network, Addr: address})
		if info, err := rdb.Info(ctx, "server").Result(); err == nil {
			env.Versions["redis-server"] = infoField(info, "redis_version")
		}
		rdb.Close()
	}
	if s.postgresURL != "" {
		if conn, err := pgx.Connect(ctx, s.postgresURL); err == nil {
			var v string
			if conn.QueryRow(ctx, "SHOW server_version").Scan(&v) == nil {
				env.Versions["postgresql"] = v
			}
			conn.Close(ctx)
		}
	}
	if out, err := exec.CommandContext(ctx, "node", "--version").Output(); err == nil {
		env.Versions["node"] = strings.TrimSpace(string(out))
	}
	return env
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if name, value, ok := strings.Cut(scanner.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return runtime.GOARCH
}

func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// emulatorVersions reads the pinned emulators from localstack's lock file.
func emulatorVersions() map[string]string {
	versions := map[string]string{}
	data, err := os.ReadFile(filepath.Join("..", "localstack", "package-lock.json"))
	if err != nil {
		return versions
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if json.Unmarshal(data, &lock) != nil {
		return versions
	}
	for _, name := range []string{"fauxqs", "dynalite"} {
		if p, ok := lock.Packages["node_modules/"+name]; ok {
			versions[name] = p.Version
		}
	}
	return versions
}

func (r Results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	progress("wrote %s and %s", filepath.Join(dir, "results.md"), filepath.Join(dir, "results.json"))
	return nil
}

func (r Results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	e := r.Environment
	p("# Benchmark results")
	p("")
	p("Made by `make bench` on %s: %s, %d cores, %s; %s. The run took %.0f s.", e.Date, e.CPU, e.Cores, e.Go, versionList(e.Versions), r.Seconds)
	p("docs/performance.md explains every figure. Requests and capacity units are counts, exact whatever the machine;")
	p("times were measured on the local emulators (dynalite behind dynamoproxy, fauxqs), which are far slower than AWS.")
	p("")
	p("## Cost per job")
	p("")
	p("Bookkeeping of one `dev:simulate` job (API call to the end of the worker's invocation), with the worker set up as on AWS, in US dollars per million jobs at the us-east-1 on-demand prices of %s (below).", r.PricesTakenOn)
	p("")
	p("| job | requests | DynamoDB | SQS | of them empty receives | floor | ratio to floor | read units | write units | worker invocations | DynamoDB $ | SQS $ | API and invocation requests $ | **total $ / million jobs** |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range r.Cost.Jobs {
		p("| %s | %.1f | %.1f | %.1f | %.1f | %d | %.2f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | **%.2f** |", c.Scenario, c.Requests, c.DynamoDB, c.SQS, c.EmptyPolls, c.Floor, c.FloorRatio, c.ReadUnits, c.WriteUnits, c.Invocations, c.USD.DynamoDB, c.USD.SQS, c.USD.Requests, c.USD.Total)
	}
	p("")
	p("Lambda compute is apart: a job whose handler runs 1 s in a 128 MB arm64 worker costs $%.2f per million jobs. The worker's own time per job as measured here (waits included):", r.Cost.ComputeUSD)
	p("")
	p("| job | worker seconds per job | at 128 MB, $ / million jobs |")
	p("|---|---:|---:|")
	for _, c := range r.Cost.Jobs {
		p("| %s | %.2f | %.2f |", c.Scenario, c.WorkerSeconds, c.USD.WorkerTime)
	}
	p("")
	p("### Requests by operation, per job")
	p("")
	header := "| operation |"
	rule := "|---|"
	for _, c := range r.Cost.Jobs {
		header += " " + c.Scenario + " |"
		rule += "---:|"
	}
	p("%s", header)
	p("%s", rule)
	for _, op := range operationsOf(r.Cost.Jobs) {
		row := "| " + op + " |"
		for _, c := range r.Cost.Jobs {
			row += " " + operationCell(c, op) + " |"
		}
		p("%s", row)
	}
	p("")
	p("Cells are requests (read units / write units). DynamoDB units are those the emulator reports: table writes by item size, transactions at 2 per item; writes to global secondary indexes are not included (see docs/performance.md).")
	p("")
	p("### Fixed costs")
	p("")
	p("| what | requests each | read units | write units | a month | $ a month |")
	p("|---|---:|---:|---:|---:|---:|")
	for _, f := range r.Cost.Fixed {
		p("| %s | %d | %.1f | %.1f | %d | %.2f |", f.What, f.Requests, f.ReadUnits, f.WriteUnits, f.PerMonth, f.USD)
	}
	p("")
	p("## Latency and throughput (no-op jobs, same machine, same run)")
	p("")
	ours := r.flow("ours")
	p("| system | create → running p50 / p95 / p99 ms | running → completed p50 / p95 / p99 ms | ratio to ours (p50, p50) |")
	p("|---|---:|---:|---:|")
	for _, f := range r.Flow {
		p("| %s | %s | %s | %s, %s |", f.System, triple(f.Latency.Pickup), triple(f.Latency.Finish), ratio(f.Latency.Pickup.P50, ours.Latency.Pickup.P50), ratio(f.Latency.Finish.P50, ours.Latency.Finish.P50))
	}
	p("")
	p("Closed loop: %d jobs, 5 clients each creating a job and waiting for it to complete, concurrency 5.", firstN(r.Flow))
	p("")
	p("| system | urgent job create → running behind %d low jobs, p50 / p95 / max ms | ratio to ours (p50) |", r.backlog())
	p("|---|---:|---:|")
	for _, f := range r.Flow {
		p("| %s | %.0f / %.0f / %.0f | %s |", f.System, f.Urgent.Pickup.P50, f.Urgent.Pickup.P95, f.Urgent.Pickup.Max, ratio(f.Urgent.Pickup.P50, ours.Urgent.Pickup.P50))
	}
	p("")
	p("| system | concurrency | jobs | seconds | jobs / s | ratio to ours | requests per job (empty receives; worker invocations) |")
	p("|---|---:|---:|---:|---:|---:|---:|")
	for _, f := range r.Flow {
		for i, t := range f.Throughput {
			var base float64
			if i < len(ours.Throughput) {
				base = ours.Throughput[i].PerSecond
			}
			load := "–"
			if t.Load != nil {
				load = fmt.Sprintf("%.1f (%.1f; %.2f)", t.Load.Requests, t.Load.EmptyReceives, t.Load.Invocations)
			}
			p("| %s | %d | %d | %.1f | %.1f | %s | %s |", f.System, t.Concurrency, t.Jobs, t.Seconds, t.PerSecond, ratio(t.PerSecond, base), load)
		}
	}
	p("")
	p("## Read cost with stored jobs")
	p("")
	sizes := r.readSizes()
	header, rule = "| read |", "|---|"
	for _, n := range sizes {
		header += fmt.Sprintf(" %d jobs: requests (read units) |", n)
		rule += "---:|"
	}
	p("%s", header)
	p("%s", rule)
	for _, name := range r.readNames() {
		row := "| " + name + " |"
		for _, n := range sizes {
			for _, rc := range r.Reads.Reads {
				if rc.Read == name && rc.StoredJobs == n {
					row += fmt.Sprintf(" %d (%.1f) |", rc.Requests, rc.ReadUnits)
				}
			}
		}
		p("%s", row)
	}
	p("")
	p("Loading the jobs (BatchWriteItem, 25 a request) took %.0f s.", r.Reads.LoadSeconds)
	p("")
	if len(r.Imports) > 0 {
		r.importsMarkdown(p)
	}
	if len(r.Exports) > 0 {
		r.exportsMarkdown(p)
	}
	if len(r.Translations) > 0 {
		r.translationsMarkdown(p)
	}
	if r.Schedules != nil {
		r.schedulesMarkdown(p)
	}
	p("## Prices used (us-east-1, on demand, taken %s)", r.PricesTakenOn)
	p("")
	p("| price | USD | per | source |")
	p("|---|---:|---|---|")
	for _, pr := range r.Prices {
		p("| %s | %.10g | %s | %s |", pr.Name, pr.USD, pr.Per, pr.Source)
	}
	return b.String()
}

// importsMarkdown writes the catalog imports' section.
func (r Results) importsMarkdown(p func(format string, args ...any)) {
	p("## Catalog imports")
	p("")
	p("Each import is created through the API and run by the worker behind the event source mapping, with the store's connection encrypted with KMS, the catalog in DynamoDB and the images in S3, against the sandbox's fake of the marketplace enforcing its limit, in real time.")
	p("")
	p("| import | limit | outcome | wall s | floor s | ratio | marketplace requests: API / images / tokens | throttled | images downloaded | products / s |")
	p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, run := range r.Imports {
		outcome := run.Outcome
		if run.Outcome != "completed" {
			outcome = fmt.Sprintf("**%s** after %d of %d attempts, at %q", run.Outcome, run.Attempts, run.MaxAttempts, run.Progress)
		} else if run.Attempts > 1 {
			outcome = fmt.Sprintf("completed in %d attempts", run.Attempts)
		}
		ratio := "–"
		if run.FloorRatio > 0 {
			ratio = fmt.Sprintf("%.2f×", run.FloorRatio)
		}
		p("| %s | %s | %s | %.1f | %.1f | %s | %d: %d / %d / %d | %d | %d | %.1f |", run.label(), run.Limit, outcome, run.WallSeconds, run.FloorSeconds, ratio,
			run.Requests, run.APIRequests, run.ImageRequests, run.TokenRequests, run.Throttled, run.Result.Images.Downloaded, run.Time.ProductsPerSecond)
	}
	p("")
	p("Floors:")
	p("")
	for _, run := range r.Imports {
		p("- %s: %s = %.1f s.", run.label(), run.FloorDefinition, run.FloorSeconds)
	}
	p("")
	p("Where the wall time went, in seconds: wall = floor + offset + before the first request + budget full + budget left + after the last request. The budget is the limit's bucket (Shopify's points; Akeneo's second of requests) replayed over the requests as the marketplace saw them; it sat full while the import was busy elsewhere, and what it held after the last request was never spent.")
	p("")
	p("| import | floor | offset | before the first request | budget full (of it, ended by an API call: between pages) | budget left | after the last request | wall |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, run := range r.Imports {
		t := run.Time
		p("| %s | %.1f | %.1f | %.1f | %.1f (%.1f) | %.1f | %.1f | %.1f |", run.label(), run.FloorSeconds, t.FloorOffset, t.BeforeFirstRequest, t.BudgetFull, t.BudgetFullBeforeAPI, t.BudgetLeft, t.AfterLastRequest, run.WallSeconds)
	}
	p("")
	p("### AWS requests of the imports")
	p("")
	p("Our code's requests from the create call to the outcome (Lambda's polls of the wake queue left out). DynamoDB and SQS are counted by internal/meter, with the capacity units the emulator reports; S3 and KMS, which the meter does not cover, by a counter on the SDK clients. Latencies are means on the emulators.")
	p("")
	columns := make([]awsColumn, len(r.Imports))
	for i, run := range r.Imports {
		columns[i] = awsColumn{run.label(), run.AWS}
	}
	awsTable(p, columns)
}

// exportsMarkdown writes the catalog exports' section.
func (r Results) exportsMarkdown(p func(format string, args ...any)) {
	first := r.Exports[0]
	p("## Catalog exports")
	p("")
	p("Each export is created through the API with `ai_optimize` on and run by the worker behind the event source mapping, %d AI calls and %d marketplace calls in flight, against the sandbox's fakes of the marketplace, of Bedrock and of the credits ledger, in real time. The products: %s, from %s.",
		first.AIConcurrency, first.SendConcurrency, first.Selection, first.Catalog)
	p("")
	p("| export | limits | outcome | wall s | floor s (marketplace / AI) | ratio | AI calls: job / answered / debits / credits | mean AI answer s | marketplace API calls (per product) | throttled | products / s |")
	p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, run := range r.Exports {
		outcome := run.Outcome
		if run.Outcome != "completed" {
			outcome = fmt.Sprintf("**%s** after %d of %d attempts, at %q", run.Outcome, run.Attempts, run.MaxAttempts, run.Progress)
		} else if run.Attempts > 1 {
			outcome = fmt.Sprintf("completed in %d attempts", run.Attempts)
		}
		ratio := "–"
		if run.FloorRatio > 0 {
			ratio = fmt.Sprintf("%.2f×", run.FloorRatio)
		}
		a, m := run.AI, run.Marketplace
		p("| %s | %s | %s | %.1f | %.1f (%.1f / %.1f) | %s | %d / %d / %d / %d | %.2f | %d (%.2f) | %d | %.2f |", run.label(), run.Limit, outcome, run.WallSeconds,
			run.FloorSeconds, run.MarketplaceFloorSeconds, run.AIFloorSeconds, ratio, a.Calls, a.Answered, a.Debits, a.CreditsCharged, a.MeanLatencyMS/1000,
			m.APICalls, m.APICallsPerProduct, m.Throttled, run.Time.ProductsPerSecond)
	}
	p("")
	p("Floors:")
	p("")
	for _, run := range r.Exports {
		p("- %s: %s = %.1f s.", run.label(), run.FloorDefinition, run.FloorSeconds)
	}
	p("")
	p("Where the wall time went, in seconds: wall = before the first AI call + the AI's span (first call to last answer) + after the last AI answer. The AI floor assumes every place in flight busy over the span; the mean in flight is the calls' time over the span.")
	p("")
	p("| export | before the first AI call | AI span | mean AI calls in flight | after the last AI answer | wall | rate-limit waits (the job's) |")
	p("|---|---:|---:|---:|---:|---:|---:|")
	for _, run := range r.Exports {
		t := run.Time
		p("| %s | %.1f | %.1f | %.2f of %d | %.1f | %.1f | %.1f |", run.label(), t.BeforeFirstAICall, t.AISpan, t.MeanAIInFlight, run.AIConcurrency, t.AfterLastAIAnswer, run.WallSeconds,
			float64(run.Result.RateLimitWaitMS)/1000)
	}
	p("")
	p("### AWS requests of the exports")
	p("")
	p("Counted as for the imports; `Bedrock Runtime.Converse` is the AI's calls, to the sandbox's fake of Bedrock.")
	p("")
	columns := make([]awsColumn, len(r.Exports))
	for i, run := range r.Exports {
		columns[i] = awsColumn{run.label(), run.AWS}
	}
	awsTable(p, columns)
}

// translationsMarkdown writes the UI label translation's section.
func (r Results) translationsMarkdown(p func(format string, args ...any)) {
	p("## UI label translations")
	p("")
	p("The translation is created through the API and run by the worker behind the event source mapping against the sandbox's fakes of Amazon Translate and of the credits ledger, in real time: the store's labels are the sandbox's (storefront, checkout and account texts with placeholders and inline HTML), written through `PUT /api/catalog/ui-labels`, translated one Translate call each, paid one debit a batch of %d.", translationLabelsPerBatch)
	p("")
	p("| translation | limit | outcome | wall s | floor s | ratio | calls: job / answered | debits / credits | mean answer s | throttled | labels / s |")
	p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, run := range r.Translations {
		outcome := run.Outcome
		if run.Outcome != "completed" {
			outcome = fmt.Sprintf("**%s** after %d of %d attempts, at %q", run.Outcome, run.Attempts, run.MaxAttempts, run.Progress)
		} else if run.Attempts > 1 {
			outcome = fmt.Sprintf("completed in %d attempts", run.Attempts)
		}
		ratio := "–"
		if run.FloorRatio > 0 {
			ratio = fmt.Sprintf("%.2f×", run.FloorRatio)
		}
		p("| %s | %s | %s | %.1f | %.1f | %s | %d / %d | %d / %d | %.3f | %d | %.1f |", run.label(), run.Limit, outcome, run.WallSeconds, run.FloorSeconds, ratio,
			run.Calls.Calls, run.Calls.Answered, run.Credits.Debits, run.Credits.CreditsDebited, run.Calls.MeanLatencyMS/1000, run.Calls.Throttled, run.Time.LabelsPerSecond)
	}
	p("")
	p("Floors:")
	p("")
	for _, run := range r.Translations {
		p("- %s: %s = %.1f s.", run.label(), run.FloorDefinition, run.FloorSeconds)
	}
	p("")
	p("Where the wall time went, in seconds: wall = before the first Translate call + the calls' span (first call to last answer) + after the last answer. The floor assumes every place in flight busy over the span; the mean in flight is the calls' time over the span.")
	p("")
	p("| translation | before the first call | call span | mean calls in flight | after the last answer | wall |")
	p("|---|---:|---:|---:|---:|---:|")
	for _, run := range r.Translations {
		t := run.Time
		p("| %s | %.1f | %.1f | %.2f of %d | %.1f | %.1f |", run.label(), t.BeforeFirstCall, t.CallSpan, t.MeanInFlight, run.Concurrency, t.AfterLastAnswer, run.WallSeconds)
	}
	p("")
	p("### AWS requests of the translation")
	p("")
	p("Counted as for the imports; `Translate.TranslateText` is the labels' calls, to the sandbox's fake of Amazon Translate.")
	p("")
	columns := make([]awsColumn, len(r.Translations))
	for i, run := range r.Translations {
		columns[i] = awsColumn{run.label(), run.AWS}
	}
	awsTable(p, columns)
}

// label names a translation run in the tables.
func (run TranslationRun) label() string {
	return fmt.Sprintf("`%s` to %s, %d labels", run.Job, run.TargetLanguage, run.Labels)
}

// label names an export run in the tables.
func (run ExportRun) label() string {
	return fmt.Sprintf("`%s`, %d products", run.Export, run.Products)
}

// awsColumn is one run's AWS operations, a column of awsTable.
type awsColumn struct {
	label string
	ops   []AWSOperation
}

// awsTable writes the AWS operations of runs side by side, with their
// totals.
func awsTable(p func(format string, args ...any), columns []awsColumn) {
	header, rule := "| operation |", "|---|"
	for _, c := range columns {
		header += " " + c.label + ": requests (write units) mean ms |"
		rule += "---:|"
	}
	p("%s", header)
	p("%s", rule)
	var ops []string
	seen := map[string]bool{}
	for _, c := range columns {
		for _, op := range c.ops {
			if !seen[op.Operation] {
				seen[op.Operation] = true
				ops = append(ops, op.Operation)
			}
		}
	}
	slices.Sort(ops)
	for _, name := range ops {
		row := "| " + name + " |"
		for _, c := range columns {
			cell := "–"
			for _, op := range c.ops {
				if op.Operation == name {
					cell = fmt.Sprintf("%d", op.Requests)
					if op.WriteUnits > 0 {
						cell += fmt.Sprintf(" (%.0f)", op.WriteUnits)
					}
					cell += fmt.Sprintf(" %.1f", op.MeanMS)
				}
			}
			row += " " + cell + " |"
		}
		p("%s", row)
	}
	row := "| total |"
	for _, c := range columns {
		total := 0
		for _, op := range c.ops {
			total += op.Requests
		}
		row += fmt.Sprintf(" %d |", total)
	}
	p("%s", row)
	p("")
}

// label names an import run in the tables.
func (run ImportRun) label() string {
	label := fmt.Sprintf("`%s`, %d products", run.Import, run.Products)
	return label
}

func (r Results) flow(name string) SystemFlow {
	for _, f := range r.Flow {
		if f.System == name {
			return f
		}
	}
	return SystemFlow{}
}

func (r Results) backlog() int {
	if len(r.Flow) > 0 {
		return r.Flow[0].Urgent.Backlog
	}
	return 0
}

func firstN(flows []SystemFlow) int {
	if len(flows) > 0 {
		return flows[0].Latency.Pickup.N
	}
	return 0
}

func (r Results) readSizes() []int {
	var sizes []int
	for _, rc := range r.Reads.Reads {
		if len(sizes) == 0 || sizes[len(sizes)-1] != rc.StoredJobs {
			sizes = append(sizes, rc.StoredJobs)
		}
	}
	return sizes
}

func (r Results) readNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, rc := range r.Reads.Reads {
		if !seen[rc.Read] {
			seen[rc.Read] = true
			names = append(names, rc.Read)
		}
	}
	return names
}

func operationsOf(jobs []JobCost) []string {
	var ops []string
	seen := map[string]bool{}
	for _, c := range jobs {
		for _, o := range c.Operations {
			if !seen[o.Operation] {
				seen[o.Operation] = true
				ops = append(ops, o.Operation)
			}
		}
	}
	return ops
}

func operationCell(c JobCost, op string) string {
	for _, o := range c.Operations {
		if o.Operation == op {
			if o.ReadUnits == 0 && o.WriteUnits == 0 {
				return fmt.Sprintf("%.1f", o.Requests)
			}
			return fmt.Sprintf("%.1f (%.1f / %.1f)", o.Requests, o.ReadUnits, o.WriteUnits)
		}
	}
	return "–"
}

func triple(p Percentiles) string { return fmt.Sprintf("%.1f / %.1f / %.1f", p.P50, p.P95, p.P99) }

// ratio is a figure over ours: below 1 a peer is faster (times) or, for
// throughput, slower.
func ratio(theirs, ours float64) string {
	if ours == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", theirs/ours)
}

func versionList(v map[string]string) string {
	var parts []string
	for _, name := range []string{"fauxqs", "dynalite", "node", "github.com/aws/aws-sdk-go-v2", "redis-server", "github.com/hibiken/asynq", "postgresql", "github.com/riverqueue/river"} {
		if version, ok := v[name]; ok {
			parts = append(parts, strings.TrimPrefix(name, "github.com/")+" "+version)
		}
	}
	return strings.Join(parts, ", ")
}
