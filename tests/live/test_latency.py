"""Latency measurement: percentiles, and a short measured replay through the real stack."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient

from f1pipe.live.latency import Stats, measure_latency
from f1pipe.live.replay import ReplayRequest, replay
from tests.live.live_harness import live_settings


def test_percentiles_of_latencies():
    stats = Stats.of([float(v) for v in range(1, 101)])
    assert (stats.count, stats.p50, stats.p95, stats.p99, stats.max) == (
        100, 50.5, 95.05, 99.01, 100.0)
    assert Stats.of([7.0]).p99 == 7.0
    assert Stats.of([]).count == 0


@pytest.mark.integration
def test_measured_replay_reports_both_paths_for_every_message(
        kafka_settings, fastf1_offline, topic_name, tmp_path):
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)
    request = ReplayRequest(2018, 4, "R", speed=20, start_ms=1_800_000, duration_ms=20_000)

    report = measure_latency(settings, request, log=lambda _: None)

    to_duckdb = report.paths["published -> DuckDB row"]
    to_tower = report.paths["published -> tower state"]
    assert to_duckdb.count == to_tower.count > 50
    for stats in (to_duckdb, to_tower):
        assert 0 <= stats.p50 <= stats.p95 <= stats.p99 <= stats.max < 15_000
    assert not any("never became visible" in note for note in report.notes)
    topics = AdminClient(settings.kafka_client_config()).list_topics(timeout=10).topics
    assert not [t for t in topics if t.startswith(f"{topic_name}latency")]  # scratch removed


@pytest.mark.integration
def test_streaming_landing_loads_a_replay_into_duckdb(
        kafka_settings, fastf1_offline, topic_name, tmp_path):
    from f1pipe.live.landing import LandingOptions, run_landing
    from f1pipe.warehouse import query

    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)
    summary = replay(settings, ReplayRequest(2018, 4, "R", speed=0,
                                             topics=("TrackStatus", "LapCount")))

    consumed, loader = run_landing(settings, LandingOptions(
        flush_interval_s=0.25, load_every_s=0.25, until_idle_s=2.0,
        group=f"{topic_name}landing"))

    assert consumed.records == summary.messages == 22 + 51
    assert loader.loads >= 2 and loader.rows == summary.messages
    _, rows = query(settings, settings.warehouse,
                    "SELECT feed_topic, COUNT(*) FROM live_updates GROUP BY 1 ORDER BY 1")
    assert rows == [("LapCount", 51), ("TrackStatus", 22)]


def test_a_watch_reads_only_the_rows_it_has_not_seen():
    """SeenOffsets: offsets seen out of order; the WHERE clause keeps the unseen ones of the
    partitions it knows and every row of a partition it does not know yet."""
    import duckdb

    from f1pipe.live.latency import SeenOffsets

    con = duckdb.connect()
    con.execute("CREATE TABLE t (kafka_topic VARCHAR, kafka_partition INT, kafka_offset INT)")
    con.execute("INSERT INTO t SELECT 'a', p, o FROM range(2) r(p), range(6) s(o)")
    con.execute("INSERT INTO t VALUES ('b', 0, 0)")
    seen = SeenOffsets()
    assert seen.unseen() == ("", ())
    for offset in (0, 1, 3, 4):
        seen.saw(("a", 0), offset)
    seen.saw(("a", 1), 0)
    where, params = seen.unseen()
    rows = sorted(con.execute(f"SELECT * FROM t{where}", list(params)).fetchall())
    assert rows == [("a", 0, 2), ("a", 0, 3), ("a", 0, 4), ("a", 0, 5),  # from the floor, 2
                    *[("a", 1, o) for o in range(1, 6)], ("b", 0, 0)]
    seen.saw(("a", 0), 2)  # the gap closes: the floor moves past 3 and 4
    where, params = seen.unseen()
    assert ("a", 0, 4) not in con.execute(f"SELECT * FROM t{where}", list(params)).fetchall()
