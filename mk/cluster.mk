# The local cluster (tools/infra, deploy/gateway). Included by the root Makefile.
# Ports and locations come from the environment: GATEWAY_PORT, AUTH_PORT, PROFILES_PORT,
# REPOSITORIES_PORT, JANITOR_PORT, GITHUB_EMULATOR_PORT and the infrastructure's
# (see tools/infra/README.md).

UV ?= uv
CLUSTER := $(UV) run python -m codeflow_infra cluster
# `make logs S=auth` shows one piece's log; `F=0` prints the last lines and returns.
S ?=
F ?= 1

.PHONY: up down ps logs

up: sync ## Start the whole local cluster (infrastructure, services, GitHub stand-in, gateway on :8080)
	@$(BOOTSTRAP) $(TOOLS_CLUSTER)
	$(CLUSTER) up

down: ## Stop the whole local cluster; no process is left behind (data is kept)
	$(CLUSTER) down

ps: ## Show each piece of the local cluster: running, ready, address (exit 3 if any is not)
	$(CLUSTER) ps

logs: ## Follow the cluster's logs (S=auth for one piece, F=0 to print and return)
	$(CLUSTER) logs $(S) $(if $(filter 1,$(F)),--follow)
