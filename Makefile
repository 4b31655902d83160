# The README's two commands: `make up` (run the stack with demo data) and `make test` (run every test).
SHELL := /bin/bash
# uv is installed from PyPI into the user's base when the machine has none.
UV = $$(command -v uv 2>/dev/null || echo "$$(python3 -m site --user-base)/bin/uv")

.PHONY: up test lint bench mutation sync ensure-uv

ensure-uv:
	@command -v uv >/dev/null 2>&1 || [ -x "$$(python3 -m site --user-base)/bin/uv" ] || \
		python3 -m pip install --user --quiet uv 2>/dev/null || \
		python3 -m pip install --user --quiet --break-system-packages uv

sync: ensure-uv
	@$(UV) sync --frozen --all-packages

up: sync
	@$(UV) run --frozen cpd up

# Two pytest-xdist workers, whole files to one worker (module and package fixtures are built
# once per worker): the suite waits on servers and events more than it computes, so two
# workers roughly halve it even on two cores. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: sync
	@$(UV) run --frozen pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

lint: sync
	@$(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check . && $(UV) run --frozen mypy

bench: sync
	@$(UV) run --frozen python -m bench

# Mutation testing of the outbox relay, the inbox, token verification and audit suppression
# (docs/testing.md). Not part of `make test`. MINUTES bounds the whole run, MODULES picks some
# of outbox, inbox, auth, suppression (all by default).
MINUTES ?= 60
MODULES ?=
mutation: ensure-uv
	@$(UV) sync --frozen --all-packages --group mutation
	@$(UV) run --frozen --group mutation python -m mutation --minutes $(MINUTES) $(MODULES)
