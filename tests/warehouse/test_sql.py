"""The SQL generated from the one model definition, per destination."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from f1pipe.lake.url import LakeUrl
from f1pipe.warehouse import sql
from f1pipe.warehouse.duckdb import DIALECT as DUCKDB
from f1pipe.warehouse.model import BY_NAME, MODEL
from f1pipe.warehouse.snowflake import DIALECT as SNOWFLAKE
from f1pipe.warehouse.snowflake import sql as sf

KEY = "f1.laps/season=2018/round=4/session=R/f1.laps+0+0000000200.jsonl"


def snowflake_statements() -> list[str]:
    statements = [sql.create_landing(SNOWFLAKE), sql.create_load_history(SNOWFLAKE),
                  sql.insert_load_history(SNOWFLAKE), sql.create_load_rejects(SNOWFLAKE),
                  sql.insert_rejects(SNOWFLAKE, [*MODEL, None]),
                  sql.stage_unknown(SNOWFLAKE, ["lap"]), sql.count_staged([*MODEL, None]),
                  sql.create_batch(SNOWFLAKE), sql.collect_landing(SNOWFLAKE),
                  sql.count_batch(), sql.drop_staged(None),
                  *sf.create_file_formats(),
                  sf.create_internal_stage(), sf.put(f"/lake/{KEY}", KEY),
                  sf.copy_object(sf.INTERNAL_STAGE, KEY, "json"),
                  sf.copy_object(sf.EXTERNAL_STAGE, KEY, "parquet"),
                  sf.create_external_stage(LakeUrl.parse("s3://b/lake"), "f1_s3", None, None)]
    for table in MODEL:
        statements += [sql.create_raw(SNOWFLAKE, table), sql.create_model(SNOWFLAKE, table),
                       sql.stage_rows(SNOWFLAKE, table), sql.route_staged(SNOWFLAKE, table),
                       sql.merge(SNOWFLAKE, table)]
    return statements


@pytest.mark.parametrize("statement", snowflake_statements())
def test_snowflake_statements_parse_as_snowflake_sql(statement):
    parsed = sqlglot.parse_one(statement.replace("%s", "NULL"), read="snowflake")

    assert parsed is not None
    assert not isinstance(parsed, exp.Command) or statement.startswith("PUT")


def test_staging_reads_typed_variant_fields_and_the_merge_keeps_the_newest():
    stage = sql.stage_rows(SNOWFLAKE, BY_NAME["f1_results"])
    merge = sql.merge(SNOWFLAKE, BY_NAME["f1_results"])

    assert stage.startswith("CREATE OR REPLACE TEMPORARY TABLE f1pipe_staged_f1_results AS ")
    assert "TRY_CAST(v:points::VARCHAR AS FLOAT) AS points" in stage
    assert "TRY_CAST(v:session_date::VARCHAR AS TIMESTAMP_NTZ) AS session_date" in stage
    assert "TRY_CAST(v:driver_number::VARCHAR AS NUMBER(38,0)) AS driver_number" in stage
    assert merge.startswith("MERGE INTO f1_results t USING (SELECT season, round, session, "
                            "driver_number, ")
    assert "FROM f1pipe_staged_f1_results WHERE reason IS NULL" in merge
    assert ("PARTITION BY season, round, session, driver_number "
            "ORDER BY produced_at DESC, kafka_offset DESC") in merge
    assert "ON t.season = s.season AND t.round = s.round AND t.session = s.session " \
           "AND t.driver_number = s.driver_number" in merge


def test_duckdb_reads_the_same_fields_with_its_own_json_access():
    stage = sql.stage_rows(DUCKDB, BY_NAME["laps"])
    merge = sql.merge(DUCKDB, BY_NAME["laps"])

    # One JSON parse per record: a list of paths, each cast from its place in the list.
    paths = re.search(r"json_extract_string\(v, \[([^\]]*)\]\)", stage).group(1).split(", ")
    for field, sql_type in (("lap_number", "BIGINT"), ("fresh_tyre", "BOOLEAN")):
        place = paths.index(f"'$.{field}'") + 1
        assert f"TRY_CAST(f[{place}] AS {sql_type}) AS {field}" in stage
    assert stage.count("json_extract_string") == 1
    assert "json" not in merge.lower()
    assert "PARTITION BY season, round, session, driver_number, lap_number" in merge


def test_staging_column_names_do_not_clash_with_the_model_columns():
    reserved = {"v", "f", "object_key", "reason", "schema_name", "record_id"}
    for table in MODEL:
        assert not reserved & set(table.column_names), table.name


def test_every_schema_has_a_model_table_keyed_by_its_natural_key():
    from f1pipe.schemas import DATASETS

    by_schema = {t.schema_name: t for t in MODEL}
    for dataset in DATASETS:
        payload = dataset.schema
        table = by_schema[payload.schema_name]
        assert (table.name, table.raw) == (dataset.model_table, dataset.raw_table)
        assert table.key == payload.key_fields
        assert set(payload.model_fields) <= set(table.column_names)
    assert BY_NAME["f1_results"].raw == "raw_results"


def test_copy_loads_one_object_by_its_stage_path():
    copy = sf.copy_object(sf.INTERNAL_STAGE, KEY, "json")

    assert copy == (f"COPY INTO f1pipe_landing FROM @f1pipe_lake_local/{KEY} "
                    "FILE_FORMAT = (FORMAT_NAME = 'f1pipe_json') ON_ERROR = ABORT_STATEMENT "
                    "FORCE = TRUE")


def test_external_stage_uses_the_integration_or_the_key_pair():
    lake = LakeUrl.parse("s3://f1-lake/prod")
    with_integration = sf.create_external_stage(lake, "f1_s3", "AKIA", "secret")
    with_keys = sf.create_external_stage(lake, None, "AKIA", "se'cret")

    assert "URL = 's3://f1-lake/prod/' STORAGE_INTEGRATION = f1_s3" in with_integration
    assert "secret" not in with_integration
    assert "CREDENTIALS = (AWS_KEY_ID = 'AKIA' AWS_SECRET_KEY = 'se\\'cret')" in with_keys


def test_external_stage_without_any_credentials_is_a_config_error():
    from f1pipe.errors import ConfigError

    with pytest.raises(ConfigError, match="SNOWFLAKE_STORAGE_INTEGRATION or AWS_ACCESS_KEY_ID"):
        sf.create_external_stage(LakeUrl.parse("s3://f1-lake/prod"), None, None, None)
