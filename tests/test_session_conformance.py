"""Every recorded session with results or timing data, through the real pipeline.

The sessions are read from the recording itself (``../shared/fastf1-cache``): each Jolpica
classification (``results``, ``qualifying``, ``sprint``) and each session with a
``TimingData`` stream. All are produced to a real Kafka broker in one run, consumed once,
loaded into DuckDB once and checked; then each session is held to what an F1 record says:
one result per driver, positions 1..N, one ``classified_position`` format, Q1/Q2/Q3 times in
qualifying-type sessions, points within the season's rules, completed laps equal to the
classification's laps, and the winner's laps equal to the ``LapCount`` stream's last lap.
"""

from __future__ import annotations

import base64
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from f1pipe.pipeline import (
    PipelineRequest,
    consume_step,
    load_step,
    produce_step,
    produced_sessions,
)
from f1pipe.schemas import CLASSIFIED_STATUS_LETTERS, QUALIFYING_TYPES
from f1pipe.sources import configure_fastf1, select_events
from f1pipe.sources.schedule import SESSION_NAMES
from f1pipe.transform import run_all_checks
from f1pipe.warehouse import query
from f1pipe.warehouse.standings import scoring_rules

pytestmark = pytest.mark.integration

ERGAST = re.compile(r"/ergast/f1/(\d{4})/(\d+)/(results|qualifying|sprint)\.json$")
LIVE = re.compile(r"/static/(\d{4})/\d{4}-\d\d-\d\d_([^/]+)/\d{4}-\d\d-\d\d_([^/]+)/"
                  r"(\w+)\.jsonStream$")
ERGAST_CODES = {"results": "R", "qualifying": "Q", "sprint": "S"}
CODES = {name: code for code, name in SESSION_NAMES.items()}


def recording(recorded_dir: Path) -> dict[str, dict]:
    """What the recording holds per session ``"2024/5/SQ"``: ``ergast`` (a classification
    is recorded), ``streams`` (live-timing stream names) and ``lap_count`` (the LapCount
    stream's last CurrentLap)."""
    found: dict[str, dict] = defaultdict(lambda: {"ergast": False, "streams": set(),
                                                  "lap_count": None})
    live = []
    for path in sorted((recorded_dir / "http_cache").glob("*.json")):
        response = json.loads(path.read_text())
        url = response["url"]
        if match := ERGAST.search(url):
            season, rnd, kind = match.groups()
            found[f"{season}/{int(rnd)}/{ERGAST_CODES[kind]}"]["ergast"] = True
        elif match := LIVE.search(url):
            live.append((match.groups(), response))
    events: dict[tuple[int, str], int] = {}
    for (season, meeting, session, stream), response in live:
        name = meeting.replace("_", " ")
        if (int(season), name) not in events:
            (event,) = select_events(int(season), event=name)
            events[int(season), name] = event.round
        key = f"{season}/{events[int(season), name]}/{CODES[session.replace('_', ' ')]}"
        found[key]["streams"].add(stream)
        if stream == "LapCount":
            found[key]["lap_count"] = last_lap(response["_content"])
    return dict(found)


def last_lap(content: str) -> int | None:
    """The last ``CurrentLap`` of a recorded LapCount stream (lines ``HH:MM:SS.mmm{json}``)."""
    text = base64.b64decode(content).decode("utf-8-sig")
    laps = [json.loads(line[12:]).get("CurrentLap") for line in text.splitlines() if line]
    laps = [lap for lap in laps if lap is not None]
    return laps[-1] if laps else None


def scored(session: dict) -> bool:
    return session["ergast"] or "TimingData" in session["streams"]


