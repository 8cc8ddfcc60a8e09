# rosterd — the two commands that matter are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DATA    ?= ./data

.PHONY: build run test lint bench fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/rosterd ./cmd/rosterd

# Start the daemon on embedded SQLite in $(DATA), with a demo organisation
# whose credentials are printed the first time.
run: build
	./bin/rosterd demo --data-dir $(DATA)
	./bin/rosterd serve --data-dir $(DATA)

# The whole suite, against SQLite and the PostgreSQL at 127.0.0.1:5432
# (database test; override with ROSTERD_TEST_POSTGRES_URL).
test:
	$(GO) test -count=1 -timeout 20m ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Import benchmarks: Go benchmarks of the hot paths, then the end-to-end
# figures against PostgreSQL (see scripts/bench/import.sh).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./csvfile/ ./roster/ ./importer/
	scripts/bench/import.sh

# Each fuzz target on its own (go test -fuzz takes one target at a time):
# the file format, then reading and validating together.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzReadCSV$$' -fuzztime 60s ./csvfile/
	$(GO) test -run '^$$' -fuzz '^FuzzReadCSVFastPath$$' -fuzztime 60s ./csvfile/
	$(GO) test -run '^$$' -fuzz '^FuzzReadAndValidate$$' -fuzztime 60s ./roster/

clean:
	rm -rf bin
