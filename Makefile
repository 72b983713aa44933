# The two commands a fresh machine needs: `make site` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: site test lint check serve bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## Validate the records and build everything, ending in the static site in site/.
site: $(STAMP)
	$(BIN)/python build_site.py

## Run the whole test suite and every linter.
test: $(STAMP)
	$(BIN)/ruff check kb tests benchmarks build_site.py
	$(BIN)/ruff format --check kb tests benchmarks build_site.py
	$(BIN)/kb fmt --check
	$(BIN)/pytest

## Validate the records only.
check: $(STAMP)
	$(BIN)/kb check

serve: $(STAMP)
	$(BIN)/python build_site.py --serve

## Measure build, search and site at scale (docs/performance.md); `make bench SIZES=1000` for one size.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(if $(SIZES),--sizes "$(SIZES)")

clean:
	rm -rf build site $(VENV)
