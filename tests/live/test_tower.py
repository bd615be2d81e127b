"""The tower: live topics -> timing state -> snapshots, against the real broker."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from f1pipe.kafka.topics import snapshot_topic
from f1pipe.live.replay import ReplayRequest, replay
from f1pipe.live.timing_state import TimingState
from f1pipe.live.tower import Tower, TowerOptions, snapshot_payload
from f1pipe.live.tower_view import render_tower
from f1pipe.sources import session_ref
from f1pipe.sources.live_timing import live_payloads, read_session
from f1pipe.times import format_lap_time as lap_text
from tests.live.live_harness import CLASSIFIED_2018_R4, live_settings, read_all

RETIRED_2018_R4 = {"BOT", "GRO", "VER", "RIC", "HUL", "OCO", "SIR"}


@pytest.fixture(scope="module")
def final_state(fastf1_offline) -> TimingState:
    ref = session_ref(2018, 4, "R")
    state = TimingState()
    for update in read_session(ref).updates:
        for payload in live_payloads(ref, update, None):
            state.apply(payload.feed_topic, payload.data, payload.session_time_ms)
    return state


def test_tower_is_drawn_in_running_order(final_state):
    out = io.StringIO()
    Console(file=out, width=200).print(render_tower("2018 round 4 R", final_state))
    text = out.getvalue()
    assert "lap 51/51" in text
    lines = [line for line in text.splitlines() if any(a in line for a in CLASSIFIED_2018_R4)]
    assert [next(a for a in CLASSIFIED_2018_R4 if a in line) for line in lines[:13]] == \
        CLASSIFIED_2018_R4
    assert lap_text(105412) == "1:45.412" and lap_text(26646) == "26.646"


def test_snapshot_rows_follow_the_schema(final_state):
    row = final_state.row("44")
    payload = snapshot_payload((2018, 4, "R"), final_state, row)
    assert (payload.abbreviation, payload.position, payload.status) == ("HAM", 1, "running")
    assert payload.kafka_key() == "2018-4-R-44"
    assert payload.best_lap_ms == 105412


@pytest.mark.integration
def test_tower_after_replay_has_fastf1s_classification_and_publishes_it(
        kafka_settings, fastf1_offline, topic_name, tmp_path):
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)
    replay(settings, ReplayRequest(2018, 4, "R", speed=0))

    tower = Tower(settings, TowerOptions(snapshot_every_s=1.0, until_idle_s=2.0))
    stats = tower.run()

    state = tower.states[(2018, 4, "R")]
    rows = state.rows()
    assert [r.abbreviation for r in rows if not r.retired] == CLASSIFIED_2018_R4
    assert {r.abbreviation for r in rows if r.retired} == RETIRED_2018_R4
    assert stats.updates == state.updates_applied > 25_000
    assert len(stats.latencies_ms) == stats.updates

    snapshots = read_all(settings, [snapshot_topic(settings)], stats.snapshots)
    latest = {}
    for record in sorted(snapshots, key=lambda r: (r.partition, r.offset)):
        latest[record.key] = record.json()
    assert len(latest) == 20
    finishers = sorted((m for m in latest.values() if m["status"] != "retired"),
                       key=lambda m: m["position"])
    assert [m["abbreviation"] for m in finishers] == CLASSIFIED_2018_R4
    assert {m["abbreviation"] for m in latest.values() if m["status"] == "retired"} == \
        RETIRED_2018_R4
