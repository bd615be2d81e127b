"""Object names in the lake (the Kafka Connect S3 sink's layout)."""

from __future__ import annotations

OFFSET_DIGITS = 10


def object_name(topic: str, partition: int, start_offset: int,
                group: tuple[int, int, str], fmt: str) -> str:
    """The object's path under the lake, e.g.
    ``f1.laps/season=2024/round=5/session=R/f1.laps+0+0000000500.jsonl``.

    ``start_offset`` is the Kafka offset of the object's first record: rewriting the same
    records after a crash produces the same name, so the object is replaced, not copied.
    """
    season, round_, session = group
    return (
        f"{topic}/season={season}/round={round_}/session={session}/"
        f"{topic}+{partition}+{start_offset:0{OFFSET_DIGITS}d}.{fmt}"
    )
