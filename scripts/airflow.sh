#!/usr/bin/env bash
# Airflow in a virtual environment of its own, beside headrace's .venv. Idempotent: does nothing when
# the lock has not changed.
#   scripts/airflow.sh       .venv-airflow:  Airflow 3 (requirements/airflow-lock.txt) with the standard
#                            and postgres providers, and nothing of headrace's. Airflow 3 cannot share an
#                            environment with ml-metadata (its task SDK needs attrs>=24; ml-metadata
#                            needs attrs<24 and protobuf<5): the DAG file `headrace compile --target airflow`
#                            writes imports only Airflow, and its tasks run headrace's own interpreter.
#   scripts/airflow.sh 2     .venv-airflow2: headrace's lock plus Airflow 2.10.3 (requirements/airflow2-lock.txt)
#                            in one environment, for the TFX-style DAG file that imports headrace.
# The locks are compiled with uv from requirements/airflow.in and airflow2.in (commands in their headers).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh  # headrace's .venv, which also brings the uv this script uses
UV=(.venv/bin/python -m uv)
version=${1:-3}
case "$version" in
  3) venv=.venv-airflow; locks=(requirements/airflow-lock.txt) ;;
  2) venv=.venv-airflow2; locks=(requirements/lock.txt requirements/airflow2-lock.txt) ;;
  *) echo "usage: scripts/airflow.sh [3|2]" >&2; exit 2 ;;
esac

stamp="$venv/.setup-$(cat "${locks[@]}" setup.py | sha256sum | cut -c1-16)"
[ -f "$stamp" ] && exit 0
echo "setting up $venv (Airflow $version: ${locks[*]})"
[ -x "$venv/bin/python" ] || "${UV[@]}" venv -q -p 3.11 "$venv"
reqs=(); for lock in "${locks[@]}"; do reqs+=(-r "$lock"); done
"${UV[@]}" pip install -q --python "$venv/bin/python" --compile-bytecode "${reqs[@]}"
if [ "$version" = 2 ]; then "${UV[@]}" pip install -q --python "$venv/bin/python" --no-deps -e .; fi
rm -f "$venv"/.setup-*
touch "$stamp"
echo "$venv ready: $("$venv/bin/airflow" version 2>/dev/null | tail -n 1)"
