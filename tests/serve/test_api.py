"""The REST API on the real server (uvicorn on a free port) over a warehouse loaded by the
pipeline: filters, CSV, paging, read-only, SQL injection, answers checked against DuckDB."""

from __future__ import annotations

import csv
import hashlib
import io

import duckdb
import pytest
import requests

from f1pipe.serve.endpoints import ENDPOINTS, column_types

pytestmark = pytest.mark.integration  # the warehouse is built through Kafka

# Attempts to break out of a quoted SQL literal (they need a quote, a ';' or a comment), and
# attempts that only mean something where a number would be pasted into the SQL.
BREAKOUTS = [
    "44; DROP TABLE laps", "' OR '1'='1", "R' OR 1=1 --", "R'; DELETE FROM f1_results; --",
    "1 UNION SELECT * FROM f1_results", "x\\' OR 1=1 /*", "R\"; DROP TABLE laps; --",
    "1; COPY laps TO '/tmp/x.csv'", "HAM'--", "1' UNION SELECT 1,2,3 --",
]
NUMERIC = ["1 OR 1=1", "1) OR (1=1", "44 UNION SELECT 1", "0x2C", "1e1000", "44 --"]


def db(warehouse_file, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def get(base_url: str, path: str, **kwargs) -> requests.Response:
    return requests.get(f"{base_url}{path}", timeout=30, **kwargs)


def test_filtered_laps_match_the_warehouse(base_url, warehouse_file):
    response = get(base_url, "/v1/laps?season=2018&round=4&driver_number=44&lap_number>=10")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    laps = response.json()
    expected = db(warehouse_file, "SELECT lap_number, lap_time_ms FROM laps WHERE season = 2018 "
                  "AND round = 4 AND driver_number = 44 AND lap_number >= 10 ORDER BY 1")
    assert [(lap["lap_number"], lap["lap_time_ms"]) for lap in laps] == expected
    assert len(expected) > 30
    assert {lap["abbreviation"] for lap in laps} == {"HAM"}
    assert set(laps[0]) == set(column_types()["laps"])  # no Kafka bookkeeping columns


def test_operators_sent_encoded_or_not_give_the_same_rows(base_url):
    raw = get(base_url, "/v1/laps?driver_number=5&lap_number>=20&lap_number<25").json()
    encoded = get(base_url, "/v1/laps", params={"driver_number": 5, "lap_number>": 20,
                                                "lap_number<25": ""}).json()
    assert [lap["lap_number"] for lap in raw] == [20, 21, 22, 23, 24]
    assert raw == encoded


def test_british_gp_winner_and_csv(base_url):
    winner = get(base_url, "/v1/results?season=2024&round=12&position=1").json()
    assert [(r["abbreviation"], r["points"]) for r in winner] == [("HAM", 25.0)]
    as_csv = get(base_url, "/v1/results?season=2024&round=12&format=csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    as_json = get(base_url, "/v1/results?season=2024&round=12").json()
    assert len(rows) == len(as_json) == 20
    assert [r["abbreviation"] for r in rows] == [r["abbreviation"] for r in as_json]
    assert rows[0]["points"] == "25.0" and rows[0]["session_date"].endswith("Z")


def test_pages_of_results_cover_every_row_once(base_url, warehouse_file):
    total = db(warehouse_file, "SELECT count(*) FROM laps")[0][0]
    seen, offset, pages = [], 0, 0
    while True:
        response = get(base_url, f"/v1/laps?limit=100&offset={offset}")
        assert response.status_code == 200
        seen += [(r["season"], r["round"], r["driver_number"], r["lap_number"])
                 for r in response.json()]
        pages += 1
        if "x-next-offset" not in response.headers:
            break
        offset = int(response.headers["x-next-offset"])
    assert len(seen) == len(set(seen)) == total
    assert pages == -(-total // 100)
    assert len(get(base_url, "/v1/laps").json()) == min(total, 1000)  # default page size


def test_derived_endpoints_agree_with_the_laps(base_url, warehouse_file):
    stints = get(base_url, "/v1/stints?season=2018&round=4&driver_number=44").json()
    laps = db(warehouse_file, "SELECT min(lap_number), max(lap_number), count(DISTINCT stint) "
              "FROM laps WHERE season = 2018 AND round = 4 AND driver_number = 44")[0]
    assert stints[0]["lap_start"] == laps[0] and stints[-1]["lap_end"] == laps[1]
    assert len(stints) == laps[2]
    assert all(a["lap_end"] + 1 == b["lap_start"] for a, b in zip(stints, stints[1:], strict=False))

    pits = get(base_url, "/v1/pit?season=2018&round=4&driver_number=44").json()
    pit_laps = db(warehouse_file, "SELECT lap_number FROM laps WHERE season = 2018 AND "
                  "round = 4 AND driver_number = 44 AND pit_in_time_ms IS NOT NULL ORDER BY 1")
    assert [p["lap_number"] for p in pits] == [r[0] for r in pit_laps]
    assert all(15_000 < p["pit_duration_ms"] < 60_000 for p in pits)

    leaders = get(base_url, "/v1/position?season=2018&round=4&position=1").json()
    by_lap = db(warehouse_file, "SELECT lap_number, abbreviation FROM laps WHERE season = 2018 "
                "AND round = 4 AND position = 1 ORDER BY 1")
    assert [(p["lap_number"], p["abbreviation"]) for p in leaders] == by_lap

    gaps = get(base_url, "/v1/intervals?season=2018&round=4&lap_number=20").json()
    assert gaps[0]["gap_to_leader_ms"] == 0 and gaps[0]["interval_ms"] is None
    assert gaps[0]["abbreviation"] == dict(by_lap)[20]
    assert all(g["gap_to_leader_ms"] >= 0 for g in gaps)
    assert sum(g["interval_ms"] for g in gaps[1:]) == gaps[-1]["gap_to_leader_ms"]


def test_standings_are_those_of_f1pipe_standings(base_url, warehouse_settings):
    from f1pipe.warehouse.standings import season_standings

    expected = season_standings(warehouse_settings, warehouse_settings.warehouse, 2024)
    drivers = get(base_url, "/v1/standings?season=2024&championship=drivers").json()
    assert [(s["after_round"], s["position"], s["name"], s["points"]) for s in drivers] == \
        [(s.after_round, s.position, s.name, s.points) for s in expected.drivers]
    assert drivers[0]["name"] == "HAM" and drivers[0]["points"] == 25.0
    teams = get(base_url, "/v1/standings?season=2024&championship=constructors&position<=3")
    assert [(s["name"], s["points"]) for s in teams.json()] == \
        [(s.name, s.points) for s in expected.constructors if s.position <= 3]


def test_sessions(base_url):
    sessions = get(base_url, "/v1/sessions").json()
    assert {(s["season"], s["round"], s["session"], s["session_type"]) for s in sessions} == {
        (2024, 12, "R", "race"), (2018, 4, "R", "race")}


@pytest.mark.parametrize(("path", "status", "detail"), [
    ("/v1/laps?nope=1", 400, "unknown filter 'nope' on /v1/laps"),
    ("/v1/laps?driver_number=HAM", 400, "driver_number: 'HAM' is not an integer"),
    ("/v1/laps?format=xml", 400, "format 'xml': use format=json or format=csv"),
    ("/v1/laps?limit=100000", 400, "limit=100000: must be from 1 to 10000"),
    ("/v1/laps?data=1", 400, "unknown filter 'data'"),
])
def test_bad_filters_are_4xx_with_one_line(base_url, path, status, detail):
    response = get(base_url, path)
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)


def test_the_api_is_read_only(base_url):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = requests.request(method, f"{base_url}/v1/laps", timeout=10)
        assert response.status_code == 405, method


def test_sql_injection_in_every_filter_is_4xx_and_changes_nothing(base_url, warehouse_file):
    before = hashlib.sha256(warehouse_file.read_bytes()).hexdigest()
    counts = {e: len(get(base_url, f"/v1/{e}?limit=10000").json()) for e in ENDPOINTS}
    tried = 0
    for name, columns in column_types().items():
        for column, kind in columns.items():
            for attack in BREAKOUTS + (NUMERIC if kind != "string" else []):
                for op in ("=", ">=") if kind != "string" else ("=",):
                    response = get(base_url, f"/v1/{name}", params={
                        f"{column}{op[:-1]}" if op != "=" else column: attack})
                    tried += 1
                    assert 400 <= response.status_code < 500, (name, column, op, attack)
                    assert "detail" in response.json()
        response = get(base_url, f"/v1/{name}", params={"season;DROP TABLE laps": "1"})
        assert response.status_code == 400
    assert tried > 1000
    # without a way out of the literal, text is only a value: nothing matches it
    plain = get(base_url, "/v1/results", params={"abbreviation": "1 OR 1=1"})
    assert (plain.status_code, plain.json()) == (200, [])
    assert hashlib.sha256(warehouse_file.read_bytes()).hexdigest() == before
    assert {e: len(get(base_url, f"/v1/{e}?limit=10000").json()) for e in ENDPOINTS} == counts
    assert counts["laps"] > 800 and counts["results"] == 40


def test_openapi_schema_and_docs_page(base_url):
    schema = get(base_url, "/openapi.json").json()
    paths = {p for p in schema["paths"]}
    assert paths == {f"/v1/{e}" for e in ENDPOINTS}
    params = {p["name"] for p in schema["paths"]["/v1/laps"]["get"]["parameters"]}
    assert {"driver_number", "lap_number", "format", "limit", "offset"} <= params
    docs = get(base_url, "/docs")
    assert docs.status_code == 200 and "GET /v1/intervals" in docs.text
    assert "cdn" not in docs.text.lower()
