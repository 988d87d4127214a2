# capaciteit: `make demo` runs the example end to end, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
REALISATIE := models/voorbeeldregio-realisatie
RECORDS := models/voorbeeldregio-records
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help install dev demo national lint typecheck test test-fast bench docs clean

help:
	@echo "make demo   - create .venv, install, run the example region end to end"
	@echo "make test   - create .venv with dev extras, lint, type-check, run every test"
	@echo "make national - the 42 jeugdregio's with shared JeugdzorgPlus pools, and their afbouw"
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

national: install
	$(BIN)/capaciteit validate models/nederland
	$(BIN)/capaciteit national simulate simulations/nederland-basis.yaml --out $(OUT)/nederland
	$(BIN)/capaciteit national afbouw simulations/nederland-afbouw-jeugdzorgplus.yaml \
		--out $(OUT)/nederland-afbouw
	@echo "Landelijk: $(OUT)/nederland/ (landelijk.xlsx, landelijk.png, kostenverdeling.png, CSV's,"
	@echo "  summary.json) en de afbouw van de pools in $(OUT)/nederland-afbouw/ (afbouw-pools.xlsx,"
	@echo "  pool_capacity.csv, check.csv)"

demo: install
	$(BIN)/capaciteit validate models/voorbeeldregio
	$(BIN)/capaciteit simulate simulations/voorbeeldregio-basis.yaml --out $(OUT)/basis
	$(BIN)/capaciteit simulate simulations/voorbeeldregio-transformatie.yaml --out $(OUT)/transformatie
	$(BIN)/capaciteit validate simulations/voorbeeldregio-transformatie-ombouw.yaml
	$(BIN)/capaciteit simulate simulations/voorbeeldregio-transformatie-ombouw.yaml --out $(OUT)/ombouw
	$(BIN)/capaciteit afbouw simulations/voorbeeldregio-transformatie-ombouw.yaml --out $(OUT)/ombouw-afbouw
	$(BIN)/capaciteit beds simulations/voorbeeldregio-basis.yaml --out $(OUT)/beds
	$(BIN)/capaciteit afbouw simulations/voorbeeldregio-transformatie.yaml --out $(OUT)/afbouw
	$(BIN)/capaciteit afbouw simulations/voorbeeldregio-sprint2.yaml --out $(OUT)/herplan
	$(BIN)/capaciteit verschil $(OUT)/afbouw/plan.csv $(OUT)/herplan/plan.csv \
		--scenario simulations/voorbeeldregio-sprint2.yaml --out $(OUT)/verschillen
	$(BIN)/capaciteit sjabloon realisatie simulations/voorbeeldregio-transformatie.yaml \
		--plan $(OUT)/afbouw/plan.csv --kwartalen 2024-K3 --out $(OUT)/realisatie-sjabloon-2024-K3.xlsx
	$(BIN)/capaciteit realisatie simulations/voorbeeldregio-transformatie.yaml \
		--plan $(OUT)/afbouw/plan.csv --actuals $(REALISATIE)/realisatie-2024-K1.xlsx \
		--actuals $(REALISATIE)/realisatie-2024-K2.xlsx --out $(OUT)/realisatie
	rm -f $(OUT)/dienst.db
	$(BIN)/capaciteit voorbeeld-dienst --database $(OUT)/dienst.db --afspraak $(OUT)/afbouw \
		--herplan $(OUT)/herplan --realisatie $(REALISATIE)/realisatie-2024-K1.xlsx \
		--realisatie $(REALISATIE)/realisatie-2024-K2.xlsx > $(OUT)/dienst-tokens.txt
	$(BIN)/capaciteit generate-pool --children 1000 --families 5000 --out $(OUT)/pool
	$(BIN)/capaciteit match --children $(OUT)/pool/children.csv \
		--placements $(OUT)/pool/placements.csv --out $(OUT)/matching
	$(BIN)/capaciteit match --children $(OUT)/pool/children.csv \
		--placements $(OUT)/pool/placements.csv --out $(OUT)/suggestions --child K00010 --top 5
	$(BIN)/capaciteit calibrate $(RECORDS)/stays.csv --basis models/voorbeeldregio \
		--out $(OUT)/kalibratie
	$(BIN)/capaciteit validate $(OUT)/kalibratie
	$(BIN)/capaciteit backtest $(RECORDS)/stays.csv --knip 2023-01-01 --basis models/voorbeeldregio \
		--bedden $(RECORDS)/beds-2023-01-01.csv --out $(OUT)/backtest
	$(BIN)/capaciteit sjabloon 0-meting --model models/voorbeeldregio --aanbieder P01 \
		--peildatum 2025-01-01 --out $(OUT)/0-meting-sjabloon-P01.xlsx
	$(BIN)/capaciteit national simulate simulations/nederland-basis.yaml --replications 10 \
		--out $(OUT)/nederland
	@echo ""
	@echo "Klaar. De resultaten staan in $(OUT)/:"
	@echo "  $(OUT)/basis/ en $(OUT)/transformatie/: summary.json (wat niet gehaald wordt, normen en"
	@echo "    kerncijfers per zorgvorm en jaar met 95%-intervallen), kpis.csv, stays.csv,"
	@echo "    occupancy_daily.csv, queues_daily.csv, occupancy.png"
	@echo "  $(OUT)/ombouw/: de transformatie met ambulante plekken en 18+ wonen: transformation.csv"
	@echo "    (ambulant per bed, verwijzingen die toch een bed kregen, 18+ wachtend op een woonplek en"
	@echo "    de beddagen die dat kost), blocking.csv (geblokkeerde bedden per aanbieder)"
	@echo "  $(OUT)/ombouw-afbouw/: het afbouwplan met ambulante plekken: plan.xlsx (blad ombouwbudget:"
	@echo "    vrijgekomen, opnieuw besteed en over per aanbieder en jaar), ombouw.csv, ombouw.png"
	@echo "  $(OUT)/beds/: beds.csv (minimaal aantal plaatsen per jaar met het bewijs bij een plaats"
	@echo "    minder, behoefte op lange termijn, tegen de 0-meting), beds.json, service_levels.csv,"
	@echo "    coupling.csv, beds.png, coupling.png"
	@echo "  $(OUT)/afbouw/: plan.csv, plan.json, plan.xlsx (voor de ontwikkeltafel), plan.png"
	@echo "  $(OUT)/herplan/: sprint 2 opnieuw gepland dicht bij de afspraak; changes.csv zegt per"
	@echo "    gewijzigde cel waarom (een behoefte, een doel, een regel)"
	@echo "  $(OUT)/verschillen/: afspraak en sprint 2 naast elkaar (verschillen.xlsx, .csv, .png)"
	@echo "  $(OUT)/realisatie-sjabloon-2024-K3.xlsx: het sjabloon dat aanbieders per kwartaal invullen"
	@echo "  $(OUT)/realisatie/: twee kwartalen realisatie tegen het plan en de band van het model"
	@echo "    (realisation.pdf, realisation.xlsx, fan_*.png; wat niet op koers is, met de reden)"
	@echo "  $(OUT)/pool/: een synthetische wachtlijst en gezinnenpool (children.csv, placements.csv)"
	@echo "  $(OUT)/matching/: assignment.csv, unplaced.csv, match.json (koppeling van de hele lijst)"
	@echo "  $(OUT)/suggestions/: suggestions.csv, suggestions.json (de beste 5 gezinnen voor K00010)"
	@echo "  $(OUT)/kalibratie/: een regiomodel geschat uit de (synthetische) verblijfsgegevens van"
	@echo "    $(RECORDS)/, met estimates.csv (elke schatting met 95%-interval en aantal) en het rapport"
	@echo "    in $(OUT)/kalibratie/kalibratie/ (kalibratie.xlsx, verblijfsduur.png, instroom.png,"
	@echo "    doorstroom.png)"
	@echo "  $(OUT)/backtest/: gekalibreerd tot 1 januari 2023, voorspeld vanaf de werkelijke bezetting"
	@echo "    toen, tegen wat gebeurde: dekking.csv, backtest.xlsx, backtest_*.png"
	@echo "  $(OUT)/0-meting-sjabloon-P01.xlsx: het sjabloon waarin een aanbieder de 0-meting invult"
	@echo "  $(OUT)/nederland/: de 42 jeugdregio's met JeugdzorgPlus in 11 gedeelde pools (10 replicaties):"
	@echo "    landelijk.xlsx (per regio, per pool met de kostenverdeling, landelijk), landelijk.png,"
	@echo "    kostenverdeling.png, CSV's en summary.json; 'make national' doet ook de afbouw van de pools"
	@echo "Dienst en webpagina's met de hele ontwikkeltafel (afspraak, voorstel, commentaar,"
	@echo "  oordelen, realisatie, kwartaalrapport): CAPACITEIT_DATABASE_URL=sqlite:///$(CURDIR)/$(OUT)/dienst.db \\"
	@echo "  $(BIN)/capaciteit serve, open http://127.0.0.1:8000/ en meld u aan met een token"
	@echo "  uit $(OUT)/dienst-tokens.txt (planner, leden, voorzitter, matcher)."

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
	$(BIN)/python bench/calibrate.py

docs: dev
	$(BIN)/python -m capaciteit.docs README.md

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
