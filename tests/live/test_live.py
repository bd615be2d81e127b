"""``f1pipe live``: the recorded sample through the real broker, and the feed's error path."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from f1pipe.live.feed import publish_recording
from f1pipe.live.replay import live_topic
from f1pipe.sources.live_recording import read_recording
from tests.fixtures.fastf1 import recorded_dir
from tests.live.live_harness import live_settings, read_all

SAMPLE = recorded_dir() / "livedata" / "with_errors.txt"


@pytest.mark.integration
def test_recording_good_lines_published_and_malformed_ones_dead_lettered(
        kafka_settings, fastf1_offline, topic_name, tmp_path):
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path)
    expected = read_recording(SAMPLE)

    summary = publish_recording(settings, SAMPLE)

    assert summary.ref.label.startswith("2021 round 1 (Bahrain Grand Prix) R")
    assert (summary.updates, summary.dead_letters) == (len(expected.updates), len(expected.bad))
    topics = sorted({live_topic(u.feed_topic, settings) for u in expected.updates})
    assert sorted(summary.topics) == topics
    records = read_all(settings, topics, summary.messages)
    lines = {(m["feed_topic"], m["stream_index"]) for m in (r.json() for r in records)}
    assert len(records) == summary.messages
    assert lines == {(u.feed_topic, u.stream_index) for u in expected.updates}

    dead = read_all(settings, [settings.dead_letter_topic], len(expected.bad))
    by_line = {int(r.headers["dlq.line"]): r for r in dead}
    assert sorted(by_line) == [b.line_number for b in expected.bad]
    for bad in expected.bad:
        record = by_line[bad.line_number]
        assert record.headers["dlq.reason"] == bad.reason
        assert record.value.decode() == bad.text
        assert record.headers["dlq.source"] == f"file:{SAMPLE}"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_live_feed_unreachable_is_a_one_line_error(fastf1_offline):
    url = f"http://127.0.0.1:{_closed_port()}/signalrcore"
    env = {**os.environ, **fastf1_offline.env(), "KAFKA_BROKER": "127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-m", "f1pipe.cli", "live", "--season", "2021", "--round", "1",
         "--max-retries", "1", "--url", url],
        capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: cannot connect to the live feed: [Errno 111] Connection refused"]
    assert "reconnecting in 1 s" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_recording_that_is_not_one_is_refused(tmp_path):
    rec = tmp_path / "notes.txt"
    rec.write_text("hello\nworld\n")
    env = {**os.environ, "KAFKA_BROKER": "127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-m", "f1pipe.cli", "live", "--from-file", str(rec)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert f"error: {rec}: no feed message in 2 line(s)" in " ".join(done.stderr.split())