@pytest.fixture(scope="module")
def loaded(kafka_bootstrap, fastf1_offline, tmp_path_factory):
    """All recorded sessions through produce -> Kafka -> consume -> lake -> DuckDB -> check."""
    from f1pipe.config import load_settings

    root = tmp_path_factory.mktemp("conformance")
    prefix = f"conf-{root.name}-"
    settings = fastf1_offline.apply(load_settings(
        kafka_broker=kafka_bootstrap, state_dir=root / "state", kafka_topic=f"{prefix}results",
        topic_prefix=prefix, consumer_group=f"{prefix}lake", lake=f"file://{root / 'lake'}",
        warehouse=f"duckdb:///{root / 'f1.duckdb'}"))
    configure_fastf1(settings)
    recorded = {k: v for k, v in recording(fastf1_offline.recorded_dir).items() if scored(v)}

    produced, not_available, topics = [], {}, set()
    for key in sorted(recorded):
        season, rnd, code = key.split("/")
        request = PipelineRequest(int(season), int(rnd), (code,), ("results",),
                                  allow_missing=True)
        summary = produce_step(settings, request)
        topics.update(summary.topics)
        produced += produced_sessions(summary)
        if summary.failed_labels():
            not_available[key] = summary.failed_labels()
        elif "TimingData" in recorded[key]["streams"]:
            laps = produce_step(settings, PipelineRequest(int(season), int(rnd), (code,),
                                                          ("laps",), allow_missing=True))
            topics.update(laps.topics)
    consume_step(settings, sorted(topics))
    load_step(settings)
    report = run_all_checks(settings, settings.warehouse, sessions=produced)
    return {"settings": settings, "recorded": recorded, "produced": produced,
            "not_available": not_available, "report": report}


def rows(loaded, sql: str) -> list[dict]:
    columns, data = query(loaded["settings"], loaded["settings"].warehouse, sql)
    return [dict(zip(columns, row, strict=True)) for row in data]


def test_every_recorded_session_type_is_loaded(loaded):
    produced = set(loaded["produced"])
    assert set(loaded["recorded"]) == produced | set(loaded["not_available"])
    assert {key.split("/")[2] for key in produced} >= {"R", "Q", "S", "SQ", "FP1", "FP2"}
    # FastF1 names the drivers from the DriverList stream or Jolpica: without either, a
    # session's timing data cannot be classified, and the run says so.
    for key, labels in loaded["not_available"].items():
        assert not loaded["recorded"][key]["ergast"], key
        assert "DriverList" not in loaded["recorded"][key]["streams"], key
        assert labels == [label for label in labels if label.endswith(" results")], labels
    assert len(produced) >= 30


def test_checks_pass_on_every_loaded_session(loaded):
    report = loaded["report"]
    assert report.failed_names() == [], report.failure_line()
    assert report.passed_count == len(report.results) >= 20


def test_each_session_against_the_record(loaded):
    results = defaultdict(list)
    for r in rows(loaded, "SELECT * FROM f1_results"):
        results[f"{r['season']}/{r['round']}/{r['session']}"].append(r)
    completed = {(f"{r['season']}/{r['round']}/{r['session']}", r["driver_number"]): r["n"]
                 for r in rows(loaded, "SELECT season, round, session, driver_number, "
                                       "COUNT(*) AS n FROM laps WHERE is_completed "
                                       "GROUP BY ALL")}
    lap_sessions = {k for k, _ in completed}
    assert set(results) == set(loaded["produced"])
    compared = defaultdict(set)
    for key, entries in results.items():
        recorded = loaded["recorded"][key]
        season, kind = entries[0]["season"], entries[0]["session_type"]
        numbers = [r["driver_number"] for r in entries]
        assert len(numbers) == len(set(numbers)) >= 18, key
        positions = sorted(r["position"] for r in entries if r["position"] is not None)
        assert positions == list(range(1, len(positions) + 1)), key
        if kind != "practice":
            assert len(positions) >= len(entries) - 1, key  # a race's non-starter has none
        for r in entries:
            cp = r["classified_position"]
            assert cp in CLASSIFIED_STATUS_LETTERS or re.fullmatch(r"[1-9]\d?", cp), (key, cp)
            if cp.isdigit() and kind != "race" and kind != "sprint":
                assert int(cp) == r["position"], (key, r["abbreviation"])
        if kind in QUALIFYING_TYPES:
            with_q = {q: sorted(r["position"] for r in entries if r[f"{q}_ms"] is not None)
                      for q in ("q1", "q2", "q3")}
            assert 0 < len(with_q["q3"]) <= 10 and 10 <= len(with_q["q2"]) <= 16, key
            assert with_q["q3"] == list(range(1, len(with_q["q3"]) + 1)), key
            assert with_q["q2"] == list(range(1, len(with_q["q2"]) + 1)), key
            assert len(with_q["q1"]) >= len(entries) - 1, key
        rules = scoring_rules(season, kind)
        points = [float(r["points"] or 0) for r in entries]
        assert all(0 <= p <= (rules.max_driver if rules else 0) for p in points), key
        assert sum(points) <= (rules.max_total if rules else 0), key
        if rules:
            assert min(r["points"] for r in entries if r["position"] == 1) >= \
                rules.positions[0], key
        if key in lap_sessions:
            for r in entries:
                assert completed.get((key, r["driver_number"]), 0) == r["laps"], \
                    (key, r["abbreviation"])
            compared["completed_laps"].add(key)
        if kind in ("race", "sprint") and recorded["lap_count"] is not None:
            (winner,) = [r for r in entries if r["position"] == 1]
            assert winner["laps"] == recorded["lap_count"], key
            compared["lap_count"].add(key)
        compared[kind].add(key)
    # Jolpica's laps against the timing data's: a race and a sprint with both recorded.
    assert {"2018/4/R", "2025/6/S"} <= compared["completed_laps"]
    assert "2025/6/S" in compared["lap_count"] and len(compared["lap_count"]) >= 8
    assert {k: len(v) >= 1 for k, v in compared.items()} == {k: True for k in compared}
    assert set(compared) >= {"race", "sprint", "qualifying", "sprint_qualifying", "practice"}


