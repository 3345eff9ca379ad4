# CodeFlow: `make up` runs the local cluster, `make test` runs every test.
# Run `make help` for the rest.

UV ?= uv
PYTEST ?= $(UV) run pytest
PACKAGES := libs services tools tests/deploy tests/integration
# What the integration and end-to-end phases run (node ids or paths narrow them).
TESTS ?= $(PACKAGES)
E2E_TESTS ?= tests/e2e

include mk/bootstrap.mk
include mk/test.mk
include mk/infra.mk
include mk/contracts.mk
include mk/cluster.mk
include mk/chaos.mk
include mk/deploy.mk
-include mk/bench.mk

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

.PHONY: sync
sync: ## Install the workspace (every package and the dev tools) into .venv, compiled to bytecode
	@$(BOOTSTRAP) uv
	$(UV) sync --locked --compile-bytecode

.PHONY: lint
lint: ## ruff (lint and format) and mypy --strict over the whole workspace
	@$(BOOTSTRAP) uv
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy libs/*/src services/*/src tools/*/src bench/src

.PHONY: test
test: bootstrap-test sync test-unit test-integration test-e2e ## Unit, integration (real PostgreSQL and Kafka), then end-to-end tests

.PHONY: test-unit
test-unit: ## Tests with no I/O
	@$(BOOTSTRAP) uv
	$(PYTEST) -m "not integration and not image" $(PACKAGES)

.PHONY: test-integration
test-integration: ## Tests against a PostgreSQL and a Kafka of their own (.local/test), deleted afterwards
	@$(BOOTSTRAP) $(TOOLS_TEST)
	$(TEST_ENV) $(UV) run python -m codeflow_infra run --ephemeral -- \
		$(PYTEST) -m integration $(TESTS)

.PHONY: screenshots
screenshots: ## Screenshots of the web dashboard into docs/screenshots (its browser tests)
	WEB_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots \
		$(MAKE) test-e2e E2E_TESTS=tests/e2e/test_e2e_web_dashboard.py

.PHONY: test-e2e
test-e2e: ## End-to-end tests through a cluster of their own (.local/test), deleted afterwards
	@$(BOOTSTRAP) $(TOOLS_E2E)
	$(TEST_ENV) $(UV) run python -m codeflow_infra cluster run --ephemeral -- \
		$(PYTEST) -m e2e $(E2E_TESTS)
