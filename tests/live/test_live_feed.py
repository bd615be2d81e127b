"""``f1pipe live`` against the local SignalR Core server (``tests.fixtures.signalr``) with
FastF1's own client: drops, stalls, malformed frames, the F1 TV account."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from f1pipe.kafka.consumer import consume
from f1pipe.kafka.topics import live_topic
from f1pipe.live.feed import LiveOptions, run_live
from f1pipe.live.replay import ReplayRequest, replay
from f1pipe.sources import session_ref
from f1pipe.sources.live_timing import read_session
from f1pipe.warehouse import load, query
from tests.fixtures.signalr import FeedMessage, recorded_messages, stored_token
from tests.live.live_harness import live_settings, read_all

WINDOW_MS = (0, 600_000)  # the first 10 minutes of the 2018 Azerbaijan GP's streams
# ``race``: the whole race (24,237 updates, ~1.5 min) in the drops and stalls test
CHAOS_WINDOW = os.environ.get("F1PIPE_CHAOS_LIVE_WINDOW", "10min")
FAST = dict(silence_timeout_s=1.0, heartbeat_timeout_s=0.75, backoff_s=0.1,
            connect_timeout_s=10.0)


@pytest.fixture(scope="module")
def recorded(fastf1_offline):
    return read_session(session_ref(2018, 4, "R"))


@pytest.fixture
def f1_account(tmp_path, monkeypatch):
    """A stored F1 TV token FastF1 signs in with, in this process."""
    from fastf1.internals import f1account

    stored = stored_token(tmp_path / "xdg", "good-subscriber")
    monkeypatch.setattr(f1account.token_manager, "_token_path", stored["path"])
    monkeypatch.setattr(f1account.token_manager, "_token", None)
    return stored["jwt"]


def land(settings, topics: list[str], group: str) -> list[tuple]:
    """Consume ``topics`` into the lake, load the warehouse; the live updates as rows of
    (feed topic, subject, UTC time, data), sorted."""
    consumed = consume(settings, topics, settings.lake, batch_size=500, flush_interval=0.5,
                       until_idle=2.0, group=group)
    assert consumed.dead_letters == 0
    load(settings, settings.lake, settings.warehouse)
    _, rows = query(settings, settings.warehouse,
                    "SELECT feed_topic, subject, time_utc, CAST(data AS VARCHAR) "
                    "FROM live_updates")
    return sorted(rows)


@pytest.mark.chaos
@pytest.mark.integration
def test_dropped_5_times_and_stalled_twice_lands_exactly_the_rows_of_a_replay(
        kafka_settings, fastf1_offline, topic_name, tmp_path, feed_server, recorded,
        f1_account):
    window = (0, None) if CHAOS_WINDOW == "race" else WINDOW_MS  # `make chaos`: the race
    _same_rows_as_a_replay(kafka_settings, fastf1_offline, topic_name, tmp_path, feed_server,
                           recorded, f1_account, window)


def _same_rows_as_a_replay(kafka_settings, fastf1_offline, topic_name, tmp_path, feed_server,
                           recorded, f1_account, window) -> None:
    messages = recorded_messages(recorded, *window)
    n = len(messages)
    server = feed_server(messages, speed=0, token=f1_account,
                         drops=[n * i // 8 for i in range(1, 6)],
                         stalls=[n * 6 // 8, n * 7 // 8])
    ref = session_ref(2018, 4, "R")
    live = live_settings(kafka_settings, fastf1_offline, f"{topic_name}live-", tmp_path / "l")

    summary = run_live(live, ref, LiveOptions(url=server.url, **FAST))

    assert (server.log.drops, server.log.stalls, server.log.subscribed) == (5, 2, 8)
    assert server.done and summary.updates == n and summary.dead_letters == 0
    played = live_settings(kafka_settings, fastf1_offline, f"{topic_name}replay-",
                           tmp_path / "r")
    replayed = replay(played, ReplayRequest(2018, 4, "R", speed=0, start_ms=window[0],
                                            duration_ms=window[1]))
    assert summary.messages == replayed.messages
    live_rows = land(live, list(summary.topics), f"{topic_name}live-lake")
    replay_rows = land(played, list(replayed.topics), f"{topic_name}replay-lake")
    assert len(live_rows) == replayed.messages > 400
    assert live_rows == replay_rows
    _, rows = query(live, live.warehouse, "SELECT COUNT(DISTINCT (v->>'$.feed_topic', "
                    "v->>'$.stream_index', v->>'$.subject')), COUNT(*) FROM raw_live_updates")
    assert rows[0][0] == rows[0][1] == replayed.messages  # no duplicate landed at all


@pytest.mark.integration
def test_initial_state_after_a_gap_publishes_only_what_was_missed(
        kafka_settings, fastf1_offline, topic_name, tmp_path, feed_server, f1_account,
        recorded):
    messages = recorded_messages(recorded, *WINDOW_MS)[:60]
    server = feed_server(messages, speed=0, token=f1_account, drops=[30],
                         skip_on_reconnect=10)  # the feed went on while the client was away
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)

    summary = run_live(settings, session_ref(2018, 4, "R"),
                       LiveOptions(url=server.url, **FAST))

    topics = sorted({live_topic(m.topic, settings) for m in messages})
    records = read_all(settings, topics, summary.messages)
    assert len(records) == summary.messages
    # Everything the feed's state holds is published: merging what was published per
    # topic gives the server's final state (no gap), and the 10 missed updates came as
    # fewer reconciliation updates than that (no duplicate of what was known).
    assert summary.updates < len(messages)
    assert published_state(records) == server.state


def published_state(records) -> dict:
    """Each feed topic's updates merged in the order they were published (one subject's
    in one partition) and in ``stream_index`` order (the same)."""
    from f1pipe.live.timing_state import deep_merge

    state: dict = {}
    by_offset = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    by_index = sorted(by_offset, key=lambda r: (r.json()["stream_index"], r.json()["subject"]))
    assert [r.offset for r in by_index if r.key == "session"] == sorted(
        r.offset for r in by_index if r.key == "session")
    for record in by_index:
        message = record.json()
        topic = message["feed_topic"]
        state[topic] = deep_merge(state.get(topic), message["data"])
    return state


@pytest.mark.integration
def test_malformed_frames_go_to_the_dead_letters_and_the_feed_goes_on(
        kafka_settings, fastf1_offline, topic_name, tmp_path, feed_server, f1_account,
        recorded):
    messages = recorded_messages(recorded, *WINDOW_MS)[:40]
    bad = {10: ['{"type": 1, "target": "feed", "arguments": ["TimingData"]}',
                'this is not json {',
                '{"type": 1, "target": "feed", "arguments": ["CarData.z", "%%%", '
                '"2018-04-29T12:06:00.000Z"]}']}
    server = feed_server(messages, speed=0, token=f1_account, malformed=bad)
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)

    summary = run_live(settings, session_ref(2018, 4, "R"),
                       LiveOptions(url=server.url, **FAST))

    assert summary.updates == len(messages) and server.log.connections == 1
    dead = read_all(settings, [settings.dead_letter_topic], 3)
    reasons = sorted(r.headers["dlq.reason"] for r in dead)
    assert len(dead) == 3
    assert reasons[0].startswith("CarData.z payload not base64")
    assert reasons[1] == "expected [topic, data, utc time]"
    assert reasons[2].startswith("not a SignalR JSON message (JSONDecodeError")
    assert {r.value.decode() for r in dead} >= {"this is not json {"}


def _live_cli(server, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "f1pipe.cli", "live", "--season", "2018", "--round", "4",
         "--url", server.url, "--silence-timeout", "1s", "--max-retries", "1"],
        capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)


def _env(fastf1_offline, kafka_bootstrap, extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("F1_USERNAME", "F1_PASSWORD")}
    return {**env, **fastf1_offline.env(), "KAFKA_BROKER": kafka_bootstrap, **extra}


@pytest.mark.integration
def test_missing_f1_account_is_a_one_line_error(fastf1_offline, kafka_bootstrap, tmp_path,
                                                feed_server):
    server = feed_server([FeedMessage("LapCount", {"CurrentLap": 1}, _utc())], token="x")
    done = _live_cli(server, _env(fastf1_offline, kafka_bootstrap,
                                  {"XDG_DATA_HOME": str(tmp_path / "nobody")}))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: the live feed needs an F1 TV account and FastF1 "
                                "could not sign in (")
    assert "set F1_USERNAME and F1_PASSWORD" in errors[0]
    assert "Traceback" not in done.stderr and "reconnecting" not in done.stderr
    assert server.log.refused == 1 and server.log.connections == 0


@pytest.mark.integration
def test_refused_token_is_a_one_line_error(fastf1_offline, kafka_bootstrap, tmp_path,
                                           feed_server):
    server = feed_server([FeedMessage("LapCount", {"CurrentLap": 1}, _utc())],
                         token="the-right-one")
    stored = stored_token(tmp_path / "xdg", "a-wrong-one")
    done = _live_cli(server, _env(fastf1_offline, kafka_bootstrap, stored["env"]))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: the live feed refused the F1 TV account's token (401 "
                      "Unauthorized): sign in again (remove FastF1's stored token "
                      "f1auth_token.json) or check the F1 TV subscription"]
    assert "Traceback" not in done.stderr
    assert server.log.refused == 1 and server.log.connections == 0


def _utc():
    from datetime import UTC, datetime

    return datetime(2018, 4, 29, 12, 10, tzinfo=UTC)


@pytest.mark.integration
def test_telemetry_lands_as_car_data_and_location_parquet_and_tables(
        kafka_settings, fastf1_offline, topic_name, tmp_path, feed_server, f1_account):
    from datetime import UTC, datetime

    from f1pipe.kafka.topics import topic_for
    from f1pipe.live.landing import LandingOptions, lake_consumer
    from tests.fixtures.signalr import synthetic_telemetry

    messages = synthetic_telemetry(datetime(2018, 4, 29, 12, 30, tzinfo=UTC), 5.0)
    bad = {7: ['{"type": 1, "target": "feed", "arguments": ["CarData.z", "'
               + _z({"Entries": [{"Utc": "2018-04-29T12:30:01Z",
                                  "Cars": {"44": {"Channels": {"2": 9999}}}}]})
               + '", "2018-04-29T12:30:01.000Z"]}']}
    server = feed_server(messages, speed=0, token=f1_account, drops=[len(messages) // 2],
                         malformed=bad)
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)

    summary = run_live(settings, session_ref(2018, 4, "R"), LiveOptions(url=server.url, **FAST))

    samples = 20 * 4 * 5  # cars x Hz x s, per stream
    car_topic, location_topic = topic_for("car_data", settings), topic_for("location", settings)
    assert summary.topics[car_topic] == summary.topics[location_topic] == samples
    assert summary.dead_letters == 1
    topics = [car_topic, location_topic, live_topic("CarData.z", settings),
              live_topic("Position.z", settings)]
    consumer = lake_consumer(settings, topics, LandingOptions(until_idle_s=2.0),
                             group=f"{topic_name}lake")
    consumer.run()
    lake = tmp_path / "lake"
    assert {p.suffix for p in (lake / car_topic).rglob("*.*")} == {".parquet"}
    assert {p.suffix for p in (lake / location_topic).rglob("*.*")} == {".parquet"}
    assert {p.suffix for p in (lake / live_topic("CarData.z", settings)).rglob("*.*")} == \
        {".jsonl"}
    load(settings, settings.lake, settings.warehouse)
    _, rows = query(settings, settings.warehouse,
                    "SELECT COUNT(*), COUNT(DISTINCT driver_number), MAX(speed_kmh), "
                    "SUM(CASE WHEN drs = 12 THEN 1 ELSE 0 END) FROM car_data")
    assert rows[0] == (samples, 20, 100 + 20 + 19, samples // 2)
    _, rows = query(settings, settings.warehouse,
                    "SELECT COUNT(*), MIN(x_dm), MAX(z_dm) FROM location")
    assert rows[0] == (samples, 10, 7)
    dead = read_all(settings, [settings.dead_letter_topic], 1)
    assert dead[0].headers["dlq.reason"].startswith("CarData.z sample: speed_kmh:")


def _z(data: dict) -> str:
    from tests.fixtures.signalr import encode_z

    return encode_z(data)
