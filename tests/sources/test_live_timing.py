"""Recorded live-timing streams (static archive) and live SignalR recordings."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pytest

from f1pipe.errors import F1PipeError
from f1pipe.sources import session_ref
from f1pipe.sources.live_recording import parse_line, read_recording
from f1pipe.sources.live_timing import (
    decode_z,
    live_payloads,
    merge_parts,
    page_name,
    read_session,
    resolve_topics,
    split_update,
)
from f1pipe.times import stamp_ms as session_time_ms
from tests.fixtures.fastf1 import recorded_dir

# Lines per recorded stream of the 2018 Azerbaijan GP race (checked with FastF1 directly).
RECORDED_2018_R4 = {"TimingData": 23496, "TimingAppData": 388, "RaceControlMessages": 109,
                    "TrackStatus": 22, "SessionStatus": 5, "LapCount": 51, "DriverList": 165,
                    "SessionInfo": 1}


def z_encode(obj: dict) -> str:
    deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return base64.b64encode(deflate.compress(json.dumps(obj).encode()) + deflate.flush()).decode()


def test_decode_z_inverts_base64_raw_deflate():
    data = {"Entries": [{"Utc": "2021-03-28T15:00:00Z", "Cars": {"44": {"Channels": {}}}}]}
    assert decode_z(z_encode(data)) == data
    assert decode_z(f'"{z_encode(data)}"') == data


def test_decode_z_gives_one_line_reasons():
    with pytest.raises(ValueError, match="not base64 \\+ raw-deflate JSON"):
        decode_z("7Za9CsIwEIDf5ea25C4")
    with pytest.raises(ValueError, match="expected an object"):
        decode_z(z_encode([1, 2]))


def test_stream_time_stamps_become_ms():
    assert session_time_ms("01:51:57.557") == 6717557
    with pytest.raises(ValueError, match="HH:MM:SS.mmm"):
        session_time_ms("1:2")


def test_topics_by_feed_or_page_name_and_unknown_ones_fail():
    assert resolve_topics(["timing_data", "TrackStatus", "CarData.z"]) == [
        "TimingData", "TrackStatus", "CarData.z"]
    assert page_name("CarData.z") == "car_data"
    assert page_name("TopThree") == "top_three"
    with pytest.raises(F1PipeError, match="unknown live-timing topic 'laps'"):
        resolve_topics(["laps"])


def test_multi_driver_update_is_split_per_driver_and_merges_back():
    data = {"Lines": {"44": {"GapToLeader": "+1.0"}, "5": {"InPit": True}}, "Withheld": False}
    parts = split_update("TimingData", data)
    assert [s for s, _ in parts] == ["44", "5", "session"]
    assert parts[0][1] == {"Lines": {"44": {"GapToLeader": "+1.0"}}}
    assert merge_parts(p for _, p in parts) == data
    assert split_update("DriverList", {"44": {"Line": 1}}) == [("44", {"44": {"Line": 1}})]
    assert split_update("TrackStatus", {"Status": "1"}) == [("session", {"Status": "1"})]
    assert split_update("TimingData", {"Lines": {}}) == [("session", {"Lines": {}})]


@pytest.fixture(scope="module")
def recorded_2018_r4(fastf1_offline):
    return read_session(session_ref(2018, 4, "R"))


def test_every_recorded_stream_of_2018_r4_is_read(recorded_2018_r4):
    assert recorded_2018_r4.counts == RECORDED_2018_R4
    assert len(recorded_2018_r4.updates) == sum(RECORDED_2018_R4.values())
    assert "WeatherData" in recorded_2018_r4.missing


def test_streams_are_merged_in_session_time_order(recorded_2018_r4):
    times = [u.session_time_ms for u in recorded_2018_r4.updates]
    assert times == sorted(times)
    first = recorded_2018_r4.updates[0]
    assert (first.feed_topic, first.session_time_ms) == ("SessionInfo", 0)
    per_topic = {}
    for update in recorded_2018_r4.updates:
        assert update.stream_index == per_topic.get(update.feed_topic, -1) + 1
        per_topic[update.feed_topic] = update.stream_index


def test_utc_time_comes_from_race_control_clock(recorded_2018_r4):
    # Race control message 1 ("GREEN LIGHT - PIT EXIT OPEN") came at 12:13:42 UTC.
    green = next(u for u in recorded_2018_r4.updates if u.feed_topic == "RaceControlMessages"
                 and "1" in u.data.get("Messages", {}))
    when = recorded_2018_r4.time_utc(green)
    assert abs((when.replace(tzinfo=None) - when.replace(
        hour=12, minute=13, second=42, microsecond=0, tzinfo=None)).total_seconds()) < 1.5


def test_window_selects_session_time(recorded_2018_r4):
    window = recorded_2018_r4.window(600_000, 60_000)
    assert window and all(600_000 <= u.session_time_ms < 660_000 for u in window)


def test_payloads_carry_driver_keys(recorded_2018_r4):
    ref = recorded_2018_r4.ref
    update = next(u for u in recorded_2018_r4.updates
                  if u.feed_topic == "TimingData" and len(u.data["Lines"]) == 2)
    payloads = live_payloads(ref, update, recorded_2018_r4.time_utc(update))
    assert [p.kafka_key() for p in payloads] == [
        f"2018-4-R-{n}" for n in update.data["Lines"]]
    assert {p.part_count for p in payloads} == {2}
    assert payloads[0].time_utc.endswith("Z")


def test_unrecorded_session_fails_with_one_line(fastf1_offline):
    with pytest.raises(F1PipeError, match="no live-timing stream recorded"):
        read_session(session_ref(2018, 4, "R"), ["CarData.z"])


SAMPLE = recorded_dir() / "livedata" / "with_errors.txt"


def test_recording_sample_good_and_malformed_lines():
    recording = read_recording(SAMPLE)
    total = len([t for t in SAMPLE.read_text().splitlines() if t.strip()])
    assert len(recording.updates) + len(recording.bad) == total
    assert recording.line_numbers[:2] == [8, 9]  # the first two Heartbeat lines
    reasons = {b.line_number: b.reason for b in recording.bad}
    assert "CarData.z payload not base64" in reasons[1]
    assert reasons[7] == "expected [topic, data, utc time], got a str"
    assert reasons[10] == "not a Python literal (truncated or garbled line)"
    assert reasons[27] == "bad time stamp '202103-28TZ'"
    assert {u.feed_topic for u in recording.updates} == {
        "Heartbeat", "WeatherData", "RaceControlMessages", "TimingAppData", "TrackStatus",
        "SessionData", "TimingData"}


def test_recording_session_time_counts_from_the_first_message(tmp_path: Path):
    rec = tmp_path / "rec.txt"
    rec.write_text(
        "['TrackStatus', {'Status': '1', 'Message': 'AllClear'}, '2024-07-07T14:00:00.000Z']\n"
        "['TimingData', {'Lines': {'44': {'Position': '1'}}}, '2024-07-07T14:00:02.500Z']\n"
        "['DriverList', '{\"44\": {\"Tla\": \"HAM\"}}', '']\n")
    recording = read_recording(rec)
    assert [u.session_time_ms for u in recording.updates] == [0, 2500, 0]
    assert recording.updates[2].data == {"44": {"Tla": "HAM"}}
    assert parse_line(f"['CarData.z', '{z_encode({'Entries': []})}', "
                      "'2024-07-07T14:00:00Z']")[1] == {"Entries": []}


def test_live_stream_index_is_time_based_unique_and_repeatable():
    from datetime import UTC, datetime

    from f1pipe.sources.live_recording import ArrivalIndex

    when = datetime(2024, 7, 7, 14, 0, 0, 123000, tzinfo=UTC)
    first, again = ArrivalIndex(), ArrivalIndex()
    indexes = [first.next("TimingData", when) for _ in range(3)]
    assert indexes == [1720360800123000, 1720360800123001, 1720360800123002]
    assert first.next("TrackStatus", when) == indexes[0]  # per feed topic
    assert again.next("TimingData", when) == indexes[0]  # same again after a restart
