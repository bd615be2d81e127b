#!/usr/bin/env bash
# `make airflow`: Airflow 3 standalone with the f1_pipeline DAG and the project's settings.
# Started in its own process group and stopped as a group (Ctrl-C), or its workers stay behind.
# Listens on AIRFLOW_HOST:AIRFLOW_PORT, by default 127.0.0.1:8080 (loopback only; set
# AIRFLOW_HOST=0.0.0.0 to reach it from other machines). The DAG starts paused.
set -euo pipefail
cd "$(dirname "$0")/.."
export AIRFLOW_HOME="${AIRFLOW_HOME:-$PWD/.state/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM=2
export PYTHONWARNINGS=ignore
AIRFLOW_HOST="${AIRFLOW_HOST:-127.0.0.1}"
AIRFLOW_PORT="${AIRFLOW_PORT:-8080}"
case "$AIRFLOW_PORT" in
  ''|*[!0-9]*) echo "bad AIRFLOW_PORT=$AIRFLOW_PORT: expected a port number, e.g. 8080" >&2; exit 2 ;;
esac
export AIRFLOW__API__HOST="$AIRFLOW_HOST" AIRFLOW__API__PORT="$AIRFLOW_PORT"
# Tasks reach the API server's execution API on the same port.
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$AIRFLOW_PORT/execution/"
export PATH="$PWD/.venv/bin:$PATH"  # standalone starts its components as `airflow ...`
mkdir -p "$AIRFLOW_HOME"
if [ "${1:-}" = "--print-address" ]; then  # what the API server will listen on, from Airflow
  exec .venv/bin/python -c 'from airflow.configuration import conf
print(conf.get("api", "host") + ":" + str(conf.getint("api", "port")))'
fi
.venv/bin/f1pipe stack up
setsid .venv/bin/airflow standalone > "$AIRFLOW_HOME/standalone.log" 2>&1 &
pgid=$!
stop() { kill -TERM -- "-$pgid" 2>/dev/null || true; wait "$pgid" 2>/dev/null || true; }
trap stop EXIT INT TERM
echo "airflow standalone (process group $pgid): http://$AIRFLOW_HOST:$AIRFLOW_PORT, log $AIRFLOW_HOME/standalone.log"
echo "the f1_pipeline DAG starts paused: unpause it in the UI (or .venv/bin/airflow dags unpause f1_pipeline),"
echo "then Trigger (with parameters) runs it now; unpaused, it also runs on race weekends"
echo "the admin password is in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated; Ctrl-C stops it"
wait "$pgid"
