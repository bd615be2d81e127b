"""Replay of a recorded session through the real broker, into the lake and DuckDB."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from datetime import datetime

import pytest

from f1pipe.errors import ConfigError
from f1pipe.kafka.consumer import consume
from f1pipe.kafka.topics import live_topic, snapshot_topic
from f1pipe.live.replay import ReplayRequest, replay
from f1pipe.live.tower import Tower, TowerOptions
from f1pipe.sources import session_ref
from f1pipe.sources.live_timing import live_payloads, merge_parts, read_session
from f1pipe.times import format_session_time, parse_session_time
from f1pipe.warehouse import load, query
from tests.live.live_harness import live_settings, read_all


def test_session_times_parse_to_ms():
    assert parse_session_time("01:05:00", "--from") == 3_900_000
    assert parse_session_time("7:40", "--from") == 460_000
    assert parse_session_time("60s", "--duration") == 60_000
    assert parse_session_time("2m", "--duration") == 120_000
    assert parse_session_time("0", "--from") == 0
    assert format_session_time(3_723_456) == "01:02:03.456"
    with pytest.raises(ConfigError, match="--from 'soon'"):
        parse_session_time("soon", "--from")


def test_negative_speed_is_refused():
    with pytest.raises(ConfigError, match="--speed -1"):
        ReplayRequest(2018, 4, speed=-1).check()


@pytest.mark.integration
def test_replay_at_speed_0_delivers_every_line_once_in_order_per_key(
        kafka_settings, fastf1_offline, topic_name, tmp_path):
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)
    recorded = read_session(session_ref(2018, 4, "R"))
    expected_messages = sum(len(live_payloads(recorded.ref, u, None)) for u in recorded.updates)

    summary = replay(settings, ReplayRequest(2018, 4, "R", speed=0))

    topics = [live_topic(t, settings) for t in recorded.counts]
    records = read_all(settings, topics, expected_messages)
    assert summary.messages == len(records) == expected_messages
    messages = [r.json() for r in records]
    parts = Counter((m["feed_topic"], m["stream_index"], m["subject"]) for m in messages)
    assert max(parts.values()) == 1  # nothing twice
    by_line = defaultdict(list)
    for m in messages:
        by_line[(m["feed_topic"], m["stream_index"])].append(m)
    assert len(by_line) == len(recorded.updates) == 24_237  # every line of every stream
    for update in recorded.updates:
        got = by_line[(update.feed_topic, update.stream_index)]
        assert len(got) == got[0]["part_count"]
        assert merge_parts(m["data"] for m in got) == update.data
    _assert_session_time_order_per_key(records)


def _assert_session_time_order_per_key(records):
    last: dict[tuple[str, str], tuple[int, int]] = {}
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        m = record.json()
        assert record.key == f"2018-4-R-{m['subject']}"
        position = (m["session_time_ms"], m["stream_index"])
        previous = last.get((record.topic, record.key))
        assert previous is None or previous < position, (record.topic, record.key)
        last[(record.topic, record.key)] = position


@pytest.mark.integration
def test_replay_window_at_speed_50_is_paced_and_lands_in_duckdb(
        kafka_settings, fastf1_offline, topic_name, tmp_path):
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)
    tower = Tower(settings, TowerOptions(snapshot_every_s=0.5, until_idle_s=1.5))
    tower_thread = threading.Thread(target=tower.run)

    request = ReplayRequest(2018, 4, "R", speed=50, start_ms=parse_session_time("07:40", "x"),
                            duration_ms=60_000)
    summary = replay(settings, request)
    tower_thread.start()

    assert 1.15 <= summary.wall_s <= 1.5  # 60 s of session time at 50x
    records = read_all(settings, list(summary.topics), summary.messages)
    published = sorted(datetime.fromisoformat(r.json()["produced_at"].replace("Z", "+00:00"))
                       for r in records)
    assert (published[-1] - published[0]).total_seconds() >= 1.0  # paced, not dumped
    assert all(460_000 <= r.json()["session_time_ms"] < 520_000 for r in records)

    tower_thread.join(60)
    topics = list(summary.topics) + [snapshot_topic(settings)]
    consumed = consume(settings, topics, settings.lake, batch_size=500, flush_interval=0.5,
                       until_idle=2.0, group=f"{topic_name}lake")
    assert consumed.dead_letters == 0
    loaded = load(settings, settings.lake, settings.warehouse)
    assert loaded.records["live_updates"] == summary.messages
    _, rows = query(settings, settings.warehouse,
                    "SELECT COUNT(*), MIN(session_time_ms), MAX(session_time_ms) "
                    "FROM live_updates")
    assert rows[0][0] == summary.messages
    assert 460_000 <= rows[0][1] <= rows[0][2] < 520_000
    drivers = {r.json()["driver_number"] for r in records} - {None}
    _, rows = query(settings, settings.warehouse,
                    "SELECT driver_number, position FROM live_timing ORDER BY position")
    assert {r[0] for r in rows} == drivers
    assert [r[1] for r in rows if r[1] is not None] == sorted(
        r[1] for r in rows if r[1] is not None)

    again = load(settings, settings.lake, settings.warehouse)  # MERGE again: no change
    assert again.objects_loaded == 0
    assert again.table_rows["live_timing"] == len(drivers)


@pytest.mark.integration
def test_catch_up_publishes_what_came_before_the_window_first(
        kafka_settings, fastf1_offline, topic_name, tmp_path):
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)
    topics = ("LapCount", "TrackStatus")
    recorded = read_session(session_ref(2018, 4, "R"), topics)
    before = recorded.window(0, 3_600_000)
    window = recorded.window(3_600_000, 600_000)

    summary = replay(settings, ReplayRequest(2018, 4, "R", speed=0, topics=topics,
                                             start_ms=3_600_000, duration_ms=600_000,
                                             catch_up=True))

    assert (summary.caught_up, summary.updates) == (len(before), len(window))
    records = read_all(settings, list(summary.topics), summary.messages)
    laps = sorted(r.json()["data"]["CurrentLap"] for r in records
                  if r.json()["feed_topic"] == "LapCount" and "CurrentLap" in r.json()["data"])
    assert laps == list(range(1, laps[-1] + 1))  # every lap so far, then the window's
