# make run: the app on a throwaway demo database.  make test: the whole suite, headless.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/platform-admin --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# Every benchmark at a size that runs in minutes; each prints name=value lines. Run one
# alone for bigger sizes (each has --help).
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/users_page.py --users 10000
	$(BIN)/python bench/demo_data.py --users 10000 --quiet
	$(BIN)/python bench/ledger.py --threads 4 --adjustments 200
	$(BIN)/python bench/revenue.py --purchases 100000
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/catalog_page.py --items 50000
	$(BIN)/python bench/content_access.py --grants 200000
	$(BIN)/python bench/refunds.py --refunds 50 --demo-payments 50

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
