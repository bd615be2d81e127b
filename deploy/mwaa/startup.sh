#!/usr/bin/env bash
# MWAA startup script (the environment's "startup script" in S3, run on every Airflow
# component before it starts). It (1) sets f1pipe's settings, with the CLI's names
# (.env.example), as environment variables of the tasks; (2) writes the Snowflake private
# key from AWS Secrets Manager to a file only the tasks read; (3) installs dbt into its own
# virtualenv, as locally (.venv-dbt): dbt-core 1.11 and Airflow 3 do not resolve together.
# Edit the CHANGE-ME values. Astronomer: set the same variables on the deployment instead.
set -euo pipefail

export F1PIPE_DAG_SCHEDULE="30 */3 * * 5,6,0"     # "none": manual runs only
export KAFKA_BROKER="CHANGE-ME-msk-bootstrap:9098"  # aws kafka get-bootstrap-brokers
export KAFKA_SASL_MECHANISM=AWS_MSK_IAM              # Confluent Cloud: PLAIN + username/password
export KAFKA_SECURITY_PROTOCOL=SASL_SSL
export F1PIPE_TOPIC_REPLICATION=3
export F1PIPE_LAKE="s3://CHANGE-ME-lake-bucket/lake"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export F1PIPE_WAREHOUSE=snowflake
export SNOWFLAKE_ACCOUNT="CHANGE-ME-orgname-account"
export SNOWFLAKE_USER=F1PIPE_LOADER
export SNOWFLAKE_ROLE=F1PIPE_LOADER
export SNOWFLAKE_WAREHOUSE=F1_WH
export SNOWFLAKE_DATABASE=F1
export SNOWFLAKE_SCHEMA=PUBLIC
export SNOWFLAKE_STORAGE_INTEGRATION=F1_LAKE
export SNOWFLAKE_PRIVATE_KEY_PATH=/tmp/f1pipe/snowflake_key.p8
export F1PIPE_STATE_DIR=/tmp/f1pipe/state
export F1PIPE_FASTF1_CACHE=/tmp/f1pipe/fastf1
export F1PIPE_DBT=/tmp/f1pipe-dbt/bin/dbt
export F1PIPE_DBT_PROJECT=/usr/local/airflow/dags/dbt
SNOWFLAKE_KEY_SECRET="${SNOWFLAKE_KEY_SECRET:-f1pipe/snowflake-private-key}"

if [ "${MWAA_AIRFLOW_COMPONENT:-worker}" = "worker" ]; then
  mkdir -p /tmp/f1pipe && chmod 700 /tmp/f1pipe
  (umask 077 && python3 -c 'import sys, boto3
sys.stdout.write(boto3.client("secretsmanager").get_secret_value(SecretId=sys.argv[1])
                 ["SecretString"])' "$SNOWFLAKE_KEY_SECRET" > "$SNOWFLAKE_PRIVATE_KEY_PATH")
  if [ ! -x "$F1PIPE_DBT" ]; then
    python3 -m venv /tmp/f1pipe-dbt
    /tmp/f1pipe-dbt/bin/pip install -q dbt-core==1.11.2 dbt-duckdb==1.11.1 dbt-snowflake==1.11.2
  fi
fi
