#!/usr/bin/env bash
# `make airflow`: Airflow 3 standalone with the f1_pipeline DAG and the project's settings.
# Started in its own process group and stopped as a group (Ctrl-C), or its workers stay behind.
set -euo pipefail
cd "$(dirname "$0")/.."
export AIRFLOW_HOME="${AIRFLOW_HOME:-$PWD/.state/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM=2
export PYTHONWARNINGS=ignore
export PATH="$PWD/.venv/bin:$PATH"  # standalone starts its components as `airflow ...`
mkdir -p "$AIRFLOW_HOME"
.venv/bin/f1pipe stack up
setsid .venv/bin/airflow standalone > "$AIRFLOW_HOME/standalone.log" 2>&1 &
pgid=$!
stop() { kill -TERM -- "-$pgid" 2>/dev/null || true; wait "$pgid" 2>/dev/null || true; }
trap stop EXIT INT TERM
echo "airflow standalone (process group $pgid): http://127.0.0.1:8080, log $AIRFLOW_HOME/standalone.log"
echo "the admin password is in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated; Ctrl-C stops it"
wait "$pgid"
