# The two commands a fresh machine needs: `make site` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What `make site` needs (requirements.lock), then the tests and linters `make test` adds
# (requirements-dev.lock): each lock holds every package at its tested version with its hashes,
# so pip installs exactly the tested set or nothing. The project itself comes after, without
# dependencies, so nothing but the lock chooses a version; then Pagefind's newer release than
# PyPI's, pinned by its hash (kb/site/pagefind_release.py; without it, PyPI's Pagefind runs).
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: site test docs check serve bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.lock pyproject.toml kb/site/pagefind_release.py | $(BIN)/python
	$(PIP) install --require-hashes -r requirements.lock
	$(PIP) install --no-deps -e .
	$(BIN)/python -m kb.site.pagefind_release
	touch $@

$(DEV_STAMP): requirements-dev.lock $(STAMP)
	$(PIP) install --require-hashes -r requirements-dev.lock
	touch $@

## Validate the records and build everything, ending in the static site in site/.
site: $(STAMP)
	$(BIN)/python build_site.py

## Run the whole test suite and every linter.
test: $(DEV_STAMP)
	$(BIN)/ruff check kb tests benchmarks build_site.py
	$(BIN)/ruff format --check kb tests benchmarks build_site.py
	$(BIN)/mypy
	$(BIN)/deptry .
	$(BIN)/kb fmt --check
	$(BIN)/pytest

## Write the generated reference pages again: docs/cli.md (from the commands, by cog) and
## docs/reference-records.md (from kb/records/models.py); `make test` fails while either is stale.
docs: $(DEV_STAMP)
	$(BIN)/cog -r docs/cli.md
	$(BIN)/python -m kb.records.reference

## Validate the records only.
check: $(STAMP)
	$(BIN)/kb check

serve: $(STAMP)
	$(BIN)/mkdocs serve --dirty

## Measure build, search and site at scale (docs/performance.md); `make bench SIZES=1000` for one size.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(if $(SIZES),--sizes "$(SIZES)")

# uv resolves for every platform and Python the project supports, and keeps each package at its
# locked version unless pyproject.toml's ranges exclude it; `make lock UPGRADE=1` takes the
# newest releases the ranges allow. The runtime lock is constrained to the development one, so
# the two never disagree.
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade)

## Resolve requirements.lock and requirements-dev.lock again after a change to pyproject.toml.
lock: $(DEV_STAMP)
	$(LOCK) --group dev -o requirements-dev.lock
	$(LOCK) -c requirements-dev.lock -o requirements.lock

clean:
	rm -rf build site $(VENV)
