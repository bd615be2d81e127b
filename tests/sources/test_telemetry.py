"""``CarData.z`` / ``Position.z`` updates -> ``car_data`` / ``location`` samples."""

from __future__ import annotations

from datetime import UTC, datetime

from f1pipe.schemas import CarDataV1, LocationV1
from f1pipe.sources.live_timing import FeedUpdate
from f1pipe.sources.schedule import SessionRef
from f1pipe.sources.telemetry import telemetry_payloads
from tests.fixtures.signalr import synthetic_telemetry


def _ref() -> SessionRef:
    return SessionRef(2018, 4, "Azerbaijan Grand Prix", "Azerbaijan", "Baku", "R", "Race", None)


def _update(topic: str, data: dict) -> FeedUpdate:
    return FeedUpdate(topic, 0, 1234, data)


def test_every_car_of_every_sample_becomes_one_payload_with_units():
    car, place = synthetic_telemetry(datetime(2018, 4, 29, 12, 30, tzinfo=UTC), 0.25, cars=3)

    cars, bad = telemetry_payloads(_ref(), _update(car.topic, car.data))
    places, bad2 = telemetry_payloads(_ref(), _update(place.topic, place.data))

    assert bad == bad2 == []
    assert [type(p) for p in cars] == [CarDataV1] * 3
    assert [type(p) for p in places] == [LocationV1] * 3
    first = cars[0]
    assert (first.driver_number, first.speed_kmh, first.rpm, first.n_gear, first.drs) == \
        (1, 101, 10_000, 1, 0)
    assert first.time_utc == "2018-04-29T12:30:00.000Z" and first.session_time_ms == 1234
    assert (places[2].x_dm, places[2].y_dm, places[2].z_dm, places[2].status) == \
        (30, -3, 7, "OnTrack")


def test_bad_samples_come_back_with_a_reason_and_the_good_ones_still_do():
    data = {"Entries": [
        {"Utc": "2018-04-29T12:30:00.1234567Z",  # the feed's 7 digits of seconds
         "Cars": {"44": {"Channels": {"2": 301, "45": 12}},
                  "5": {"Channels": {"2": 9000}},  # km/h out of range
                  "x": {"Channels": {}}}},  # not a car number
        {"Utc": "not a time", "Cars": {"7": {"Channels": {}}}},
        "garbage"]}

    good, bad = telemetry_payloads(_ref(), _update("CarData.z", data))

    assert [(p.driver_number, p.speed_kmh, p.drs, p.time_utc) for p in good] == \
        [(44, 301, 12, "2018-04-29T12:30:00.123Z")]
    reasons = [reason for _, reason in bad]
    assert reasons[0].startswith("CarData.z sample: speed_kmh: Input should be less than")
    assert reasons[1].startswith("CarData.z sample: invalid literal for int()")
    assert reasons[2] == "CarData.z sample: bad time stamp 'not a time'"
    assert reasons[3] == "CarData.z sample: sample without cars"


def test_other_topics_have_no_telemetry():
    assert telemetry_payloads(_ref(), _update("TimingData", {"Lines": {}})) == ([], [])


def test_messages_are_the_payloads_messages_whichever_path_builds_them():
    """Fast path (exact types) and model path (values the model coerces) both give
    ``keyed(payload)``; the bad samples are the same, with the same reasons."""
    from f1pipe.codec import keyed
    from f1pipe.sources.telemetry import telemetry_messages

    when = datetime(2024, 5, 5, 14, 0, 0, 123000, tzinfo=UTC)
    data = {"Entries": [
        {"Utc": "2018-04-29T12:30:00.1234567Z",
         "Cars": {"44": {"Channels": {"0": 11_000, "2": 301, "3": 7, "45": 12}},
                  "1": {"Channels": {"2": 301.0, "3": "7", "4": True}},  # coerced
                  "5": {"Channels": {"2": 9000}},  # refused
                  "07": {"Channels": {}}, "x": {}}},
        {"Utc": 5, "Cars": {"8": {"Channels": {}}}}, {"Utc": ["x"], "Cars": {"9": {}}},
        {"Utc": "not a time", "Cars": {"7": {}}}, {"Utc": "not a time", "Cars": {"6": {}}},
        "garbage"]}
    places = {"Position": [{"Timestamp": "2018-04-29T12:30:00Z", "Entries": {
        "3": {"X": -5, "Y": 2**40, "Z": 0, "Status": "OffTrack ✓"}, "4": "no values"}}]}
    reasons = {}
    for topic, update in (("CarData.z", data), ("Position.z", places)):
        payloads, bad = telemetry_payloads(_ref(), _update(topic, update))
        messages, bad2 = telemetry_messages(_ref(), _update(topic, update), "src", when)
        assert [(type(p), *keyed(p, "src", when)) for p in payloads] == messages
        assert [list(keyed(p, "src", when)[1]) for p in payloads] == [list(m) for *_, m in
                                                                      messages]  # order
        assert bad == bad2
        reasons[topic] = [reason.split(": ", 1)[1] for _, reason in bad]
    assert len(messages) == 2 and reasons["Position.z"] == []  # "4": no values, all None
    assert reasons["CarData.z"] == [
        "speed_kmh: Input should be less than or equal to 500",
        "invalid literal for int() with base 10: 'x'", "time stamp is not text",
        "time stamp is not text", "bad time stamp 'not a time'", "bad time stamp 'not a time'",
        "sample without cars"]