def test_sprint_qualifying_2024_round_5_has_20_results_with_q_times(loaded):
    entries = rows(loaded, "SELECT * FROM f1_results WHERE season = 2024 AND round = 5 "
                           "AND session = 'SQ' ORDER BY position")
    assert len(entries) == 20
    assert {r["session_type"] for r in entries} == {"sprint_qualifying"}
    assert [r["classified_position"] for r in entries] == [str(n) for n in range(1, 21)]
    assert all(r["q1_ms"] for r in entries) and sum(bool(r["q3_ms"]) for r in entries) == 10
    assert entries[0]["abbreviation"] == "NOR"  # pole for the 2024 Chinese GP sprint


def test_retirements_keep_their_unfinished_lap_marked(loaded):
    laps = rows(loaded, "SELECT driver_number, COUNT(*) AS all_laps, "
                        "SUM(CASE WHEN is_completed THEN 1 ELSE 0 END) AS completed "
                        "FROM laps WHERE season = 2018 AND round = 4 AND session = 'R' "
                        "GROUP BY driver_number")
    results = {r["driver_number"]: r for r in rows(
        loaded, "SELECT * FROM f1_results WHERE season = 2018 AND round = 4 AND session = 'R'")}
    retired = [r for r in laps if results[r["driver_number"]]["classified_position"] == "R"]
    assert len(retired) == 7
    assert all(r["all_laps"] == r["completed"] + 1 for r in retired)
    assert all(r["all_laps"] == r["completed"] for r in laps if r not in retired)


def test_2025_standings_count_the_miami_sprint(loaded):
    from f1pipe.warehouse.standings import season_standings

    settings = loaded["settings"]
    result = season_standings(settings, settings.warehouse, 2025, season_rounds=24)
    points = defaultdict(float)
    for r in rows(loaded, "SELECT abbreviation, session, points FROM f1_results "
                          "WHERE season = 2025 AND session IN ('R', 'S')"):
        points[r["abbreviation"]] += float(r["points"])
    sprint = {r["abbreviation"]: float(r["points"]) for r in rows(
        loaded, "SELECT abbreviation, points FROM f1_results WHERE season = 2025 AND round = 6 "
                "AND session = 'S' AND points > 0")}
    assert len(sprint) == 8 and sum(sprint.values()) == 36  # 8-7-6-5-4-3-2-1
    final = {s.name: s.points for s in result.drivers if s.after_round == result.rounds[-1]}
    assert final == dict(points)
    assert 6 in result.rounds
    after_6 = {s.name: s.points for s in result.drivers if s.after_round == 6}
    after_4 = {s.name: s.points for s in result.drivers if s.after_round == 4}
    assert {n: after_6[n] - after_4.get(n, 0) for n in sprint} == sprint
    assert result.title("drivers").startswith("2025 drivers' championship after rounds ")
    assert result.title("drivers").endswith(f"({len(result.rounds)} of 24)")
