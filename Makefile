# The two commands a new user needs: `make run` and `make test`. See README.md.
PORT ?= 8080
export PORT

.PHONY: run stop test build bench deps

run:
	@scripts/run

stop:
	@scripts/stop

deps:
	@scripts/deps

build: deps
	swift build

test: deps
	@scripts/test

bench: deps
	@scripts/bench
