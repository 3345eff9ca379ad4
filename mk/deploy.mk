# The images' check (deploy/docker). Included by the root Makefile.
# No Docker engine here: tests/deploy/test_deploy_image_build.py builds each image the way
# its Dockerfile does (the context from .dockerignore, the build stage's COPYs and RUNs),
# runs its service's --help and the GitHub stand-in with its default command, on
# DEPLOY_CHECK_PORT (below Linux's range for outgoing connections, like every other port).
# uv's cache keeps the installs fast: the whole target takes about a minute.

UV ?= uv
DEPLOY_CHECK_PORT ?= 27000

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

deploy-check: ## hadolint, then every image built and run without Docker, and tests/deploy (<3 min)
	@$(BOOTSTRAP) uv
	$(UV) run hadolint deploy/docker/Dockerfile deploy/gateway/Dockerfile
	DEPLOY_CHECK_PORT=$(DEPLOY_CHECK_PORT) timeout 300 $(PYTEST) -m "not integration" --timeout 120 tests/deploy
