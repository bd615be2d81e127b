"""deploy/compose.yaml: valid against the Compose Specification's JSON schema (vendored,
offline), and wired as the issue asks: a KRaft broker from apache/kafka, an S3 server,
f1pipe's land / tower / serve, Airflow with the DAG mounted, with the CLI's setting names."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from f1pipe.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
SCHEMA = Path(__file__).with_name("schemas") / "compose-spec.json"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def cli_setting_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        names |= set(field.validation_alias.choices)
    return names


def test_compose_file_matches_the_compose_specification():
    assert schema_errors(compose()) == []


def test_the_schema_check_can_fail():
    broken = compose()
    broken["services"]["land"]["restart"] = ["always"]  # a string in the specification
    broken["services"]["kafka"]["healthcheck"]["intervall"] = "10s"  # no such key
    errors = schema_errors(broken)
    assert any(e.startswith("services/land/restart") for e in errors), errors
    assert any("intervall" in e for e in errors), errors


def test_services_are_the_ones_the_deployment_needs():
    services = compose()["services"]
    assert {"kafka", "s3", "land", "tower", "serve", "airflow"} <= set(services)
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert services["land"]["command"] == ["land"]
    assert services["tower"]["command"][0] == "tower"
    assert services["serve"]["command"][0] == "serve"
    assert "../dags:/opt/airflow/dags:ro" in services["airflow"]["volumes"]
    assert services["airflow"]["environment"]["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/airflow/dags"


@pytest.mark.parametrize("service", ["land", "tower", "serve", "airflow"])
def test_f1pipe_services_use_the_clis_setting_names(service):
    environment = compose()["services"][service]["environment"]
    ours = {name for name in environment if not name.startswith("AIRFLOW")}
    assert ours, service
    assert ours <= cli_setting_names(), ours - cli_setting_names()
    assert environment["KAFKA_BROKER"] == "kafka:9092"
    assert environment["F1PIPE_LAKE"].startswith("s3://")


def test_published_ports_are_loopback_only_and_no_secret_is_written_in():
    services = compose()["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    text = COMPOSE.read_text()
    for secret in ("SNOWFLAKE_PASSWORD", "KAFKA_SASL_PASSWORD", "PRIVATE_KEY_PASSPHRASE"):
        assert secret not in text  # secrets only from ../.env (env_file)
