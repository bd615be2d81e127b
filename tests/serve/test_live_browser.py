"""The live page in headless Chromium while `f1pipe replay --speed 20` plays the 2018
Azerbaijan GP through the real broker: the server's Kafka consumer feeds the page over SSE,
and its leader and lap counter change without a reload."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from f1pipe.live.timing_state import TimingState
from f1pipe.serve.app import ServeOptions, running
from f1pipe.sources import session_ref
from f1pipe.sources.live_timing import live_payloads, read_session
from tests.live.live_harness import live_settings

SPEED = 20


@pytest.fixture(scope="module")
def recorded(fastf1_offline):
    ref = session_ref(2018, 4, "R")
    return ref, read_session(ref)


def lap_times_ms(recorded_session) -> dict[int, int]:
    """Session time at which LapCount first says each lap."""
    first: dict[int, int] = {}
    for update in recorded_session.updates:
        lap = update.data.get("CurrentLap") if update.feed_topic == "LapCount" else None
        if isinstance(lap, int):
            first.setdefault(lap, update.session_time_ms)
    return first


def state_at(ref, recorded_session, end_ms: int) -> TimingState:
    state = TimingState()
    for update in recorded_session.window(0, end_ms):
        for payload in live_payloads(ref, update, None):
            state.apply(payload.feed_topic, payload.data, payload.session_time_ms)
    return state


@pytest.mark.integration
def test_live_page_follows_a_replay_without_reloading(
        kafka_settings, fastf1_offline, topic_name, tmp_path, chromium, artifacts,
        warehouse_settings, recorded, watch):
    ref, session = recorded
    laps = lap_times_ms(session)
    # Laps 30-32: Vettel pits and Bottas takes the lead (the laps table says lap 31).
    start_ms, end_ms = laps[30] - 2_000, laps[32] + 8_000
    expected = state_at(ref, session, end_ms)
    settings = live_settings(kafka_settings, fastf1_offline, topic_name, tmp_path).model_copy(
        update={"warehouse": warehouse_settings.warehouse})

    with running(settings, ServeOptions(port=0, live=True)) as url:
        page = watch.page
        page.goto(f"{url}/live")
        page.evaluate("window.__loadedOnce = 'yes'")
        env = {**os.environ, **fastf1_offline.env(), "KAFKA_BROKER": settings.kafka_broker,
               "F1PIPE_TOPIC_PREFIX": settings.topic_prefix,
               "F1PIPE_DLQ_TOPIC": settings.dead_letter_topic}
        replay = subprocess.Popen(
            [sys.executable, "-m", "f1pipe.cli", "replay", "--season", "2018", "--round", "4",
             "--speed", str(SPEED), "--from", f"{start_ms / 1000:.3f}s",
             "--duration", f"{(end_ms - start_ms) / 1000:.3f}s", "--catch-up"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        seen: list[tuple[str, str]] = []
        deadline = time.monotonic() + 180
        while replay.poll() is None and time.monotonic() < deadline:
            seen.append((page.inner_text("#lap"), page.inner_text("#leader")))
            page.wait_for_timeout(100)
        _, stderr = replay.communicate(timeout=30)
        assert replay.returncode == 0, stderr
        total_laps = expected.lap[1]
        want = (str(expected.lap[0]), expected.rows()[0].abbreviation)
        page.wait_for_function(
            "([lap, leader]) => document.getElementById('lap').textContent === lap && "
            "document.getElementById('leader').textContent === leader", arg=list(want),
            timeout=15_000)
        page.screenshot(path=str(artifacts / "live-2018-4.png"), full_page=True)
        final = [(r.abbreviation, r.position) for r in expected.rows()]
        shown = page.locator("#tower tbody tr").evaluate_all(
            "rows => rows.map(r => [r.dataset.driver, r.querySelector('.pos').textContent])")
        assert [(d, int(p) if p else None) for d, p in shown] == final
        assert page.inner_text("#total-laps") == str(total_laps)
        assert page.evaluate("window.__loadedOnce") == "yes"  # the same page all along
        latencies = page.evaluate("window.__latencies")

    played = [s for s in seen if s[0] != "–"]
    assert len({lap for lap, _ in played}) >= 3, played[:5]  # 30, 31, 32 at least
    leaders = [leader for _, leader in played]
    assert len({*leaders}) >= 2, "the leader never changed on the page"
    assert leaders[-1] == want[1]
    assert len(latencies) > 50
    assert watch.errors == []
