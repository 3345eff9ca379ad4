# The images' check (deploy/docker). Included by the root Makefile.
# No Docker engine here: tests/deploy/test_deploy_image_build.py builds each image the way
# its Dockerfile does (the context from .dockerignore, the build stage's COPYs and RUNs),
# runs its service's --help and the GitHub stand-in with its default command, on
# DEPLOY_CHECK_PORT (below Linux's range for outgoing connections, like every other port).
# uv's cache keeps the installs fast: the whole target takes about a minute.

UV ?= uv
DEPLOY_CHECK_PORT ?= 27000

# promtool checks the alert rules (deploy/prometheus) and runs their unit tests. It is built
# from Prometheus's Go module with `go install` into .local/tools (git-ignored), once per
# version, then reused (a later deploy-check only looks). `remove_all_sd` leaves out the cloud
# service discoveries that rules never use, which halves the build: on a 2-core machine
# shared with other test runs (load ~11), the first build took 6.5 min (3.4 CPU-minutes,
# modules already downloaded); without the tag, downloads included, 11.5 min (7.3 CPU-min).
PROMTOOL_VERSION := v0.316.0
PROMTOOL_MODULE := github.com/prometheus/prometheus/cmd/promtool
PROMTOOL := $(CURDIR)/.local/tools/promtool-$(PROMTOOL_VERSION)

.PHONY: deploy-check

# kube-score for tests/deploy/test_deploy_k8s_validation.py, built once into .local/tools.
KUBE_SCORE_VERSION := v1.20.0
KUBE_SCORE := $(CURDIR)/.local/tools/kube-score-$(KUBE_SCORE_VERSION)
deploy-check: export KUBE_SCORE := $(KUBE_SCORE)
deploy-check: $(KUBE_SCORE)
$(KUBE_SCORE):
	@$(BOOTSTRAP) go
	mkdir -p $(@D)/build && PATH="$$PATH:/usr/local/go/bin" GOBIN=$(@D)/build timeout 900 \
		go install github.com/zegl/kube-score/cmd/kube-score@$(KUBE_SCORE_VERSION)
	mv $(@D)/build/kube-score $@

deploy-check: $(PROMTOOL) ## hadolint, every image built and run without Docker, tests/deploy, promtool (<4 min once the tools are built)
	@$(BOOTSTRAP) uv
	$(UV) run hadolint deploy/docker/Dockerfile deploy/gateway/Dockerfile
	DEPLOY_CHECK_PORT=$(DEPLOY_CHECK_PORT) timeout 300 $(PYTEST) -m "not integration" --timeout 120 tests/deploy
	$(PROMTOOL) check rules deploy/prometheus/alerts.yaml
	$(PROMTOOL) test rules deploy/prometheus/alerts_test.yaml

# Built in a folder of its own and moved in one step: a build that fails leaves no binary.
$(PROMTOOL):
	@$(BOOTSTRAP) go
	mkdir -p $(@D)
	build=$$(mktemp -d $(@D)/build.XXXXXX) && \
	if GOBIN=$$build timeout 1800 go install -tags remove_all_sd $(PROMTOOL_MODULE)@$(PROMTOOL_VERSION); \
	then mv $$build/promtool $@ && rmdir $$build; else rm -rf $$build; exit 1; fi
