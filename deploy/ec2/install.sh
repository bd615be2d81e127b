#!/usr/bin/env bash
# Install f1pipe on one EC2 instance (Debian 12 / Ubuntu 24.04, run as root): the dedicated
# user, f1pipe + Airflow (.venv) and dbt (.venv-dbt), a Kafka broker, settings in
# /etc/f1pipe and the systemd units (deploy/ec2/systemd), then start f1pipe.target.
#
#   sudo deploy/ec2/install.sh                 # from a checkout of f1pipe (cloud-init does it)
#   DESTDIR=/tmp/root deploy/ec2/install.sh    # files only, into a scratch root (the test)
#
# With DESTDIR set (or F1PIPE_SKIP_SOFTWARE=1) nothing is downloaded, no user is created and
# no service is started: only the files land under DESTDIR. Re-running it is safe: existing
# settings files in /etc/f1pipe are kept.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
DESTDIR="${DESTDIR:-}"
SKIP_SOFTWARE="${F1PIPE_SKIP_SOFTWARE:-$([ -n "$DESTDIR" ] && echo 1 || echo 0)}"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.0}"
KAFKA_SCALA="${KAFKA_SCALA:-2.13}"
ENABLE_SERVE="${F1PIPE_ENABLE_SERVE:-0}"
PYTHON="${PYTHON:-python3}"

say() { echo "install.sh: $*"; }

install_files() {
  install -d -m 0755 "$DESTDIR/etc/systemd/system" "$DESTDIR/usr/lib/sysusers.d" \
    "$DESTDIR/usr/lib/tmpfiles.d" "$DESTDIR/opt/f1pipe"
  install -d -m 0750 "$DESTDIR/etc/f1pipe"
  for unit in "$HERE"/systemd/*.service "$HERE"/systemd/*.target; do
    install -m 0644 "$unit" "$DESTDIR/etc/systemd/system/$(basename "$unit")"
  done
  install -m 0644 "$HERE/f1pipe.sysusers" "$DESTDIR/usr/lib/sysusers.d/f1pipe.conf"
  install -m 0644 "$HERE/f1pipe.tmpfiles" "$DESTDIR/usr/lib/tmpfiles.d/f1pipe.conf"
  # Settings: kept when present (they hold the operator's changes and secrets).
  for file in f1pipe.env airflow.env kafka.env kafka.properties; do
    if [ ! -e "$DESTDIR/etc/f1pipe/$file" ]; then
      install -m 0640 "$HERE/$file" "$DESTDIR/etc/f1pipe/$file"
    else
      say "kept /etc/f1pipe/$file"
    fi
  done
  # The source tree the units run from (dags/ and dbt/ are read from here).
  if [ "$SRC" != "$DESTDIR/opt/f1pipe/src" ]; then
    install -d "$DESTDIR/opt/f1pipe/src"
    tar -C "$SRC" --exclude=.git --exclude='.venv*' --exclude=.state --exclude=lake \
      --exclude='*.duckdb' -cf - . | tar -C "$DESTDIR/opt/f1pipe/src" -xf -
  fi
}

# /etc/f1pipe/stack.env (written by cloud-init from the CloudFormation stack): its non-empty
# KEY=VALUE lines replace those of f1pipe.env, so the lake bucket needs no hand editing.
apply_stack_env() {
  local stack="$DESTDIR/etc/f1pipe/stack.env" env="$DESTDIR/etc/f1pipe/f1pipe.env" key value
  [ -e "$stack" ] || return 0
  while IFS='=' read -r key value; do
    case "$key" in ''|'#'*) continue ;; esac
    [ -n "$value" ] || continue
    if grep -q "^$key=" "$env"; then
      sed -i "s|^$key=.*|$key=$value|" "$env"
    else
      echo "$key=$value" >> "$env"
    fi
  done < "$stack"
}

# With F1PIPE_MSK_CLUSTER_ARN (MSK Serverless): KAFKA_BROKER from the cluster, IAM auth, and
# no local broker.
use_msk() {
  local arn brokers
  arn="$(sed -n 's/^F1PIPE_MSK_CLUSTER_ARN=//p' /etc/f1pipe/f1pipe.env)"
  [ -n "$arn" ] || return 0
  brokers="$(/opt/f1pipe/venv/bin/python -c 'import sys, boto3
print(boto3.client("kafka").get_bootstrap_brokers(ClusterArn=sys.argv[1])
      ["BootstrapBrokerStringSaslIam"])' "$arn")"
  sed -i "s|^KAFKA_BROKER=.*|KAFKA_BROKER=$brokers|; s|^F1PIPE_TOPIC_REPLICATION=.*||" \
    /etc/f1pipe/f1pipe.env
  printf 'KAFKA_SASL_MECHANISM=AWS_MSK_IAM\nKAFKA_SECURITY_PROTOCOL=SASL_SSL\n' \
    >> /etc/f1pipe/f1pipe.env
  systemctl mask f1pipe-kafka.service
  say "Kafka: MSK Serverless $arn (IAM); the local broker is masked"
}

install_software() {
  apt-get update -qq
  apt-get install -y -qq python3-venv openjdk-17-jre-headless curl
  "$PYTHON" -m venv /opt/f1pipe/venv
  /opt/f1pipe/venv/bin/pip install -q -c /opt/f1pipe/src/constraints.txt \
    "/opt/f1pipe/src[airflow]"
  "$PYTHON" -m venv /opt/f1pipe/venv-dbt
  /opt/f1pipe/venv-dbt/bin/pip install -q -c /opt/f1pipe/src/constraints-dbt.txt \
    dbt-core==1.11.2 dbt-duckdb==1.11.1 dbt-snowflake==1.11.2
  if [ ! -x /opt/kafka/bin/kafka-server-start.sh ]; then
    local name="kafka_${KAFKA_SCALA}-${KAFKA_VERSION}"
    curl -fsSL "https://archive.apache.org/dist/kafka/${KAFKA_VERSION}/${name}.tgz" \
      -o "/tmp/${name}.tgz"
    tar -C /opt -xzf "/tmp/${name}.tgz" && ln -sfn "/opt/${name}" /opt/kafka
  fi
}

start_services() {
  systemd-sysusers f1pipe.conf
  systemd-tmpfiles --create f1pipe.conf
  chown root:f1pipe /etc/f1pipe /etc/f1pipe/*
  if [ ! -e /var/lib/f1pipe/kafka/data/meta.properties ]; then
    runuser -u f1pipe -- /opt/kafka/bin/kafka-storage.sh format --standalone \
      --cluster-id "$(/opt/kafka/bin/kafka-storage.sh random-uuid)" \
      --config /etc/f1pipe/kafka.properties
  fi
  systemctl daemon-reload
  use_msk
  systemctl enable --now f1pipe.target
  if [ "$ENABLE_SERVE" = 1 ]; then
    systemctl enable --now f1pipe-serve.service
  fi
}

install_files
apply_stack_env
if [ "$SKIP_SOFTWARE" = 1 ]; then
  say "files installed under ${DESTDIR:-/}; software and services skipped"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
install_software
start_services
say "f1pipe.target started: systemctl status 'f1pipe-*'; settings in /etc/f1pipe/f1pipe.env"
