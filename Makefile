# The two commands a fresh machine needs are `make dev` and `make test`;
# everything they use is installed by the project's own files (pinned).
SHELL := /bin/bash
GO ?= go
GOFLAGS_TEST ?= -race -count=1 -timeout 30m
LAMBDAS := api worker scheduler

.PHONY: dev test test-go fuzz-short build emulators emulators-stop vet

## dev: run the whole system locally (emulators, API on 127.0.0.1:8080, workers, schedules)
dev:
	localstack/with-emulators.sh --dev $(GO) run ./cmd/devserver

## test: run every test, with private emulators on free ports
test:
	localstack/with-emulators.sh --fresh $(MAKE) --no-print-directory test-go

test-go: vet
	$(GO) test $(GOFLAGS_TEST) ./...
	$(MAKE) --no-print-directory fuzz-short

# A short run of every fuzz target (the committed corpora run in every `go test`).
FUZZ_TARGETS := internal/api:FuzzDecodeCreate internal/lambdaadapter:FuzzHTTP internal/queue:FuzzParseJobMessage internal/secret:FuzzRedact
FUZZTIME ?= 10s
fuzz-short:
	@for target in $(FUZZ_TARGETS); do \
	  pkg=$${target%%:*}; fn=$${target##*:}; \
	  echo "fuzz $$fn ($(FUZZTIME))"; \
	  $(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) ./$$pkg || exit 1; \
	done

vet:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## build: the Lambda bootstrap binaries, linux/arm64, in build/<function>/bootstrap
build:
	@for fn in $(LAMBDAS); do \
	  echo "build/$$fn/bootstrap"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
	    -o build/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

## emulators: start the dev emulators in the background (idempotent)
emulators:
	localstack/emulators.sh start

## emulators-stop: stop the dev emulators
emulators-stop:
	localstack/emulators.sh stop
