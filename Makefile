# The two commands a fresh machine needs are `make dev` and `make test`;
# everything they use is installed by the project's own files (pinned).
SHELL := /bin/bash
GO ?= go
GOFLAGS_TEST ?= -race -count=1 -timeout 30m
LAMBDAS := api worker scheduler
# Deployed functions are arm64 (Graviton); LocalStack runs them on the Docker host's architecture.
LAMBDA_GOARCH ?= arm64

.PHONY: dev test test-go fuzz-short vet lint-openapi build rie lambda-report synth test-infra bench browser dashboard-vendor \
	emulators emulators-stop localstack-up localstack-deploy localstack-test localstack-down

## dev: run the whole system locally (emulators, API on 127.0.0.1:8080, workers, schedules)
dev:
	localstack/with-emulators.sh --dev $(GO) run ./cmd/devserver

## test: run every test: the service's with private emulators on free ports, then the stack's
test: browser lint-openapi
	localstack/with-emulators.sh --fresh $(MAKE) --no-print-directory test-go
	$(MAKE) --no-print-directory test-infra

test-go: vet
	$(GO) test $(GOFLAGS_TEST) ./...
	$(MAKE) --no-print-directory fuzz-short

# A short run of every fuzz target (the committed corpora run in every `go test`).
# The budget is a count of executions, not a duration: Go 1.26's fuzzing
# coordinator can report a spurious "context deadline exceeded" when a
# -fuzztime duration ends under load (golang/go#75804, fixed in Go 1.27).
FUZZ_TARGETS := internal/api:FuzzDecodeCreate internal/lambdaadapter:FuzzHTTP internal/queue:FuzzParseJobMessage internal/secret:FuzzRedact
FUZZTIME ?= 100000x
fuzz-short:
	@for target in $(FUZZ_TARGETS); do \
	  pkg=$${target%%:*}; fn=$${target##*:}; \
	  echo "fuzz $$fn ($(FUZZTIME))"; \
	  $(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) ./$$pkg || exit 1; \
	done

# bench/ is a module of its own (its peers' dependencies stay out of the
# service's), checked here so that a change inside internal/ cannot break it unseen.
vet:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	cd bench && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# The Redocly CLI pinned by docs/lint/package-lock.json; its install scripts never run.
REDOCLY := docs/lint/node_modules/.bin/redocly

$(REDOCLY): docs/lint/package.json docs/lint/package-lock.json
	npm ci --prefix docs/lint --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

## lint-openapi: check docs/openapi.json against Redocly's recommended rules (docs/lint/redocly.yaml);
## any problem, error or warning, fails it
# No update notices from the CLI (redocly.yaml turns its usage reports off).
lint-openapi: export REDOCLY_SUPPRESS_NOTIFICATIONS := true
lint-openapi: $(REDOCLY)
	$(REDOCLY) lint --config docs/lint/redocly.yaml docs/openapi.json

## build: the Lambda bootstrap binaries, linux/$(LAMBDA_GOARCH), in build/<function>/bootstrap
build:
	@for fn in $(LAMBDAS); do \
	  echo "build/$$fn/bootstrap"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
	    -o build/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

## rie: the AWS Lambda Runtime Interface Emulator, pinned in internal/lambdaruntime/rie/go.mod, in build/tools
## (the tests of internal/lambdaruntime install it themselves)
rie:
	CGO_ENABLED=0 GOBIN=$(CURDIR)/build/tools $(GO) -C internal/lambdaruntime/rie install tool

## lambda-report: the sizes of the `make build` binaries and each function's cold-start init time under the emulator
lambda-report: build
	@for fn in $(LAMBDAS); do \
	  bytes=$$(stat -c %s build/$$fn/bootstrap); packed=$$(gzip -9 -c build/$$fn/bootstrap | wc -c); \
	  awk -v fn=$$fn -v arch=$(LAMBDA_GOARCH) -v b=$$bytes -v p=$$packed 'BEGIN { \
	    printf "%-10s linux/%s  %9d bytes (%4.1f MiB), gzip -9 %9d bytes (%4.1f MiB)\n", fn, arch, b, b/1048576, p, p/1048576 }'; \
	done
	localstack/with-emulators.sh --fresh $(GO) test -count=1 -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime 20x ./internal/lambdaruntime/

## localstack-up, localstack-deploy, localstack-test, localstack-down: the
## deployed stack on LocalStack (needs Docker and LOCALSTACK_AUTH_TOKEN)
localstack-up localstack-deploy localstack-test localstack-down:
	localstack/aws/localstack.sh $(@:localstack-%=%)

## browser: install Debian's Chromium for the dashboards' browser tests, if it is missing
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "installing chromium (apt-get)"; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

## dashboard-vendor: refresh the dashboards' chart library (uPlot) from its pinned npm package
DASHBOARD_VENDOR := internal/dashboard/assets/vendor/uplot
dashboard-vendor:
	cd internal/dashboard && npm ci --ignore-scripts --no-audit --no-fund
	cp internal/dashboard/node_modules/uplot/dist/uPlot.esm.js internal/dashboard/node_modules/uplot/dist/uPlot.min.css \
	  internal/dashboard/node_modules/uplot/LICENSE $(DASHBOARD_VENDOR)/

## emulators: start the dev emulators in the background (idempotent)
emulators:
	localstack/emulators.sh start

## emulators-stop: stop the dev emulators
emulators-stop:
	localstack/emulators.sh stop

## bench: what a job costs and how fast it moves, beside Asynq and River, in bench/results
## (installs redis-server and postgresql from Debian if missing; bench/ is a Go module of its own)
bench:
	bench/run.sh

# The CDK CLI pinned by infra/package-lock.json; its install scripts never run.
CDK := infra/node_modules/.bin/cdk
# -c key=value settings for the stack (see infra/main.go), e.g. CDK_CONTEXT='-c authIssuer=https://...'
CDK_CONTEXT ?=

$(CDK): infra/package.json infra/package-lock.json
	cd infra && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

## synth: the CloudFormation template, offline, in build/cdk.out (after build: it packages the binaries)
# No usage reports from the CLI (cdk.json turns them off too, for every other use).
synth: export CDK_DISABLE_CLI_TELEMETRY := true
synth: build $(CDK)
	$(CDK) synth --quiet $(CDK_CONTEXT)
	@ls build/cdk.out/*.template.json

## test-infra: the CDK stack's checks and assertion tests (infra/ is a Go module of its own)
test-infra:
	cd infra && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	cd infra && $(GO) test -count=1 ./...
