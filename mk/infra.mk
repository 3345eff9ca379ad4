# Local PostgreSQL and Kafka without Docker (tools/infra). Included by the root Makefile.
# Ports and locations come from the environment: POSTGRES_PORT, KAFKA_PORT,
# KAFKA_CONTROLLER_PORT, CODEFLOW_LOCAL_DIR (see tools/infra/README.md).

UV ?= uv
INFRA := $(UV) run python -m codeflow_infra

.PHONY: infra-up infra-down infra-reset infra-status kafka-jars

infra-up: ## Start PostgreSQL and Kafka (if not running) and wait until both serve
	@$(BOOTSTRAP) $(TOOLS_INFRA)
	$(INFRA) up

infra-down: ## Stop PostgreSQL and Kafka; their data is kept
	$(INFRA) down

infra-reset: ## Stop PostgreSQL and Kafka and delete their data
	$(INFRA) reset

infra-status: ## Show whether PostgreSQL and Kafka run (exit 3 if either does not)
	$(INFRA) status

kafka-jars: ## Collect Kafka's jars from Maven into deploy/kafka/libs (skipped when present)
	@$(BOOTSTRAP) $(TOOLS_INFRA)
	$(INFRA) jars
