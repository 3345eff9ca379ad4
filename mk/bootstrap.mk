# What each target needs installed. Included first by the root Makefile.
# Every target that runs a tool calls mk/bootstrap.sh with the tools it needs: when all are
# there it only looks; otherwise it installs them (as root: apt-get, without starting any
# system service; uv with pip into ~/.local/bin), or stops at once with the command to run.

# uv lands in ~/.local/bin; Go is often installed in /usr/local/go.
export PATH := $(HOME)/.local/bin:$(PATH)$(if $(wildcard /usr/local/go/bin/go),:/usr/local/go/bin)

BOOTSTRAP := bash $(CURDIR)/mk/bootstrap.sh
# PostgreSQL comes from a Python wheel; Kafka runs from jars Maven collects on first start.
TOOLS_INFRA := uv java maven
# The gateway is nginx.
TOOLS_CLUSTER := $(TOOLS_INFRA) nginx
# The end-to-end tests drive the web dashboard in Debian's Chromium.
TOOLS_E2E := $(TOOLS_CLUSTER) chromium
# Go builds Toxiproxy, which the fault tests (integration) and the fault soak put in the way.
TOOLS_TEST := $(TOOLS_E2E) go
TOOLS_BENCH := $(TOOLS_CLUSTER) wrk
TOOLS_ALL := $(TOOLS_TEST) wrk

.PHONY: bootstrap bootstrap-test
bootstrap: ## Install whatever up, test, chaos and bench need and is missing (root: apt-get)
	@$(BOOTSTRAP) $(TOOLS_ALL)

# The first prerequisite of `make test`: stop before any test runs when a tool is missing.
bootstrap-test:
	@$(BOOTSTRAP) $(TOOLS_TEST)
