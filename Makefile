# The two commands: `make demo` (set up + run the main job, the penguin pipeline) and `make test`.
PY := .venv/bin/python
HEADRACE := .venv/bin/headrace

.PHONY: setup demo test lint unit services bench clean reliability image

setup:
	@bash scripts/setup.sh

demo: setup
	$(HEADRACE) run pipelines/penguin/pipeline.py

services:
	@bash scripts/services.sh mariadb chromium docker

image: setup  # the runtime image headrace-runtime:<version> and :latest (EXTRAS=tf for more); see containers/
	@bash containers/build.sh

lint: setup
	$(PY) -m ruff check framework components orchestrators pipelines tests bench
	$(PY) -m ruff format --check framework components orchestrators pipelines tests bench
	$(PY) -m mypy

unit: setup
	$(PY) -m pytest -q tests

test: setup services lint unit

bench: setup
	@$(PY) -m compileall -q framework components orchestrators  # fresh .pyc: the figures are not about compiling
	$(PY) bench/run_all.py

# Issue 11's scenarios with their full trial counts; writes docs/RELIABILITY.md (make test runs the short forms).
reliability: setup services
	rm -rf headrace_runs/reliability
	HEADRACE_RELIABILITY=full HEADRACE_RELIABILITY_OUT=headrace_runs/reliability $(PY) -m pytest -q tests/reliability
	$(PY) scripts/reliability_report.py headrace_runs/reliability

clean:
	rm -rf headrace_runs .pytest_cache .ruff_cache .mypy_cache
