# Benchmarks (bench/README.md). Included by the root Makefile.
# Each run starts its own cluster in .local/bench on ports of its own (2xxxx), so it never
# meets a developer's `make up`, and stops what it started afterwards. The ports stay below
# Linux's range for outgoing connections (32768-60999), where a client socket could hold one.
# Every load comes from 127.0.0.1, so the gateway's per-address limits (requests at once,
# writes) are raised out of the way: B1 measures the path, not the guard.

UV ?= uv
BENCH_ENV := CODEFLOW_LOCAL_DIR=$(CURDIR)/.local/bench \
	POSTGRES_PORT=25432 KAFKA_PORT=29092 KAFKA_CONTROLLER_PORT=29093 \
	GATEWAY_PORT=28080 AUTH_PORT=28001 PROFILES_PORT=28002 REPOSITORIES_PORT=28003 \
	JANITOR_PORT=28004 GITHUB_EMULATOR_PORT=29000 \
	GATEWAY_CONNECTION_LIMIT=1000 GATEWAY_WRITE_RATE=1000r/s GATEWAY_WRITE_BURST=2000
BENCH_RUN := env $(BENCH_ENV) $(UV) run python -m codeflow_infra cluster run -- \
	$(UV) run python -m codeflow_bench run --results bench/results

.PHONY: bench bench-smoke bench-test

bench: sync ## Benchmarks B1-B7 + memory against bare baselines (~15-17 min); report in bench/results/
	@$(BOOTSTRAP) $(TOOLS_BENCH)
	$(BENCH_RUN) --mode full

bench-smoke: sync bench-test ## Every benchmark for a few seconds on small data (CI: they run, not how fast)
	@$(BOOTSTRAP) $(TOOLS_BENCH)
	$(BENCH_RUN) --mode smoke

bench-test: ## Unit tests of the benchmarks' numbers and report (no I/O)
	@$(BOOTSTRAP) uv
	$(UV) run pytest bench/tests -q
