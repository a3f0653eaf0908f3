# Onramp: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO              ?= go
PG_URL          ?= postgres://postgres@127.0.0.1:5432
TEST_PG_DB      ?= onramp_test
GENERATED        = $(shell find views -name '*_templ.go' 2>/dev/null | sort)
# What `onramp version` says (deploy/build.sh sets the same for the image).
VERSION         ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT          ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS          = -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## build bin/onramp and run the console on the embedded SQLite database (./data/), at http://localhost:8080
	@echo "Building bin/onramp (the first build compiles every dependency and takes a minute or two; later ones are quick)..."
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/onramp ./cmd/onramp
	./bin/onramp serve

.PHONY: build
build: generate ## build bin/onramp (with its version, commit and build date)
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/onramp ./cmd/onramp

.PHONY: release
release: ## build a static bin/onramp as the container image does (deploy/build.sh)
	deploy/build.sh bin/onramp

.PHONY: image-test
image-test: ## build the container image (deploy/Dockerfile) and check it runs: starts its own dockerd when needed
	deploy/image-test.sh

.PHONY: generate
generate: ## regenerate the templ views
	@$(GO) tool templ generate >/dev/null 2>&1 || $(GO) tool templ generate

.PHONY: check-generated
check-generated: ## fail when the committed templ code is not what templ generates
	@before=$$(cat $(GENERATED) | sha256sum); \
	$(GO) tool templ generate >/dev/null 2>&1 || exit 1; \
	after=$$(cat $$(find views -name '*_templ.go' | sort) | sha256sum); \
	if [ "$$before" != "$$after" ]; then echo "generated templ code was stale: it is regenerated now, commit it"; exit 1; fi

.PHONY: lint
lint: ## gofmt, templ fmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) tool templ fmt -fail views >/dev/null 2>&1 || { echo "templ fmt would change views: run go tool templ fmt views"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags bench ./handlers/ ./models/password/
	$(GO) tool staticcheck ./...
	$(GO) tool staticcheck -tags bench ./handlers/ ./models/password/

# Fuzz targets (package:target) run briefly by make test; make fuzz runs each longer.
FUZZ_TARGETS    = ./models/codes:FuzzNormalize ./models/csvsafe:FuzzWriter \
                  ./handlers/middleware:FuzzCheckInput ./handlers/clientapi:FuzzParseJSON

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 30s)
	@for t in $(FUZZ_TARGETS); do $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $${FUZZTIME:-30s} "$${t%%:*}" || exit 1; done

.PHONY: test
test: check-generated lint ## the whole suite with -race: on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set
	@for t in $(FUZZ_TARGETS); do $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime 20000x "$${t%%:*}" >/dev/null || exit 1; done
	env -u TEST_DATABASE_URL $(GO) test -race -count=1 -timeout 30m ./...
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL"; \
		$(GO) test -race -count=1 -timeout 30m ./...; \
	else \
		echo "(TEST_DATABASE_URL is not set: PostgreSQL skipped; see make test-pg)"; \
	fi

.PHONY: test-pg
test-pg: ## the suite on a local PostgreSQL (database $(TEST_PG_DB), created when missing)
	@psql "$(PG_URL)/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(TEST_PG_DB)'" | grep -q 1 || \
		psql "$(PG_URL)/postgres" -qc "CREATE DATABASE $(TEST_PG_DB)"
	TEST_DATABASE_URL="$(PG_URL)/$(TEST_PG_DB)?sslmode=disable" $(GO) test -race -count=1 -timeout 30m ./...

