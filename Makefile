# KPI Bridge tasks. Every target is one line you could also type yourself.
PYTHON ?= python

.PHONY: help test lint fix schema golden bench fuzz

help:  ## list the targets
	@grep -E "^[a-z]+:.*## " $(MAKEFILE_LIST) | sed -e "s/:.*## /\t/"

test:  ## the whole test suite (what .ci/run runs)
	$(PYTHON) -m pytest

lint:  ## ruff everywhere, mypy on every package and bench/ (pyproject.toml [tool.mypy] files)
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy

fix:  ## let ruff fix what it can
	$(PYTHON) -m ruff check --fix .

schema:  ## regenerate kpis/kpi.schema.json and the tables in kpis/README.md from the models
	$(PYTHON) -m generator.targets.file_schema --write

golden:  ## regenerate the golden files, then review the diff
	KPI_UPDATE_GOLDEN=1 $(PYTHON) -m pytest tests/generator -q -k golden
	git --no-pager diff --stat -- tests/fixtures

bench:  ## time kpi validate on 1,000 and 2,000 generated KPI files
	$(PYTHON) bench/bench_validate.py

fuzz:  ## a longer hypothesis run of the loader, models and rules
	KPI_FUZZ_EXAMPLES=5000 $(PYTHON) -m pytest tests/generator/test_loading_fuzz.py -q
