"""Seeded synthetic messages that follow the real schemas (``LapV1``, ``LiveUpdateV1``).

Values are drawn like real laps: 20 drivers of 10 teams, lap times around 90 s split into
three sectors, speed-trap figures, tyre stints, the odd pit lap and yellow flag. Every lap
of a run has its own natural key (season, round, session, driver, lap), so a warehouse
MERGE keeps them all. The same seed always gives the same messages (``produced_at`` aside).
"""

from __future__ import annotations

import json
import multiprocessing
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from f1pipe.schemas import LapV1, LiveUpdateV1, make_message

SOURCE = "bench/synthetic"
DRIVERS = [  # (number, abbreviation, team)
    (1, "VER", "Red Bull Racing"), (11, "PER", "Red Bull Racing"),
    (16, "LEC", "Ferrari"), (55, "SAI", "Ferrari"), (44, "HAM", "Mercedes"),
    (63, "RUS", "Mercedes"), (4, "NOR", "McLaren"), (81, "PIA", "McLaren"),
    (14, "ALO", "Aston Martin"), (18, "STR", "Aston Martin"), (10, "GAS", "Alpine"),
    (31, "OCO", "Alpine"), (23, "ALB", "Williams"), (2, "SAR", "Williams"),
    (22, "TSU", "RB"), (3, "RIC", "RB"), (77, "BOT", "Kick Sauber"),
    (24, "ZHO", "Kick Sauber"), (20, "MAG", "Haas F1 Team"), (27, "HUL", "Haas F1 Team"),
]
SESSIONS = ("R", "Q", "FP1", "FP2", "FP3", "S")
LAPS_PER_SESSION = 70
ROUNDS_PER_SEASON = 24
COMPOUNDS = ("SOFT", "MEDIUM", "HARD")


def lap_payload(index: int, rng: random.Random) -> LapV1:
    """The ``index``-th lap of the synthetic calendar (unique natural key per index)."""
    lap = index % LAPS_PER_SESSION + 1
    rest = index // LAPS_PER_SESSION
    number, abbreviation, team = DRIVERS[rest % len(DRIVERS)]
    rest //= len(DRIVERS)
    session = SESSIONS[rest % len(SESSIONS)]
    rest //= len(SESSIONS)
    round_ = rest % ROUNDS_PER_SEASON + 1
    season = 2000 + rest // ROUNDS_PER_SEASON
    sectors = [rng.randint(24_000, 38_000) for _ in range(3)]
    lap_time = sum(sectors)
    start = 3_600_000 + (lap - 1) * 92_000 + rng.randint(0, 2_000)
    pit_in = rng.random() < 0.03
    end_utc = datetime(season, 3, 1, 15, tzinfo=UTC) + timedelta(milliseconds=start + lap_time)
    return LapV1(
        season=season, round=round_, session=session, driver_number=number,
        abbreviation=abbreviation, team_name=team, lap_number=lap, lap_time_ms=lap_time,
        sector1_ms=sectors[0], sector2_ms=sectors[1], sector3_ms=sectors[2],
        speed_i1_kmh=round(rng.uniform(230, 300), 1), speed_i2_kmh=round(rng.uniform(240, 310), 1),
        speed_fl_kmh=round(rng.uniform(250, 320), 1), speed_st_kmh=round(rng.uniform(280, 345), 1),
        compound=rng.choice(COMPOUNDS), tyre_life_laps=rng.randint(1, 40),
        fresh_tyre=rng.random() < 0.3, stint=rng.randint(1, 4),
        pit_in_time_ms=start + lap_time - 300 if pit_in else None,
        pit_out_time_ms=start + 1_200 if rng.random() < 0.03 else None,
        position=rng.randint(1, 20), track_status="1" if rng.random() < 0.9 else "12",
        is_personal_best=rng.random() < 0.15, is_accurate=rng.random() < 0.95,
        deleted=rng.random() < 0.01, lap_start_time_ms=start, session_time_ms=start + lap_time,
        lap_end_utc=end_utc.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )


def lap_messages(count: int, seed: int = 1, start: int = 0) -> Iterator[dict]:
    """``count`` lap envelope messages (laps ``start`` .. ``start + count - 1``)."""
    rng = random.Random(seed * 1_000_003 + start)
    for index in range(start, start + count):
        yield make_message(lap_payload(index, rng), SOURCE)


def live_update_message(index: int, rng: random.Random, season: int = 2099) -> dict:
    """One ``TimingData`` update of one driver, produced now (for latency runs)."""
    number = DRIVERS[index % len(DRIVERS)][0]
    data = {"Lines": {str(number): {"Sectors": {"1": {"Value": f"{rng.uniform(24, 38):.3f}"}},
                                    "Speeds": {"I1": {"Value": str(rng.randint(230, 300))}}}}}
    payload = LiveUpdateV1(season=season, round=1, session="R", feed_topic="TimingData",
                           stream_index=index, subject=str(number), driver_number=number,
                           session_time_ms=index * 10, data=data)
    return make_message(payload, SOURCE)


def encoded_size(message: dict) -> int:
    """Bytes of the message as the producer sends it (compact JSON)."""
    return len(json.dumps(message, separators=(",", ":")).encode())


CHUNK = 50_000  # messages per generated chunk (its own seeded random stream)


def _chunk_lines(args: tuple[int, int, int]) -> bytes:
    seed, start, count = args
    lines = (json.dumps(m, separators=(",", ":")) for m in lap_messages(count, seed, start))
    return "".join(f"{line}\n" for line in lines).encode()


def lap_file(folder: Path, count: int, seed: int = 1) -> Path:
    """A JSON-lines file of ``count`` lap messages, generated once (two processes) and
    reused: the first ``n`` lines are the same for every ``count >= n``."""
    for existing in folder.glob(f"laps-seed{seed}-*.jsonl"):
        if int(existing.stem.rpartition("-")[2]) >= count:
            return existing
    path = folder / f"laps-seed{seed}-{count}.jsonl"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(seed, start, min(CHUNK, count - start)) for start in range(0, count, CHUNK)]
    partial = path.with_suffix(".part")
    with multiprocessing.get_context("spawn").Pool(2) as pool, open(partial, "wb") as out:
        for block in pool.imap(_chunk_lines, jobs):
            out.write(block)
    partial.rename(path)
    return path


def read_messages(path: Path, count: int, batch: int = CHUNK) -> Iterator[list[dict]]:
    """The first ``count`` messages of a lap file, decoded, in lists of ``batch``."""
    with open(path, "rb") as lines:
        chunk: list[dict] = []
        for number, line in enumerate(lines):
            if number >= count:
                break
            chunk.append(json.loads(line))
            if len(chunk) == batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
