# rosterd — the two commands that matter are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DATA    ?= ./data
FUZZTIME ?= 60s
# Go spends up to 60 s shrinking each new interesting input by default, time
# not spent fuzzing: FuzzReadCSV ran 26 inputs in a 60 s run that way.
FUZZMINIMIZETIME ?= 5s

.PHONY: build run test check test-deps lint bench fuzz screenshots clean

# A static binary (pure Go, SQLite included), as the Dockerfile builds it:
# it runs on any Linux of the same architecture.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/rosterd ./cmd/rosterd

# Start the daemon on embedded SQLite in $(DATA), with a demo organisation
# whose credentials are printed the first time.
run: build
	./bin/rosterd demo --data-dir $(DATA)
	./bin/rosterd serve --data-dir $(DATA)

# The whole suite, against SQLite and the PostgreSQL at 127.0.0.1:5432
# (database test; override with ROSTERD_TEST_POSTGRES_URL). It first brings
# what the tests need when it is missing (test-deps). scripts/gotest prints
# at the end the ten slowest tests, the skipped ones by reason and the
# failed ones with their output; its exit status is go test's.
test: test-deps
	GO=$(GO) scripts/gotest -count=1 -timeout 45m ./...

# The quick answer, before a commit (target: a minute): build, vet, and every
# package's tests with -short, which start no real process (the rosterd
# binary, Chromium, OpenSSH, LibreOffice): those tests skip, saying
# "-short: needs X". Both databases still run (PostgreSQL as for make test).
check:
	CGO_ENABLED=0 $(GO) build ./...
	$(GO) vet ./...
	GO=$(GO) scripts/gotest -count=1 -short -timeout 10m ./...

# PostgreSQL (installed, started, database test), Chromium, the OpenSSH sftp
# client and LibreOffice Calc, installed with apt-get where missing; where
# it cannot (not root, no apt-get) it says what to run.
test-deps:
	scripts/test-deps.sh

# The back office's screenshots in docs/, taken by the browser test (needs
# chromium: apt-get install -y chromium).
screenshots:
	ROSTERD_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestBackOfficeInABrowser/sqlite' ./cmd/rosterd/

lint:
	$(GO) vet ./...
	$(GO) vet -tags nojournal ./importer/
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Import benchmarks: Go benchmarks of the hot paths, then the end-to-end
# figures on PostgreSQL and SQLite against each database alone (see
# scripts/bench/import.sh; REPEAT=3 for the figures in the README).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./csvfile/ ./roster/ ./importer/
	scripts/bench/import.sh

# Every fuzz target of every package, one after the other, FUZZTIME each
# (go test -fuzz takes one target per run; a new Fuzz func is found here
# without editing this file).
fuzz:
	@set -e; grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sort | while IFS=: read -r file fn; do \
		dir=$$(dirname "$$file"); name=$${fn#func }; \
		echo "== $$dir $$name for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$$dir"; \
	done

clean:
	rm -rf bin
