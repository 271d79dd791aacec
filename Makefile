# VoiceAssist API Gateway. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO       ?= go
# The Go release that builds and tests the gateway: Go 1.26.8 carries a dozen reachable
# standard-library vulnerabilities (net/http, net/textproto, crypto/tls, html/template;
# `make vulncheck`) fixed in Go 1.27.3. The go command fetches that toolchain from the module
# proxy on first use (about 76 MB); GOTOOLCHAIN=local in the environment opts out (then
# `make check-generated` may fail: gen/api embeds the contract gzipped, and the compressed
# bytes differ between Go releases).
export GOTOOLCHAIN ?= go1.27.3
SQLC     := $(GO) tool -modfile=tools/go.mod sqlc
OAPI     := $(GO) tool oapi-codegen
NPM_DIR  := tools/npm
NPM_STAMP := $(NPM_DIR)/node_modules/.installed
SPEC     := openapi/openapi.yaml
# The contract as last released; replaced only by a release commit that raises info.version.
RELEASED ?= openapi/released.yaml
OASDIFF  := $(GO) tool -modfile=tools/go.mod oasdiff
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILT    := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -s -w -X github.com/voiceassist/gateway/internal/buildinfo.Version=$(VERSION) \
            -X github.com/voiceassist/gateway/internal/buildinfo.Commit=$(COMMIT) \
            -X github.com/voiceassist/gateway/internal/buildinfo.BuildTime=$(BUILT)
# Start (or reuse) PostgreSQL and Redis, and export their URLs for the command that follows.
WITH_SERVICES := eval "$$(scripts/services.sh up)" &&
# The offline voice (pocketsphinx, flite, ffmpeg; installed when missing and root) sets the
# build tag for the command that follows; without it voice answers 503 VOICE_UNAVAILABLE.
WITH_VOICE := tags="$$(scripts/voice-deps.sh)" &&
# Headless Chromium for the browser tests (installed when missing and root; else they skip).
WITH_BROWSER := scripts/browser-deps.sh &&

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: generate
generate: ## Regenerate gen/ from openapi/ and queries/+schema/
	$(OAPI) -config oapi-codegen.yaml $(SPEC)
	$(OAPI) -config oapi-codegen.client.yaml $(SPEC)
	$(SQLC) generate

# Drift check: regenerate and compare with what is in gen/, then put gen/ back as it was (the
# check changes nothing). Works in a dirty tree too; fails when gen/ was edited by hand or the
# contract or SQL changed without `make generate`.
.PHONY: check-generated
check-generated: ## Fail if gen/ is stale or hand-edited
	@snap=$$(mktemp -d) && trap 'rm -rf gen && mv "$$snap/gen" gen && rm -rf "$$snap"' EXIT && cp -a gen "$$snap/gen" && \
	$(MAKE) -s generate >/dev/null && \
	if ! diff -ru "$$snap/gen" gen; then \
	  echo "check-generated: gen/ does not match openapi/, queries/ and schema/ (run 'make generate' and commit)"; exit 1; \
	fi
	@$(SQLC) diff
	@echo "check-generated: gen/ is up to date"

$(NPM_STAMP): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: npm-tools
npm-tools: $(NPM_STAMP) ## Install the pinned npm tools (redocly, spectral, typescript)

.PHONY: lint
lint: $(NPM_STAMP) check-breaking ## go vet, gofmt, spec lint (redocly, spectral), sqlc vet, TypeScript client check, breaking changes
	@$(WITH_VOICE) $(GO) vet -tags "$$tags" ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	scripts/lint-spec.sh $(SPEC)
	$(SQLC) vet
	$(NPM_DIR)/ts-check.sh $(SPEC)

# oasdiff's "breaking" = its ERR level (a removed path, operation, response field or status,
# a narrowed request enum, a new required request field, ...); its warnings are printed too.
# openapi/breaking_test.go proves it fails on a removed response field and a narrowed enum.
.PHONY: check-breaking
check-breaking: ## Fail on a breaking change of openapi/openapi.yaml against openapi/released.yaml (oasdiff)
	@out=$$($(OASDIFF) breaking $(RELEASED) $(SPEC) --fail-on ERR --color never) && rc=0 || rc=$$?; \
	echo "$$out"; \
	if [ $$rc -ne 0 ]; then \
	  echo "check-breaking: $(SPEC) breaks clients of the released contract $(RELEASED) (keep the old shape, or make a release: raise info.version and replace $(RELEASED))"; exit 1; \
	fi
	@echo "check-breaking: no breaking change against $(RELEASED)"

# Offline: the database is built from the golang.org/x/vulndb module (scripts/vulncheck.sh).
.PHONY: vulncheck
vulncheck: ## govulncheck against the offline vulnerability database pinned in tools/go.mod; fails on reachable vulnerabilities
	@scripts/vulncheck.sh

.PHONY: build
build: ## Build bin/voiceassist (with the offline voice when its packages can be installed)
	@$(WITH_VOICE) cgo=0 && if [ -n "$$tags" ]; then cgo=1; fi && \
	echo "go build -tags '$$tags' (CGO_ENABLED=$$cgo)" && \
	CGO_ENABLED=$$cgo $(GO) build -trimpath -tags "$$tags" -ldflags '$(LDFLAGS)' -o bin/voiceassist ./cmd/voiceassist

.PHONY: services
services: ## Start (or reuse) PostgreSQL and Redis; prints their URLs
	@scripts/services.sh up

