"""Snowflake destination over ``snowflake-connector-python``, configured by ``SNOWFLAKE_*``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import snowflake.connector
from snowflake.connector.errors import Error

from f1pipe.config import Settings
from f1pipe.errors import ConfigError, F1PipeError, LandingError
from f1pipe.lake.listing import LakeObject
from f1pipe.lake.url import LakeUrl
from f1pipe.warehouse.snowflake import DIALECT
from f1pipe.warehouse.snowflake import sql as sf
from f1pipe.warehouse.snowflake.read_only import require_read_only

REQUIRED = {"snowflake_account": "SNOWFLAKE_ACCOUNT", "snowflake_user": "SNOWFLAKE_USER",
            "snowflake_password": "SNOWFLAKE_PASSWORD"}
LOGIN_FAILED = 250001  # the connector's errno for a refused login


def connect_kwargs(settings: Settings) -> dict[str, Any]:
    """Arguments of ``snowflake.connector.connect`` from the settings (password unwrapped)."""
    missing = [env for field, env in REQUIRED.items() if not getattr(settings, field)]
    if missing:
        raise ConfigError(f"warehouse snowflake needs {', '.join(missing)}: set them in .env")
    optional = {
        "warehouse": settings.snowflake_warehouse,
        "role": settings.snowflake_role,
        "host": settings.snowflake_host,
        "port": settings.snowflake_port,
        "protocol": settings.snowflake_protocol,
    }
    return {
        "account": settings.snowflake_account,
        "user": settings.snowflake_user,
        "password": settings.snowflake_password.get_secret_value(),
        "database": settings.snowflake_database,
        "schema": settings.snowflake_schema,
        "login_timeout": 30,
        **{k: v for k, v in optional.items() if v},
    }


def _login_error(settings: Settings, exc: Error) -> F1PipeError:
    reason = _reason(exc)
    if exc.errno == LOGIN_FAILED or "password" in reason.lower():
        return F1PipeError(
            f"Snowflake login failed for user {settings.snowflake_user} on account "
            f"{settings.snowflake_account}: {reason} (check SNOWFLAKE_USER / SNOWFLAKE_PASSWORD)"
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
