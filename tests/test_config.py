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


# --- managed Kafka: Confluent Cloud (SASL/PLAIN over TLS), Amazon MSK IAM (OAUTHBEARER) -----


def test_confluent_cloud_needs_the_api_key_and_secret(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "api-key")
    monkeypatch.delenv("KAFKA_SASL_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="^bad setting KAFKA_SASL_PASSWORD: .*PLAIN needs it"):
        load_settings()


def test_a_sasl_mechanism_over_plaintext_is_refused(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    with pytest.raises(ConfigError, match="^bad setting KAFKA_SECURITY_PROTOCOL: .*SASL_SSL"):
        load_settings()


def test_unknown_mechanism_names_the_choices(monkeypatch):
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "AWS_IAM")
    with pytest.raises(ConfigError, match="^bad setting KAFKA_SASL_MECHANISM: .*AWS_MSK_IAM"):
        load_settings()


@pytest.fixture
def aws_credentials(monkeypatch):
    """Static AWS credentials (the signer presigns locally: nothing is sent anywhere)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAF1PIPETESTKEY000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "f1pipe-test-secret")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONFIG_FILE",
                 "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_msk_iam_gives_oauthbearer_with_a_presigned_token(monkeypatch, aws_credentials):
    import base64
    import time
    from urllib.parse import parse_qs, urlparse

    monkeypatch.setenv("KAFKA_BROKER", "b-1.f1.abc123.c2.kafka-serverless.eu-west-1."
                                       "amazonaws.com:9098")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "AWS_MSK_IAM")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    conf = load_settings().kafka_client_config()
    assert conf["security.protocol"] == "SASL_SSL"  # MSK IAM's default
    assert conf["sasl.mechanism"] == "OAUTHBEARER"
    assert "sasl.password" not in conf

    token, expiry_s = conf["oauth_cb"]("")
    url = urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert url.hostname == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith("AKIAF1PIPETESTKEY000/")
    assert "/eu-west-1/kafka-cluster/aws4_request" in query["X-Amz-Credential"][0]
    assert query["X-Amz-Signature"][0]
    assert time.time() < expiry_s < time.time() + 3600  # seconds, as librdkafka wants


def test_msk_iam_token_without_credentials_is_one_line(monkeypatch, tmp_path):
    from f1pipe.config import msk_iam_token_callback

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ConfigError, match="^MSK IAM token for eu-west-1: .*instance profile"):
        msk_iam_token_callback("eu-west-1")("")


def test_librdkafka_takes_the_msk_iam_settings_and_asks_for_a_token(monkeypatch,
                                                                     aws_credentials):
    """A real client built from the settings: librdkafka accepts them and calls the token
    callback as it starts (nothing listens on the port: no connection is needed)."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
    from confluent_kafka.admin import AdminClient

    from f1pipe.stack.ports import free_ports

    signed = []
    original = MSKAuthTokenProvider.generate_auth_token

    def spy(region, *args, **kwargs):
        signed.append(region)
        return original(region, *args, **kwargs)

    monkeypatch.setattr(MSKAuthTokenProvider, "generate_auth_token", spy)
    monkeypatch.setenv("KAFKA_BROKER", f"127.0.0.1:{free_ports(1)[0]}")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "AWS_MSK_IAM")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    AdminClient(load_settings().kafka_client_config())
    assert signed == ["eu-west-1"]
