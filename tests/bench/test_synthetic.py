"""The benchmarks' synthetic laps: seeded, schema-valid, lap-sized."""

from bench.synthetic import encoded_size, lap_messages
from f1pipe.schemas import LapV1, validate_message


def test_same_seed_gives_the_same_laps():
    first = [m["event_id"] for m in lap_messages(200, seed=7)]
    again = [m["event_id"] for m in lap_messages(200, seed=7)]
    other = [m["event_id"] for m in lap_messages(200, seed=8)]
    assert first == again
    assert first != other


def test_laps_follow_the_real_schema_and_size():
    messages = list(lap_messages(500, seed=1))
    assert all(isinstance(validate_message(m), LapV1) for m in messages)
    sizes = sorted(encoded_size(m) for m in messages)
    assert 500 < sizes[len(sizes) // 2] < 1000  # bytes of compact JSON, like a real lap
