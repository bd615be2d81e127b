"""Snowflake destination over ``snowflake-connector-python``, configured by ``SNOWFLAKE_*``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import snowflake.connector
from pydantic import SecretStr
from snowflake.connector.errors import Error

from f1pipe.config import Settings
from f1pipe.errors import ConfigError, F1PipeError, LandingError
from f1pipe.lake.listing import LakeObject
from f1pipe.lake.url import LakeUrl
from f1pipe.warehouse.snowflake import DIALECT
from f1pipe.warehouse.snowflake import sql as sf
from f1pipe.warehouse.snowflake.read_only import require_read_only

REQUIRED = {"snowflake_account": "SNOWFLAKE_ACCOUNT", "snowflake_user": "SNOWFLAKE_USER"}
LOGIN_FAILED = 250001  # the connector's errno for a refused login
KEY_SETTING = "SNOWFLAKE_PRIVATE_KEY_PATH"


def connect_kwargs(settings: Settings) -> dict[str, Any]:
    """Arguments of ``snowflake.connector.connect`` from the settings: the password
    unwrapped, or, with ``SNOWFLAKE_PRIVATE_KEY_PATH``, the private key as DER bytes (the
    connector then logs in with key-pair authentication)."""
    missing = [env for field, env in REQUIRED.items() if not getattr(settings, field)]
    if not settings.snowflake_private_key_path and not settings.snowflake_password:
        missing.append(f"SNOWFLAKE_PASSWORD (or {KEY_SETTING})")
    if missing:
        raise ConfigError(f"warehouse snowflake needs {', '.join(missing)}: set them in .env")
    optional = {
        "warehouse": settings.snowflake_warehouse,
        "role": settings.snowflake_role,
        "host": settings.snowflake_host,
        "port": settings.snowflake_port,
        "protocol": settings.snowflake_protocol,
    }
    if settings.snowflake_private_key_path:
        secret = {"private_key": private_key_der(settings.snowflake_private_key_path,
                                                 settings.snowflake_private_key_passphrase)}
    else:
        secret = {"password": settings.snowflake_password.get_secret_value()}
    return {
        "account": settings.snowflake_account,
        "user": settings.snowflake_user,
        **secret,
        "database": settings.snowflake_database,
        "schema": settings.snowflake_schema,
        "login_timeout": 30,
        **{k: v for k, v in optional.items() if v},
    }


def private_key_der(path: Path, passphrase: SecretStr | None) -> bytes:
    """The PEM private key at ``path`` (decrypted with ``passphrase`` when given) as
    unencrypted PKCS#8 DER bytes, what the connector's ``private_key`` takes. A missing,
    unreadable or garbled file raises a one-line :class:`ConfigError` naming the setting."""
    from cryptography.hazmat.primitives import serialization

    try:
        pem = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(f"bad setting {KEY_SETTING}: cannot read {path}: "
                          f"{exc.strerror or exc}") from None
    secret = passphrase.get_secret_value().encode() if passphrase else None
    try:
        key = serialization.load_pem_private_key(pem, password=secret)
    except TypeError:  # encrypted without a passphrase, or a passphrase for a clear key
        raise ConfigError(
            f"bad setting {KEY_SETTING}: {path} is "
            + ("not encrypted: unset SNOWFLAKE_PRIVATE_KEY_PASSPHRASE" if secret
               else "encrypted: set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")) from None
    except ValueError:
        raise ConfigError(
            f"bad setting {KEY_SETTING}: {path} is not a PEM private key"
            + (" (or SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is wrong)" if secret else "")) from None
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _login_error(settings: Settings, exc: Error) -> F1PipeError:
    reason = _reason(exc)
    if exc.errno == LOGIN_FAILED or any(w in reason.lower() for w in ("password", "jwt")):
        return F1PipeError(
            f"Snowflake login failed for user {settings.snowflake_user} on account "
            f"{settings.snowflake_account}: {reason} (check SNOWFLAKE_USER / "
            f"{KEY_SETTING if settings.snowflake_private_key_path else 'SNOWFLAKE_PASSWORD'})"
        )
    return F1PipeError(f"cannot connect to Snowflake account {settings.snowflake_account}: "
                       f"{reason} (check SNOWFLAKE_ACCOUNT)")


@dataclass
class SnowflakeDestination:
    con: Any  # snowflake.connector.SnowflakeConnection
    settings: Settings
    stage: str = sf.INTERNAL_STAGE
    read_only: bool = False  # queries and checks: every statement is checked first
    dialect = DIALECT

    @classmethod
    def open(cls, settings: Settings, read_only: bool = False) -> SnowflakeDestination:
        kwargs = connect_kwargs(settings)
        try:
            return cls(snowflake.connector.connect(**kwargs), settings, read_only=read_only)
        except Error as exc:
            raise _login_error(settings, exc) from None

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        if self.read_only:
            require_read_only(sql)
        try:
            self._run(sql, params)
        except Error as exc:
            # The statement itself is not shown: a stage's may hold credentials.
            verb = " ".join(sql.split()[:2])
            raise F1PipeError(f"Snowflake {verb} failed: {_reason(exc)}") from None

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self.con.cursor() as cur:
            cur.execute(sql, params or None)

    def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple]]:
        if self.read_only:
            require_read_only(sql)
        with self.con.cursor() as cur:
            try:
                cur.execute(sql, params or None)
            except Error as exc:
                raise F1PipeError(f"query failed: {_reason(exc)}") from None
            columns = [c[0].lower() for c in cur.description or []]
            return columns, [tuple(r) for r in cur.fetchall()]

    def attach_lake(self, lake: LakeUrl) -> None:
        for statement in sf.create_file_formats():
            self.execute(statement)
        if lake.scheme == "file":
            self.execute(sf.create_internal_stage())
            self.stage = sf.INTERNAL_STAGE
            return
        secret = self.settings.aws_secret_access_key
        self.execute(sf.create_external_stage(
            lake, self.settings.snowflake_storage_integration, self.settings.aws_access_key_id,
            secret.get_secret_value() if secret else None,
        ))
        self.stage = sf.EXTERNAL_STAGE

    def land(self, obj: LakeObject) -> None:
        if not sf.SAFE_KEY.match(obj.key):
            raise LandingError(f"{obj.key}: key has characters a stage path cannot hold")
        try:
            if self.stage == sf.INTERNAL_STAGE:
                self._run(sf.put(obj.url, obj.key))
            self._run(sf.copy_object(self.stage, obj.key, obj.format))
        except Error as exc:
            raise LandingError(f"{obj.key}: {_reason(exc)}") from None

    def close(self) -> None:
        self.con.close()


def _reason(exc: Exception) -> str:
    text = getattr(exc, "raw_msg", None) or str(exc)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
