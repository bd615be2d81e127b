"""An ``s3://`` lake on a real S3 server (SeaweedFS): DuckDB reads it through s3fs, Snowflake
through an external stage (fakesnow reads the stage with s3fs, see tests/fixtures)."""

from __future__ import annotations

import pytest

from f1pipe.lake.s3 import s3_client
from f1pipe.warehouse import load, query
from tests.warehouse.conftest import objects_of
from tests.warehouse.lakefiles import write_bucket

pytestmark = pytest.mark.integration
EXPECTED = {"f1_results": 60, "laps": 848, "race_control_messages": 109, "weather": 0,
            "track_status": 22}


def _bucket_lake(settings, messages) -> str:
    write_bucket(s3_client(settings), settings.s3_bucket, "lake", objects_of(messages))
    return f"s3://{settings.s3_bucket}/lake"


def test_duckdb_loads_an_s3_lake(s3_settings, recorded_messages, tmp_path):
    lake = _bucket_lake(s3_settings, recorded_messages)
    url = f"duckdb:///{tmp_path}/f1.duckdb"
    first = load(s3_settings, lake, url)
    again = load(s3_settings, lake, url)

    assert first.failed == []
    assert {t: first.table_rows[t] for t in EXPECTED} == EXPECTED
    assert again.objects_loaded == 0 and again.table_rows == first.table_rows


def test_snowflake_loads_an_s3_lake_through_an_external_stage(fakesnow_s3, recorded_messages,
                                                              tmp_path):
    lake = _bucket_lake(fakesnow_s3, recorded_messages)
    first = load(fakesnow_s3, lake, "snowflake")
    again = load(fakesnow_s3, lake, "snowflake")

    assert first.failed == []
    assert {t: first.table_rows[t] for t in EXPECTED} == EXPECTED
    assert again.objects_loaded == 0 and again.table_rows == first.table_rows
    duck = f"duckdb:///{tmp_path}/f1.duckdb"
    load(fakesnow_s3, lake, duck)
    sql = "SELECT * FROM f1_results ORDER BY season, round, session, driver_number"
    assert query(fakesnow_s3, "snowflake", sql) == query(fakesnow_s3, duck, sql)
