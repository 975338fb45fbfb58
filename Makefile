# The commands: `make demo` (set up + run the main job, the penguin pipeline), `make test` (the full
# suite: services, lint, every test; what CI runs) and `make unit` (the fast tier, for the edit-test loop).
PY := .venv/bin/python
HEADRACE := .venv/bin/headrace

.PHONY: setup demo ct-demo test lint unit services bench clean reliability image airflow

setup:
	@bash scripts/setup.sh

demo: setup
	$(HEADRACE) run pipelines/penguin/pipeline.py

ct-demo: setup  # continuous training: three spans arrive, drift-gated retraining and promotion (docs/MODEL_REGISTRY.md)
	$(PY) pipelines/penguin/ct_demo.py

services:
	@bash scripts/services.sh mariadb chromium graphviz docker postgresql

airflow: setup  # Airflow 3 in its own venv, .venv-airflow (requirements/airflow-lock.txt); see docs/AIRFLOW.md
	@bash scripts/airflow.sh 3

image: setup  # the runtime image headrace-runtime:<version> and :latest (EXTRAS=tf for more); see containers/
	@bash containers/build.sh

lint: setup
	$(PY) -m ruff check framework components orchestrators pipelines tests bench
	$(PY) -m ruff format --check framework components orchestrators pipelines tests bench
	$(PY) -m mypy

# The fast tier, under two minutes: no service, no Docker image, no TensorFlow, Beam, Airflow or
# notebook kernel (tests/conftest.py says what is slow, and fails a fast test that loads those).
unit: setup
	$(PY) -m pytest -q --unit tests

test: setup services lint
	$(PY) -m pytest -q tests

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
