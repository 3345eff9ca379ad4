# Benchmarks (bench/README.md). Included by the root Makefile.
# Each run starts its own cluster in .local/bench on ports of its own (4xxxx), so it never
# meets a developer's `make up`, and stops what it started afterwards.

UV ?= uv
BENCH_ENV := CODEFLOW_LOCAL_DIR=$(CURDIR)/.local/bench \
	POSTGRES_PORT=45432 KAFKA_PORT=49092 KAFKA_CONTROLLER_PORT=49093 \
	GATEWAY_PORT=48080 AUTH_PORT=48001 PROFILES_PORT=48002 REPOSITORIES_PORT=48003 \
	JANITOR_PORT=48004 GITHUB_EMULATOR_PORT=49000
BENCH_RUN := env $(BENCH_ENV) $(UV) run python -m codeflow_infra cluster run -- \
	$(UV) run python -m codeflow_bench run --results bench/results

.PHONY: bench bench-smoke bench-test

bench: ## Benchmarks B1-B6 + memory against bare baselines (~15 min); report in bench/results/
	$(BENCH_RUN) --mode full

bench-smoke: bench-test ## Every benchmark for a few seconds on small data (CI: they run, not how fast)
	$(BENCH_RUN) --mode smoke

bench-test: ## Unit tests of the benchmarks' numbers and report (no I/O)
	$(UV) run pytest bench/tests -q
