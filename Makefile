# errwise — everything a fresh machine needs goes through these targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	-$(BIN)/python examples/facade_demo.py
	$(BIN)/errwise codes
	@# The example has defects on purpose: exit 1 (findings) is the expected outcome. Its defect
	@# classes are found by rules still below the default profile's measured-precision bar, so
	@# the demo runs every rule (--profile strict).
	$(BIN)/errwise audit --profile strict examples/workorder || test $$? -eq 1

lint: install
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src tests/typing

pytest: install
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: install
	@# byte-compiled as an installed wheel is (PYTHONDONTWRITEBYTECODE may be set here)
	$(BIN)/python -m compileall -q src >/dev/null
	$(BIN)/python bench/run.py

FUZZ_N   ?= 10000
FUZZ_OUT ?= fuzz-out

fuzz: install
	@# N generated programs audited under a watchdog; crashes minimised into $(FUZZ_OUT)/
	$(BIN)/python tests/fuzz/fuzz_run.py -n $(FUZZ_N) --out $(FUZZ_OUT)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
