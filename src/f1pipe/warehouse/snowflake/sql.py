"""Snowflake's loading path: file formats, the lake stage, PUT and COPY INTO.

An S3 lake gets an external stage on ``s3://bucket/prefix/`` (a storage integration if one
is configured, else the AWS key pair); a local-folder lake an internal stage that each
object is PUT to, under its lake key. Every object is copied on its own, by its path in the
stage, so one corrupt object fails alone. FORCE = TRUE: ``load_history`` decides what is
loaded, not Snowflake's 64-day load metadata (a rewritten object must load again).
"""

from __future__ import annotations

import re

from f1pipe.errors import ConfigError
from f1pipe.lake.url import LakeUrl
from f1pipe.warehouse.sql import LANDING

JSON_FORMAT = "f1pipe_json"
PARQUET_FORMAT = "f1pipe_parquet"
FILE_FORMATS = {"json": JSON_FORMAT, "parquet": PARQUET_FORMAT}
INTERNAL_STAGE = "f1pipe_lake_local"
EXTERNAL_STAGE = "f1pipe_lake_s3"
# Stage paths go unquoted into PUT / COPY: keys must keep to the lake's own characters.
SAFE_KEY = re.compile(r"^[A-Za-z0-9_.=+/-]+$")


def create_file_formats() -> list[str]:
    return [
        f"CREATE FILE FORMAT IF NOT EXISTS {JSON_FORMAT} TYPE = JSON",
        f"CREATE FILE FORMAT IF NOT EXISTS {PARQUET_FORMAT} TYPE = PARQUET",
    ]


def create_internal_stage() -> str:
    return f"CREATE STAGE IF NOT EXISTS {INTERNAL_STAGE}"


def create_external_stage(lake: LakeUrl, integration: str | None,
                          key_id: str | None, secret: str | None) -> str:
    """The S3 stage; the statement holds credentials when no integration is set: never log it."""
    url = f"s3://{lake.bucket}/{lake.prefix + '/' if lake.prefix else ''}"
    if integration:
        auth = f"STORAGE_INTEGRATION = {integration}"
    elif key_id and secret:
        auth = (f"CREDENTIALS = (AWS_KEY_ID = '{_quote(key_id)}' "
                f"AWS_SECRET_KEY = '{_quote(secret)}')")
    else:
        raise ConfigError(
            "a Snowflake stage on an S3 lake needs SNOWFLAKE_STORAGE_INTEGRATION or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    return f"CREATE OR REPLACE STAGE {EXTERNAL_STAGE} URL = '{url}' {auth}"


def put(local_path: str, key: str) -> str:
    """Upload one local object to the internal stage, at its lake key."""
    folder = key.rpartition("/")[0]
    return (
        f"PUT 'file://{_quote(local_path)}' @{INTERNAL_STAGE}/{folder}/ "
        "AUTO_COMPRESS = FALSE OVERWRITE = TRUE"
    )


def copy_object(stage: str, key: str, fmt: str) -> str:
    """COPY one staged object into the landing table (one VARIANT column)."""
    return (
        f"COPY INTO {LANDING} FROM @{stage}/{key} "
        f"FILE_FORMAT = (FORMAT_NAME = '{FILE_FORMATS[fmt]}') "
        "ON_ERROR = ABORT_STATEMENT FORCE = TRUE"
    )


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
