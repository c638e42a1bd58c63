# The two commands a new user needs: `make run` and `make test`. See README.md.
PORT ?= 8080
export PORT

.PHONY: run stop reload test build bench deps

run:
	@scripts/run

stop:
	@scripts/stop

reload:
	@scripts/reload

deps:
	@scripts/deps

build: deps
	swift build

test: deps
	@scripts/test

bench: deps
	@scripts/bench
