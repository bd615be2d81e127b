"""deploy/snowflake/setup.sql: every statement parses as Snowflake SQL (sqlglot), and the
objects it creates are the ones the loader uses (file formats, the external stage), on the
lake prefix, with a key-pair-only loader user."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from f1pipe.warehouse.snowflake import sql as sf

SETUP = Path(__file__).resolve().parents[3] / "deploy" / "snowflake" / "setup.sql"


def statements() -> list[str]:
    text = "\n".join(ln for ln in SETUP.read_text().splitlines()
                     if not ln.lstrip().startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]


@pytest.mark.parametrize("statement", statements(), ids=lambda s: " ".join(s.split()[:3]))
def test_statement_parses_as_snowflake_sql(statement):
    parsed = sqlglot.parse_one(statement, read="snowflake")
    assert parsed is not None
    # A statement sqlglot does not model stays a raw Command: it must at least be one the
    # setup needs, not a typo.
    if isinstance(parsed, exp.Command):
        assert re.match(r"(?i)^(CREATE (STORAGE INTEGRATION|WAREHOUSE|USER|ROLE|PIPE|FILE "
                        r"FORMAT|STAGE)|GRANT|LIST|USE)\b", statement), statement


def test_objects_match_the_loaders_names():
    text = SETUP.read_text().upper()
    for name in (sf.JSON_FORMAT, sf.PARQUET_FORMAT, sf.EXTERNAL_STAGE):
        assert f"CREATE FILE FORMAT IF NOT EXISTS {name.upper()}" in text or \
            f"CREATE STAGE IF NOT EXISTS {name.upper()}" in text, name
    assert "STORAGE_INTEGRATION = F1_LAKE" in text
    assert "URL = 'S3://<LAKE-BUCKET>/LAKE/'" in text  # F1PIPE_LAKE=s3://<bucket>/lake


def test_loader_user_logs_in_with_a_key_pair_only():
    user = next(s for s in statements() if s.upper().startswith("CREATE USER"))
    assert "RSA_PUBLIC_KEY" in user and "PASSWORD" not in user.upper()
    assert "TYPE = SERVICE" in user


def test_snowpipe_is_auto_ingest_from_the_stage():
    pipe = next(s for s in statements() if s.upper().startswith("CREATE PIPE"))
    assert "AUTO_INGEST = TRUE" in pipe and f"@{sf.EXTERNAL_STAGE.upper()}/" in pipe
