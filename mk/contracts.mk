# Message contracts (libs/contracts). Included by the root Makefile.

UV ?= uv

.PHONY: contracts
contracts: ## Regenerate the messages' JSON Schemas in libs/contracts/schemas
	$(UV) run python -m codeflow_contracts export-schemas
