# PRRT outcomes warehouse: `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PRRT   := $(BIN)/prrt

.DEFAULT_GOAL := help
.PHONY: help setup browser demo nightly test bench lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv and install the locked dependencies (idempotent)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup ## generate a synthetic delivery, run one night, publish, query the release
	$(PRRT) demo

nightly: setup ## process the inbox: load, build, gate and publish ($$PRRT_HOME, default ./data)
	$(PRRT) nightly

browser: ## install headless Chromium (Debian package) for the report test, if missing
	@command -v chromium >/dev/null || { apt-get update -q && \
	  apt-get install -y -q --no-install-recommends chromium; }

test: setup browser ## lint, then run the whole test suite
	$(BIN)/ruff check etl models migrations expectations tests
	$(BIN)/python -m pytest

bench: setup ## benchmarks at registry scale (N = 2,500 / 10,000 / 25,000 per centre) -> bench/results/
	$(PRRT) bench

lint: setup ## ruff over the code
	$(BIN)/ruff check etl models migrations expectations tests

clean: ## remove the virtualenv, generated data and dbt artefacts
	rm -rf $(VENV) data bench/work dbt_project/target dbt_project/logs