BENCH_PG_DB       ?= onramp_bench
# The SQLite pass keeps one file per data set here (data/ is git-ignored).
BENCH_SQLITE_DIR  ?= data/bench
# Which databases make bench runs: both (PostgreSQL, then SQLite), postgres or sqlite.
BENCH_DB          ?= both
# Each benchmark runs BENCH_COUNT times (the table shows the median ratio and the spread); within
# a run, the bulk work (seconds per iteration: Users Actions, codes, 10,000 SCIM or API creates,
# webhook deliveries, rounds of code redemption) runs BENCH_BULK_TIME iterations, the pages BENCH_PAGE_TIME.
BENCH_COUNT       ?= 3
BENCH_BULK        ?= BulkAction|Codes|SCIMCreate|APICreate|StreamWebhook|Redemption
BENCH_BULK_TIME   ?= 1x
BENCH_PAGE_TIME   ?= 30x
# Each pass's output goes to a file here; cmd/benchtable reads them all for the table at the end.
BENCH_OUT         ?= data/bench-out
# The LDAP syncs of 100,000 users (a slapd seeded once per pass; minutes per iteration) run
# BENCH_SYNC_TIME times.
BENCH_SYNC        ?= LDAPSync
BENCH_SYNC_TIME   ?= 2x
BENCH_DBS         = $(if $(filter both,$(BENCH_DB)),postgres sqlite,$(BENCH_DB))

# bench-pass runs the page benchmarks, then the bulk ones (pattern $(2)), then the LDAP syncs
# (pattern $(3)) on the database $(1), teeing each one's output to $(BENCH_OUT)/$(4)-….txt.
define bench-pass
	set -o pipefail; BENCH_DATABASE_URL="$(1)" $(GO) test -tags bench -run '^$$' -bench . -skip '$(2)|$(3)' -benchtime $(BENCH_PAGE_TIME) -count $(BENCH_COUNT) -timeout 120m ./handlers/ | tee $(BENCH_OUT)/$(4)-pages.txt
	set -o pipefail; BENCH_DATABASE_URL="$(1)" $(GO) test -tags bench -run '^$$' -bench '$(2)' -benchtime $(BENCH_BULK_TIME) -count $(BENCH_COUNT) -timeout 180m ./handlers/ | tee $(BENCH_OUT)/$(4)-bulk.txt
	set -o pipefail; BENCH_DATABASE_URL="$(1)" $(GO) test -tags bench -run '^$$' -bench '$(3)' -benchtime $(BENCH_SYNC_TIME) -timeout 120m ./handlers/ | tee $(BENCH_OUT)/$(4)-sync.txt
endef

.PHONY: bench
bench: ## benchmarks on a local PostgreSQL (database onramp_bench) then SQLite (files in data/bench), data seeded once, then one table of Onramp against raw SQL; BENCH_DB=postgres or sqlite runs one
	$(if $(filter-out postgres sqlite,$(BENCH_DBS)),$(error BENCH_DB must be both, postgres or sqlite, not "$(BENCH_DB)"))
	@mkdir -p $(BENCH_OUT) && rm -f $(BENCH_OUT)/*.txt
	set -o pipefail; $(GO) test -tags bench -run '^$$' -bench . ./models/password/ | tee $(BENCH_OUT)/password.txt
ifneq ($(filter postgres,$(BENCH_DBS)),)
	@echo "== PostgreSQL"
	@psql "$(PG_URL)/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_PG_DB)'" | grep -q 1 || \
		psql "$(PG_URL)/postgres" -qc "CREATE DATABASE $(BENCH_PG_DB)"
	$(call bench-pass,$(PG_URL)/$(BENCH_PG_DB)?sslmode=disable,$(BENCH_BULK),$(BENCH_SYNC),postgres)
endif
ifneq ($(filter sqlite,$(BENCH_DBS)),)
	@echo "== SQLite"
	$(call bench-pass,sqlite:$(abspath $(BENCH_SQLITE_DIR)),$(BENCH_BULK),$(BENCH_SYNC),sqlite)
endif
	@echo "== Onramp against the same work in raw SQL ($(BENCH_COUNT) runs each; the outputs are in $(BENCH_OUT)/)"
	@$(GO) run ./cmd/benchtable $(BENCH_OUT)/*.txt

.PHONY: clean
clean: ## remove build output (keeps ./data)
	rm -rf bin
