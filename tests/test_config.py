"""Settings: the seed's names, secrets kept secret, Kafka security passed through."""

from __future__ import annotations

import pytest

from f1pipe.config import load_settings
from f1pipe.errors import ConfigError


def test_seed_names_are_honoured(monkeypatch):
    monkeypatch.setenv("KAFKA_BROKER", "broker.example:9093")
    monkeypatch.setenv("KAFKA_TOPIC", "my_results")
    monkeypatch.setenv("S3_BUCKET", "f1-lake")
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "xy12345")
    settings = load_settings()
    assert settings.kafka_topic == "my_results"
    assert settings.kafka_port == 9093
    assert settings.s3_bucket == "f1-lake"
    assert settings.snowflake_account == "xy12345"


def test_secrets_never_print(monkeypatch):
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "kafka-secret")
    settings = load_settings()
    assert "hunter2-secret" not in repr(settings) and "hunter2-secret" not in str(settings)
    assert "kafka-secret" not in repr(settings)


def test_kafka_security_is_passed_through(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "api-key")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "api-secret")
    conf = load_settings().kafka_client_config()
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "PLAIN"
    assert conf["sasl.username"] == "api-key"
    assert conf["sasl.password"] == "api-secret"


def test_env_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("KAFKA_TOPIC=from_dotenv\n")
    monkeypatch.delenv("KAFKA_TOPIC", raising=False)
    from f1pipe.config import Settings

    assert Settings(_env_file=tmp_path / ".env").kafka_topic == "from_dotenv"


def test_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("F1PIPE_WAREHOUSE", "postgres://x")
    with pytest.raises(ConfigError, match="^bad setting F1PIPE_WAREHOUSE: expected duckdb"):
        load_settings()
