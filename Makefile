# capaciteit: `make demo` runs the example end to end, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help install dev demo lint typecheck test test-fast bench docs clean

help:
	@echo "make demo   - create .venv, install, run the example region end to end"
	@echo "make test   - create .venv with dev extras, lint, type-check, run every test"
	@echo "make bench  - benchmarks (bench/), figures go in README"
	@echo "make docs   - regenerate the model format tables in README.md"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "capaciteit needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/capaciteit validate models/voorbeeldregio
	$(BIN)/capaciteit simulate simulations/voorbeeldregio-basis.yaml --out $(OUT)/basis
	$(BIN)/capaciteit simulate simulations/voorbeeldregio-transformatie.yaml --out $(OUT)/transformatie
	$(BIN)/capaciteit beds simulations/voorbeeldregio-basis.yaml --out $(OUT)/beds
	$(BIN)/capaciteit afbouw simulations/voorbeeldregio-transformatie.yaml --out $(OUT)/afbouw
	$(BIN)/capaciteit generate-pool --children 1000 --families 5000 --out $(OUT)/pool
	$(BIN)/capaciteit match --children $(OUT)/pool/children.csv \
		--placements $(OUT)/pool/placements.csv --out $(OUT)/matching
	$(BIN)/capaciteit match --children $(OUT)/pool/children.csv \
		--placements $(OUT)/pool/placements.csv --out $(OUT)/suggestions --child K00010 --top 5
	@echo ""
	@echo "Klaar. De resultaten staan in $(OUT)/:"
	@echo "  $(OUT)/basis/ en $(OUT)/transformatie/: summary.json (wat niet gehaald wordt, normen en"
	@echo "    kerncijfers per zorgvorm en jaar met 95%-intervallen), kpis.csv, stays.csv,"
	@echo "    occupancy_daily.csv, queues_daily.csv, occupancy.png"
	@echo "  $(OUT)/beds/: beds.csv (minimaal aantal plaatsen per jaar met het bewijs bij een plaats"
	@echo "    minder, behoefte op lange termijn, tegen de 0-meting), beds.json, service_levels.csv,"
	@echo "    coupling.csv, beds.png, coupling.png"
	@echo "  $(OUT)/afbouw/: plan.csv, plan.json, plan.xlsx (voor de ontwikkeltafel), plan.png"
	@echo "  $(OUT)/pool/: een synthetische wachtlijst en gezinnenpool (children.csv, placements.csv)"
	@echo "  $(OUT)/matching/: assignment.csv, unplaced.csv, match.json (koppeling van de hele lijst)"
	@echo "  $(OUT)/suggestions/: suggestions.csv, suggestions.json (de beste 5 gezinnen voor K00010)"
	@echo "Dienst en webpagina's: $(BIN)/capaciteit token create --role planner, dan"
	@echo "  $(BIN)/capaciteit serve en open http://127.0.0.1:8000/"

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: dev
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n 2 -p no:cacheprovider

test-fast: dev
	$(BIN)/pytest -n 2 -m "not slow"

bench: dev
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/sim_vs_ciw.py
	$(BIN)/python bench/national.py
	$(BIN)/python bench/beds.py
	$(BIN)/python bench/afbouw.py
	$(BIN)/python bench/service_load.py

docs: dev
	$(BIN)/python -m capaciteit.docs README.md

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
