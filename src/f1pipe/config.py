"""Settings from the environment and a ``.env`` file.

The seed project's names are honoured (``KAFKA_BROKER``, ``KAFKA_TOPIC``, ``S3_BUCKET``,
``SNOWFLAKE_*``); ours sit beside them with an ``F1PIPE_`` prefix. Secrets are
``SecretStr``: they print as ``**********`` and are only unwrapped where a client needs them.
A bad value stops the command before any work with one line naming the setting
(:func:`load_settings`).
"""

from __future__ import annotations

import logging
import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from f1pipe.errors import ConfigError

# librdkafka's own log lines go through this logger (the CLI shows errors only).
KAFKA_LOG = logging.getLogger("f1pipe.librdkafka")
# What librdkafka accepts for security.protocol and sasl.mechanism.
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")
# Amazon MSK's IAM access control, as the Java client names it: librdkafka's OAUTHBEARER
# with a token presigned by AWS's MSK IAM signer from the instance's AWS credentials.
MSK_IAM = "AWS_MSK_IAM"
# Mechanisms that log in with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (Confluent Cloud:
# PLAIN over SASL_SSL, the API key and secret).
USER_PASSWORD_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Every setting of f1pipe; environment variable names are given by ``validation_alias``."""

    model_config = SettingsConfigDict(
        env_file=os.environ.get("F1PIPE_ENV_FILE", ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # Kafka
    kafka_broker: str = Field("127.0.0.1:9092", validation_alias=_env("KAFKA_BROKER"))
    kafka_topic: str = Field("f1_race_data", validation_alias=_env("KAFKA_TOPIC"))
    topic_prefix: str = Field("f1.", validation_alias=_env("F1PIPE_TOPIC_PREFIX"))
    topic_partitions: int = Field(
        3, ge=1, le=1000, validation_alias=_env("F1PIPE_TOPIC_PARTITIONS")
    )
    # Replicas of the topics f1pipe creates: default min(3, brokers of the cluster).
    topic_replication: int | None = Field(
        None, ge=1, le=10, validation_alias=_env("F1PIPE_TOPIC_REPLICATION")
    )
    # min.insync.replicas of those topics: default 2 with 3+ replicas, else 1.
    topic_min_isr: int | None = Field(
        None, ge=1, le=10, validation_alias=_env("F1PIPE_TOPIC_MIN_ISR")
    )
    consumer_group: str = Field("f1pipe-lake", validation_alias=_env("F1PIPE_CONSUMER_GROUP"))
    # Static group membership (Kafka group.instance.id): a restarted consumer takes its
    # partitions back at once instead of waiting for the old member's session to time out.
    consumer_instance_id: str | None = Field(
        None, validation_alias=_env("F1PIPE_CONSUMER_INSTANCE_ID")
    )
    dead_letter_topic: str = Field("f1.dlq", validation_alias=_env("F1PIPE_DLQ_TOPIC"))
    kafka_security_protocol: str | None = Field(
        None, validation_alias=_env("KAFKA_SECURITY_PROTOCOL")
    )
    kafka_sasl_mechanism: str | None = Field(None, validation_alias=_env("KAFKA_SASL_MECHANISM"))
    kafka_sasl_username: str | None = Field(None, validation_alias=_env("KAFKA_SASL_USERNAME"))
    kafka_sasl_password: SecretStr | None = Field(
        None, validation_alias=_env("KAFKA_SASL_PASSWORD")
    )
    kafka_ssl_ca_location: str | None = Field(
        None, validation_alias=_env("KAFKA_SSL_CA_LOCATION")
    )

    # Local stack
    state_dir: Path = Field(Path(".state"), validation_alias=_env("F1PIPE_STATE_DIR"))
    cache_dir: Path = Field(
        Path.home() / ".cache" / "f1pipe", validation_alias=_env("F1PIPE_CACHE_DIR")
    )
    kafka_home: Path | None = Field(None, validation_alias=_env("KAFKA_HOME"))
    kafka_controller_port: int | None = Field(
        None, ge=1, le=65535, validation_alias=_env("F1PIPE_KAFKA_CONTROLLER_PORT")
    )
    kafka_heap: str = Field("512m", validation_alias=_env("F1PIPE_KAFKA_HEAP"))
    # Nodes of the local stack (`f1pipe stack up --brokers N`); with more than one and a
    # single loopback KAFKA_BROKER, clients bootstrap from every node (see kafka_bootstrap).
    stack_brokers: int = Field(1, ge=1, le=9, validation_alias=_env("F1PIPE_STACK_BROKERS"))
    java: str = Field("java", validation_alias=_env("F1PIPE_JAVA"))

    # Object store (lake)
    lake: str = Field("file://./lake", validation_alias=_env("F1PIPE_LAKE"))
    s3_bucket: str | None = Field(None, validation_alias=_env("S3_BUCKET"))
    s3_endpoint_url: str | None = Field(None, validation_alias=_env("S3_ENDPOINT_URL"))
    aws_access_key_id: str | None = Field(None, validation_alias=_env("AWS_ACCESS_KEY_ID"))
    aws_secret_access_key: SecretStr | None = Field(
        None, validation_alias=_env("AWS_SECRET_ACCESS_KEY")
    )
    aws_region: str = Field("us-east-1", validation_alias=_env("AWS_REGION", "AWS_DEFAULT_REGION"))

    # Warehouse
    warehouse: str = Field("duckdb:///./f1.duckdb", validation_alias=_env("F1PIPE_WAREHOUSE"))
    # Lake objects loaded per warehouse transaction, at most (a kill loses only the current one).
    load_batch_objects: int = Field(1_000, ge=1,
                                    validation_alias=_env("F1PIPE_LOAD_BATCH_OBJECTS"))
    snowflake_user: str | None = Field(None, validation_alias=_env("SNOWFLAKE_USER"))
    snowflake_password: SecretStr | None = Field(
        None, validation_alias=_env("SNOWFLAKE_PASSWORD")
    )
    snowflake_account: str | None = Field(None, validation_alias=_env("SNOWFLAKE_ACCOUNT"))
    snowflake_database: str = Field("F1", validation_alias=_env("SNOWFLAKE_DATABASE"))
    snowflake_schema: str = Field("PUBLIC", validation_alias=_env("SNOWFLAKE_SCHEMA"))
    snowflake_warehouse: str | None = Field(None, validation_alias=_env("SNOWFLAKE_WAREHOUSE"))
    snowflake_role: str | None = Field(None, validation_alias=_env("SNOWFLAKE_ROLE"))
    # Key-pair authentication (instead of SNOWFLAKE_PASSWORD): a PEM PKCS#8 private key file,
    # encrypted with SNOWFLAKE_PRIVATE_KEY_PASSPHRASE or not encrypted.
    snowflake_private_key_path: Path | None = Field(
        None, validation_alias=_env("SNOWFLAKE_PRIVATE_KEY_PATH")
    )
    snowflake_private_key_passphrase: SecretStr | None = Field(
        None, validation_alias=_env("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
    )
    snowflake_storage_integration: str | None = Field(
        None, validation_alias=_env("SNOWFLAKE_STORAGE_INTEGRATION")
    )
    # Only for private-link hosts or a local emulator; the account alone is the usual case.
    snowflake_host: str | None = Field(None, validation_alias=_env("SNOWFLAKE_HOST"))
    snowflake_port: int | None = Field(None, validation_alias=_env("SNOWFLAKE_PORT"))
    snowflake_protocol: str | None = Field(None, validation_alias=_env("SNOWFLAKE_PROTOCOL"))

    # Transform (dbt): the executable in dbt's own virtualenv and the dbt project folder;
    # default .venv-dbt/bin/dbt and dbt/ of this checkout.
    dbt_executable: Path | None = Field(None, validation_alias=_env("F1PIPE_DBT"))
    dbt_project_dir: Path | None = Field(None, validation_alias=_env("F1PIPE_DBT_PROJECT"))
    # Where the project compiled for f1pipe's own runner is kept (one folder per version of
    # the project); default <state dir>/dbt/compiled.
    dbt_compiled_dir: Path | None = Field(None, validation_alias=_env("F1PIPE_DBT_COMPILED"))
    # DuckDB: "compiled" (f1pipe runs the compiled models in-process, only for the sessions
    # whose facts changed) or "dbt" (dbt run / dbt test in .venv-dbt, every session).
    transform_engine: Literal["compiled", "dbt"] = Field(
        "compiled", validation_alias=_env("F1PIPE_TRANSFORM_ENGINE"))

    # FastF1
    fastf1_cache_dir: Path = Field(
        Path.home() / ".cache" / "f1pipe" / "fastf1",
        validation_alias=_env("F1PIPE_FASTF1_CACHE"),
    )
    fastf1_recorded_dir: Path | None = Field(
        None, validation_alias=_env("F1PIPE_FASTF1_RECORDED")
    )
    offline: bool = Field(False, validation_alias=_env("F1PIPE_OFFLINE"))

    @field_validator("kafka_broker")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    @field_validator("kafka_security_protocol")
    @classmethod
    def _security_protocol(cls, value: str | None) -> str | None:
        if value and value.upper() not in SECURITY_PROTOCOLS:
            raise ValueError(f"expected one of {', '.join(SECURITY_PROTOCOLS)}, got {value!r}")
        return value.upper() if value else value

    @field_validator("kafka_sasl_mechanism")
    @classmethod
    def _sasl_mechanism(cls, value: str | None) -> str | None:
        choices = (*SASL_MECHANISMS, MSK_IAM)
        if value and value.upper() not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return value.upper() if value else value

    @model_validator(mode="after")
    def _kafka_auth_fits_together(self) -> Settings:
        """A SASL mechanism needs a SASL protocol (MSK IAM defaults to SASL_SSL), and a
        user/password mechanism needs both; errors name the setting to fix."""
        mechanism, protocol = self.kafka_sasl_mechanism, self.kafka_security_protocol
        if mechanism == MSK_IAM and protocol is None:
            self.kafka_security_protocol = protocol = "SASL_SSL"
        if mechanism and protocol not in ("SASL_SSL", "SASL_PLAINTEXT"):
            raise ValueError(_setting_error(
                "KAFKA_SECURITY_PROTOCOL", f"KAFKA_SASL_MECHANISM={mechanism} needs SASL_SSL "
                f"(or SASL_PLAINTEXT), got {protocol}"))
        if mechanism in USER_PASSWORD_MECHANISMS:
            for value, name in ((self.kafka_sasl_username, "KAFKA_SASL_USERNAME"),
                                (self.kafka_sasl_password, "KAFKA_SASL_PASSWORD")):
                if not value:
                    raise ValueError(_setting_error(
                        name, f"KAFKA_SASL_MECHANISM={mechanism} needs it (Confluent Cloud: "
                        "the API key and secret)"))
        return self

    @field_validator("lake")
    @classmethod
    def _lake_url(cls, value: str) -> str:
        if not value.startswith(("file://", "s3://")):
            raise ValueError(f"expected file://PATH or s3://BUCKET/PREFIX, got {value!r}")
        return value

    @field_validator("warehouse")
    @classmethod
    def _warehouse_url(cls, value: str) -> str:
        if not (value.startswith("duckdb://") or value == "snowflake"):
            raise ValueError(f"expected duckdb:///PATH or snowflake, got {value!r}")
        return value

    @cached_property
    def kafka_port(self) -> int:
        return int(self.kafka_broker.split(",")[0].rpartition(":")[2])

    @property
    def kafka_bootstrap(self) -> str:
        """Where clients bootstrap: ``KAFKA_BROKER``, or, for a local stack of N brokers
        (``F1PIPE_STACK_BROKERS``) named by its first node only, all N nodes' addresses, so
        that clients start while any one node is down."""
        servers = [s.strip() for s in self.kafka_broker.split(",") if s.strip()]
        host, _, port = servers[0].rpartition(":")
        if self.stack_brokers == 1 or len(servers) > 1 or \
                host.strip("[]") not in ("127.0.0.1", "localhost", "::1"):
            return self.kafka_broker
        return ",".join(f"{host}:{int(port) + i}" for i in range(self.stack_brokers))

    def kafka_client_config(self) -> dict:
        """librdkafka settings shared by producers, consumers and admin clients."""
        conf = {"bootstrap.servers": self.kafka_bootstrap, "logger": KAFKA_LOG}
        msk_iam = self.kafka_sasl_mechanism == MSK_IAM
        optional = {
            "security.protocol": self.kafka_security_protocol,
            "sasl.mechanism": "OAUTHBEARER" if msk_iam else self.kafka_sasl_mechanism,
            "sasl.username": self.kafka_sasl_username,
            "ssl.ca.location": self.kafka_ssl_ca_location,
        }
        conf.update({k: v for k, v in optional.items() if v})
        if self.kafka_sasl_password is not None:
            conf["sasl.password"] = self.kafka_sasl_password.get_secret_value()
        if msk_iam:
            conf["oauth_cb"] = msk_iam_token_callback(self.aws_region)
        return conf


def msk_iam_token_callback(region: str):
    """librdkafka's ``oauth_cb`` for Amazon MSK IAM: returns a callable giving
    ``(token, expiry in seconds since the epoch)``, the token presigned locally by
    ``aws-msk-iam-sasl-signer-python`` from the default AWS credentials (instance profile,
    environment...). No network call: the broker checks the signature."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    def oauth_cb(_config: str | None) -> tuple[str, float]:
        try:
            token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        except Exception as exc:  # botocore's NoCredentialsError and kin
            raise ConfigError(f"MSK IAM token for {region}: {exc} (check the instance "
                              "profile or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)") from None
        return token, expiry_ms / 1000

    return oauth_cb


def _setting_error(name: str, message: str) -> str:
    return f"@{name}: {message}"


# Field name -> the environment variable a user sets, for error lines.
def _env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    return alias.choices[0] if isinstance(alias, AliasChoices) else field.upper()


def load_settings(**overrides) -> Settings:
    """Read settings; a bad value raises :class:`ConfigError` naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        name = _env_name(field) if field in Settings.model_fields else field
        msg = err["msg"].removeprefix("Value error, ")
        if msg.startswith("@"):  # a check across settings names the one to fix itself
            name, _, msg = msg[1:].partition(": ")
        raise ConfigError(f"bad setting {name}: {msg}") from None