.PHONY: services-down
services-down: ## Stop the private PostgreSQL/Redis started by `make services`
	@scripts/services.sh down

.PHONY: migrate
migrate: build ## Apply database migrations
	@$(WITH_SERVICES) bin/voiceassist migrate up

.PHONY: run
run: build ## Serve on :8000 with local PostgreSQL/Redis (installed and started if missing)
	@$(WITH_SERVICES) eval "$$(scripts/dev-env.sh)" && bin/voiceassist seed && bin/voiceassist serve

.PHONY: test
test: $(NPM_STAMP) ## Run every test against real PostgreSQL and Redis (started if missing)
	@$(WITH_SERVICES) $(WITH_VOICE) $(WITH_BROWSER) $(GO) test -tags "$$tags" -count=1 -timeout 12m ./...
	@$(MAKE) -s test-race

# The race detector over the small packages whose goroutines share state (seconds, not minutes;
# the whole suite under -race would not fit CI's time).
RACE_PKGS := ./internal/health/ ./internal/sse/ ./internal/httpserver/
.PHONY: test-race
test-race: ## Run the concurrency-sensitive packages under the race detector
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 5m $(RACE_PKGS)

# Native fuzz targets (package:Target), one `go test -fuzz` run each (go test fuzzes one target
# per invocation), then the contract fuzz driver in tests/. FUZZ_TIME is the total in seconds:
# FUZZ_CONTRACT_SHARE percent of it goes to the contract driver, the rest is split evenly.
FUZZ_TIME ?= 600
FUZZ_CONTRACT_SHARE ?= 30
FUZZ_TARGETS := ./internal/page:FuzzCursor ./internal/extract:FuzzExtract ./internal/extract:FuzzClean ./internal/chunk:FuzzSplit \
	./internal/flageval:FuzzSemVer ./internal/flageval:FuzzCondition ./internal/stream:FuzzLastEventID \
	./internal/voice/session:FuzzAudioFrame ./internal/voice:FuzzDecodeWAV ./internal/voice:FuzzWAVRoundTrip \
	./internal/httpserver:FuzzCheckForm ./internal/httpserver:FuzzParseJSON ./internal/dictation:FuzzParse ./internal/dictation:FuzzFormat

.PHONY: fuzz
fuzz: ## Fuzz for FUZZ_TIME seconds (default 600): native targets, then the contract fuzz driver
	@contract=$$(( $(FUZZ_TIME) * $(FUZZ_CONTRACT_SHARE) / 100 )); targets=($(FUZZ_TARGETS)); \
	each=$$(( ($(FUZZ_TIME) - contract) / $${#targets[@]} )); if [ "$$each" -lt 1 ]; then each=1; fi; \
	for t in "$${targets[@]}"; do \
	  echo "fuzz: $${t##*:} in $${t%%:*} for $${each}s"; \
	  $(GO) test -run '^$$' -fuzz "^$${t##*:}\$$" -fuzztime "$${each}s" "$${t%%:*}"; \
	done; \
	echo "fuzz: contract driver for $${contract}s"; \
	$(WITH_SERVICES) $(WITH_VOICE) FUZZ_CONTRACT_DURATION="$${contract}s" $(GO) test -tags "$$tags" -count=1 -timeout "$$(( contract + 600 ))s" -run '^TestFuzzContract$$' ./tests/

.PHONY: bench
bench: ## Run the Go benchmarks in bench/
	@$(WITH_SERVICES) $(GO) test -run '^$$' -bench . -benchmem ./bench/...

# The data is read from ../shared/data/scifact and never copied into the repo. Extra flags:
# make bench-kb BENCH_KB_ARGS=-tune (fusion weight and chunk size sweeps; see bench/kb).
BENCH_KB_DATA ?= ../shared/data/scifact
BENCH_KB_ARGS ?=

.PHONY: bench-compare
bench-compare: ## The gateway against the fixed references of bench/bare, as ratios (~12 minutes; docs/benchmarks.md)
	@bash bench/compare/run.sh

.PHONY: bench-kb
bench-kb: ## Knowledge-base retrieval benchmark through kb.Service on SciFact (scratch database, a few minutes)
	@$(WITH_SERVICES) $(GO) run ./bench/kb -data $(BENCH_KB_DATA) $(BENCH_KB_ARGS)

# make bench-ner BENCH_NER_ARGS="-split train -kfold 5" (threshold choice on train; see bench/ner).
BENCH_NER_DATA ?= ../shared/data/medical-ner
BENCH_NER_ARGS ?=

.PHONY: bench-ner
bench-ner: ## Clinical entity extraction on NCBI Disease and BC5CDR dev, NegEx test kit, throughput (no services; ~1 minute)
	NER_DATA=$(BENCH_NER_DATA) $(GO) run ./bench/ner $(BENCH_NER_ARGS)

.PHONY: bench-voice
bench-voice: ## Offline voice benchmark: WER (held-out sentences, two voices, with/without medical terms), RTF, memory
	@$(WITH_VOICE) $(GO) run -tags "$$tags" ./bench/voice

.PHONY: bench-voiceintel
bench-voiceintel: ## Voice intelligence (issue 20): p99 turn latency every backend.voice_* flag on minus all off, storage per session-hour (TURNS, HOUR_TURNS)
	@$(WITH_SERVICES) $(WITH_VOICE) $(GO) test -tags "$$tags" -count=1 -timeout 30m -run '^$$' -bench VoiceIntel -benchtime 1x ./bench/voiceintel/

.PHONY: clean
clean: ## Remove build output
	rm -rf bin coverage.out
