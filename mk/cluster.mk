# The local cluster (libs/infra, deploy/gateway). Included by the root Makefile.

UV ?= uv

.PHONY: up down
up: infra-up ## Start the local cluster (for now: PostgreSQL and Kafka)

down: infra-down ## Stop the local cluster
