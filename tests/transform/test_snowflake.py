"""The same dbt project on Snowflake: the emulator (fakesnow, as an HTTP server in this
process, reached by dbt-snowflake from .venv-dbt's dbt) gets the same facts through the real
loader; dbt run builds every mart, dbt test passes, and the marts equal DuckDB's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fakesnow import server as fakesnow_server  # captured once: see STACK-NOTES

from f1pipe.config import load_settings
from f1pipe.transform import MARTS, run_all_checks, transform
from f1pipe.warehouse import load, query
from tests.fixtures.snowflake import FAKE_ACCOUNT, fakesnow_gap_patches

pytestmark = pytest.mark.integration

SAME_ROWS = [
    "SELECT * FROM stints ORDER BY season, round, session, driver_number, stint_number",
    "SELECT * FROM pit_stops ORDER BY season, round, session, driver_number, lap_number",
    "SELECT * FROM lap_positions ORDER BY season, round, session, lap_number, position",
    "SELECT * FROM lap_gaps ORDER BY season, round, session, lap_number, position",
    "SELECT * FROM race_pace ORDER BY season, round, session, driver_number, stint_number",
    "SELECT * FROM session_summary ORDER BY season, round, session",
    "SELECT * FROM driver_standings ORDER BY season, after_round, position, driver",
    "SELECT * FROM constructor_standings ORDER BY season, after_round, position, team_name",
]


def plain(rows: list[tuple]) -> list[tuple]:
    return [tuple(float(v) if isinstance(v, Decimal | int) and not isinstance(v, bool) else v
                  for v in row) for row in rows]


@pytest.fixture
def snowflake_emulator(monkeypatch, tmp_path):
    """Settings for a fakesnow server on a free loopback port (dbt reaches it over HTTP)."""
    for target, name, replacement in fakesnow_gap_patches():
        monkeypatch.setattr(target, name, replacement)
    with fakesnow_server() as kwargs:
        yield load_settings(**FAKE_ACCOUNT, snowflake_host=kwargs["host"],
                            snowflake_port=kwargs["port"], snowflake_protocol="http",
                            state_dir=tmp_path / "state")


def test_marts_on_snowflake_equal_duckdbs(snowflake_emulator, marts_warehouse):
    load(snowflake_emulator, f"file://{marts_warehouse.lake}", "snowflake")
    built = transform(snowflake_emulator, "snowflake")
    assert sorted(n.name for n in built.models if n.name in MARTS) == sorted(MARTS)
    # dbt test itself on Snowflake, scoped to the sessions as `f1pipe run` scopes its checks
    report = run_all_checks(snowflake_emulator, "snowflake",
                            sessions=["2018/4/R", "2024/2/R", "2024/12/R"])
    assert len([r for r in report.results if r.name.startswith("dbt:")]) >= 36
    assert "dbt:one_winner_per_race" in {r.name for r in report.results}
    assert report.passed, report.failed_names()
    duck = marts_warehouse
    for sql in SAME_ROWS:
        sf_columns, sf_rows = query(snowflake_emulator, "snowflake", sql)
        duck_columns, duck_rows = query(duck.settings, duck.url, sql)
        assert sf_columns == duck_columns, sql
        assert plain(sf_rows) == plain(duck_rows), sql
