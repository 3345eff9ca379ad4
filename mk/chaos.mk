# The fault soak (tools/chaos/README.md). Included by the root Makefile.
# Each run starts its own cluster in .local/chaos on ports 26000-26999 (2 replicas of every
# service, Toxiproxy between each service and PostgreSQL and Kafka), runs simulated people
# while faults are injected, checks every invariant, and deletes the cluster again, also
# when it fails half-way. The report goes to chaos-results/<time>-seed-<seed>/ (git-ignored).
# Toxiproxy is built from its Go module the first time (mk/bootstrap.sh installs Go if missing).

CHAOS_SEED ?= 1
CHAOS := $(UV) run python -m codeflow_chaos run --seed $(CHAOS_SEED)

.PHONY: chaos chaos-smoke

chaos: sync ## ~10 min: 200 people, 30 faults of every kind, then the checker; report in chaos-results/
	@$(BOOTSTRAP) $(TOOLS_TEST)
	$(CHAOS) --people 200 --duration 540 --faults-per-kind 30 --settle-timeout 180

chaos-smoke: sync ## <3 min: 30 people, one fault of every kind, then the checker (CI)
	@$(BOOTSTRAP) $(TOOLS_TEST)
	$(CHAOS) --people 30 --duration 70 --faults-per-kind 1 --settle-timeout 60
