# Two commands from a fresh clone:
#   make repro   set up .venv from requirements.lock, then rebuild the pipeline (`dvc repro`)
#   make test    set up .venv from requirements.lock, then run the whole test suite (what CI runs)
# `make lock` regenerates requirements.lock from pyproject.toml's ranges in a throwaway venv.

PYTHON ?= python3.11
VENV := .venv
# Every command below (and every DVC stage's `python`) runs inside the locked environment.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export VIRTUAL_ENV := $(CURDIR)/$(VENV)

.PHONY: setup repro test lock

setup: $(VENV)/.installed

# Reinstalled only when the lock or the project's metadata changes.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --requirement requirements.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps --editable .
	touch $@

repro: setup
	scripts/system-deps.sh java
	dvc repro

test: setup
	scripts/system-deps.sh java chromium
	python -m pytest --full

lock:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --editable ".[dev]"
	{ echo "# Exact versions of every package the tests run with (Python 3.11, Linux x86_64)."; \
	  echo "# Regenerate with: make lock   (resolves pyproject.toml's ranges in a throwaway venv)"; \
	  build/lock-venv/bin/python -m pip freeze --exclude-editable; } > requirements.lock
	rm -rf build/lock-venv
