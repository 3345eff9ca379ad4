# Where the tests' own infrastructure runs. Included by the root Makefile.
# `make test` never meets a developer's `make up` (.local, ports 5432, 9092, 8080, 8001-8004,
# 9000) or `make bench` (.local/bench, 25432, 29092, 28xxx): its servers, services and data
# live in .local/test on ports of their own, and are deleted when the run ends
# (docs/adr/0012-tests-own-their-infrastructure.md). DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS
# from the caller's environment are ignored: they usually name the servers `make up` runs.
# CODEFLOW_TEST_DATABASE_URL / CODEFLOW_TEST_KAFKA_BOOTSTRAP_SERVERS name existing servers
# dedicated to tests instead. Ports stay below Linux's range for outgoing connections.

TEST_LOCAL_DIR ?= $(CURDIR)/.local/test
TEST_POSTGRES_PORT ?= 24432
TEST_KAFKA_PORT ?= 24092
TEST_KAFKA_CONTROLLER_PORT ?= 24093
TEST_GATEWAY_PORT ?= 24080
TEST_SERVICE_PORTS ?= 24001 24002 24003 24004
TEST_GITHUB_EMULATOR_PORT ?= 24000

TEST_ENV := env -u DATABASE_URL -u KAFKA_BOOTSTRAP_SERVERS \
	$(if $(CODEFLOW_TEST_DATABASE_URL),DATABASE_URL=$(CODEFLOW_TEST_DATABASE_URL)) \
	$(if $(CODEFLOW_TEST_KAFKA_BOOTSTRAP_SERVERS),KAFKA_BOOTSTRAP_SERVERS=$(CODEFLOW_TEST_KAFKA_BOOTSTRAP_SERVERS)) \
	CODEFLOW_LOCAL_DIR=$(TEST_LOCAL_DIR) \
	POSTGRES_PORT=$(TEST_POSTGRES_PORT) KAFKA_PORT=$(TEST_KAFKA_PORT) \
	KAFKA_CONTROLLER_PORT=$(TEST_KAFKA_CONTROLLER_PORT) GATEWAY_PORT=$(TEST_GATEWAY_PORT) \
	AUTH_PORT=$(word 1,$(TEST_SERVICE_PORTS)) PROFILES_PORT=$(word 2,$(TEST_SERVICE_PORTS)) \
	REPOSITORIES_PORT=$(word 3,$(TEST_SERVICE_PORTS)) JANITOR_PORT=$(word 4,$(TEST_SERVICE_PORTS)) \
	GITHUB_EMULATOR_PORT=$(TEST_GITHUB_EMULATOR_PORT)
