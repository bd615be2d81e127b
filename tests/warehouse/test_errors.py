"""Bad input gives one clear line (F1PipeError / ``error: ...`` from the CLI), never a traceback."""

from __future__ import annotations

import duckdb
import pytest

from f1pipe.config import load_settings
from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.warehouse import load, query, run_checks
from tests.warehouse.harness import one_error_line, run_cli


def test_snowflake_login_failure_is_one_line(snowflake_wrong_password, tmp_path):
    with pytest.raises(F1PipeError) as caught:
        load(snowflake_wrong_password, f"file://{tmp_path}", "snowflake")

    message = str(caught.value)
    assert "\n" not in message
    assert "login failed for user f1pipe" in message
    assert "Incorrect username or password" in message
    assert "SNOWFLAKE_PASSWORD" in message
    assert "wrong" not in message  # the password itself is never shown


def test_snowflake_login_failure_from_the_cli(snowflake_wrong_password, tmp_path):
    cfg = snowflake_wrong_password
    env = {"SNOWFLAKE_ACCOUNT": cfg.snowflake_account, "SNOWFLAKE_USER": cfg.snowflake_user,
           "SNOWFLAKE_PASSWORD": "wrong", "SNOWFLAKE_HOST": cfg.snowflake_host,
           "SNOWFLAKE_PORT": str(cfg.snowflake_port), "SNOWFLAKE_PROTOCOL": "http"}
    done = run_cli("query", "SELECT 1", "--warehouse", "snowflake", env=env, cwd=tmp_path)

    assert done.returncode == 1
    assert "login failed" in one_error_line(done.stderr)


def test_snowflake_settings_missing():
    bare = load_settings(snowflake_account=None, snowflake_user=None, snowflake_password=None)
    with pytest.raises(ConfigError, match="SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PASSWORD"):
        query(bare, "snowflake", "SELECT 1")


def test_missing_lake_folder(tmp_path):
    with pytest.raises(F1PipeError, match="lake folder .*nowhere does not exist"):
        load(load_settings(), f"file://{tmp_path / 'nowhere'}", f"duckdb:///{tmp_path}/f.db")


@pytest.mark.integration
def test_missing_bucket_is_one_line(s3_settings, tmp_path):
    lake = "s3://no-such-bucket-f1pipe/lake"
    with pytest.raises(F1PipeError, match="bucket 'no-such-bucket-f1pipe' does not exist"):
        load(s3_settings, lake, f"duckdb:///{tmp_path}/f1.duckdb")

    env = {"S3_ENDPOINT_URL": s3_settings.s3_endpoint_url,
           "AWS_ACCESS_KEY_ID": s3_settings.aws_access_key_id,
           "AWS_SECRET_ACCESS_KEY": s3_settings.aws_secret_access_key.get_secret_value()}
    done = run_cli("load", "--lake", lake, "--warehouse", f"duckdb:///{tmp_path}/f1.duckdb",
                   env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "no-such-bucket-f1pipe" in one_error_line(done.stderr)


def test_bad_sql_is_one_line(tmp_path):
    duckdb.connect(str(tmp_path / "f1.duckdb")).close()
    url = f"duckdb:///{tmp_path}/f1.duckdb"
    with pytest.raises(F1PipeError, match="query failed: .*no_such_table"):
        query(load_settings(), url, "SELECT * FROM no_such_table")


def test_checks_before_any_load(tmp_path):
    with pytest.raises(F1PipeError, match=f"DuckDB file {tmp_path}/missing.duckdb does not "
                                          "exist: run f1pipe load first"):
        run_checks(load_settings(), f"duckdb:///{tmp_path}/missing.duckdb")
    assert not (tmp_path / "missing.duckdb").exists()  # reads never write
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(F1PipeError, match="has no f1pipe tables: run f1pipe load first"):
        run_checks(load_settings(), f"duckdb:///{tmp_path}/empty.duckdb")


def test_bad_warehouse_url_from_the_cli(tmp_path):
    done = run_cli("query", "SELECT 1", "--warehouse", "postgres://x", cwd=tmp_path)

    assert done.returncode == 2
    assert "F1PIPE_WAREHOUSE" in one_error_line(done.stderr)
