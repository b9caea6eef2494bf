# make run: the app on a throwaway demo database.  make test: the whole suite, headless
# (the core's tests with Qt unimportable, then the Qt tests).
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
	$(BIN)/mypy data

# Two runs that together cover tests/ once. The core's tests run with Qt unimportable
# (tests/qt_import_guard.py; pytest-qt off, as it imports Qt), which proves data/ works where
# PySide6 is not installed; then the widget and page tests. A new folder of tests must be
# added to one of the lists: the check below fails the build until it is.
QT_FREE_TESTS := tests/data
QT_TESTS := tests/widgets tests/desktop

test: $(STAMP) lint
	@for dir in $$(find tests -name 'test_*.py' -exec dirname {} \; | cut -d/ -f1-2 | sort -u); do \
	  case " $(QT_FREE_TESTS) $(QT_TESTS) " in *" $$dir "*) ;; \
	  *) echo "$$dir is in neither test run: add it to QT_FREE_TESTS or QT_TESTS"; exit 1;; esac; \
	done
	$(BIN)/python -m pytest -p tests.qt_import_guard -p no:pytest-qt $(QT_FREE_TESTS)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(QT_TESTS)

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
	$(BIN)/python bench/audit.py --rows 300000 --adjustments 100

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
