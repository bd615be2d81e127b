"""Lake records and their file formats (JSON lines, Parquet).

A :class:`LakeRecord` is one validated Kafka message: its own fields plus its Kafka
coordinates. Both formats hold the same columns: the message's fields (``schema`` is a
nested ``{name, version}`` object in JSON and a struct in Parquet), then ``kafka_topic``,
``kafka_partition``, ``kafka_offset`` and ``kafka_timestamp`` (ms since the epoch).
"""

from __future__ import annotations

import io

import msgspec

from f1pipe.errors import ConfigError
from f1pipe.schemas import ENVELOPE_FIELDS, Payload, plain_type

FORMATS = ("jsonl", "parquet")
KAFKA_FIELDS = ("kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp")


class LakeRecord:
    """One message bound for the lake, with where it came from in Kafka.

    ``payload``: the validated model (None when ``line`` is given); ``envelope``: schema,
    event_id, produced_at, source as the message carried them; ``line``: the record's JSON
    line when encoded already (the consumer's fast path), ``model`` then names its schema
    and ``group`` its (season, round, session). A plain slotted class: the consumer makes
    one per message."""

    __slots__ = ("topic", "partition", "offset", "timestamp_ms", "payload", "envelope",
                 "line", "model", "group")

    def __init__(self, topic: str, partition: int, offset: int, timestamp_ms: int,
                 payload: Payload | None, envelope: dict, line: bytes | None = None,
                 model: type[Payload] | None = None,
                 group: tuple[int, int, str] | None = None):
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp_ms = timestamp_ms
        self.payload = payload
        self.envelope = envelope
        self.line = line
        self.model = model
        # The lake partition the record belongs to: (season, round, session).
        self.group = group or (payload.season, payload.round, payload.session)

    def __repr__(self) -> str:
        return f"LakeRecord({self.topic}[{self.partition}]@{self.offset}, {self.group})"

    @property
    def schema(self) -> type[Payload]:
        """The payload model of the record."""
        return self.model or type(self.payload)

    def row(self) -> dict:
        """The record as one flat row: message fields, then the Kafka coordinates."""
        if self.line is not None:
            return msgspec.json.decode(self.line)
        return {
            **self.envelope,
            **self.payload.model_dump(mode="json"),
            "kafka_topic": self.topic,
            "kafka_partition": self.partition,
            "kafka_offset": self.offset,
            "kafka_timestamp": self.timestamp_ms,
        }


def check_file_format(fmt: str) -> str:
    """Return ``fmt`` if it is a known format, else raise :class:`ConfigError`."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown lake format {fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt


def encode(records: list[LakeRecord], fmt: str) -> bytes:
    """The bytes of one lake object holding ``records`` in format ``fmt``."""
    return encode_body(encode_jsonl(records), [r.schema for r in records], fmt)


def encode_body(body: bytes, models: list[type[Payload]], fmt: str) -> bytes:
    """The bytes of one lake object from its records' JSON lines ``body`` (as
    :func:`encode_jsonl` gives them) and their payload models, in format ``fmt``."""
    if check_file_format(fmt) == "jsonl":
        return body
    return parquet_bytes(table_from_lines(body, arrow_schema(models)))


def encode_jsonl(records: list[LakeRecord]) -> bytes:
    """One compact JSON object per line, UTF-8, each line ending in a newline."""
    encode_row = msgspec.json.encode  # ~2.5x faster than json.dumps, same compact UTF-8 JSON
    return b"".join(r.line if r.line is not None else encode_row(r.row()) + b"\n"
                    for r in records)


def encode_parquet(records: list[LakeRecord]) -> bytes:
    """A Parquet file (zstd) whose column types come from the payload models."""
    return encode_body(encode_jsonl(records), [r.schema for r in records], "parquet")


def parquet_bytes(table) -> bytes:
    """``table`` as the bytes of a Parquet file (zstd)."""
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def arrow_table(records: list[LakeRecord], schema):
    """The records as an Arrow table of ``schema`` (see :func:`table_from_lines`)."""
    return table_from_lines(encode_jsonl(records), schema)


_ROWS = msgspec.json.Decoder()


def table_from_lines(body: bytes, schema):
    """JSON lines ``body`` as an Arrow table of ``schema``: parsed by Arrow's JSON reader
    into typed columns (in C++, without a Python object per value, and without holding the
    GIL); if the reader refuses them, from one dict per line (the same table: same values,
    types and nulls)."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    try:
        return pa_json.read_json(
            io.BytesIO(body),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(body) + 1),
            parse_options=pa_json.ParseOptions(explicit_schema=schema,
                                               unexpected_field_behavior="error"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return pa.Table.from_pylist(_ROWS.decode_lines(body), schema=schema)


def arrow_schema(models: list[type[Payload]]):
    """Envelope + the union of the models' fields (in order) + the Kafka columns."""
    import pyarrow as pa

    fields = {
        "schema": pa.struct([("name", pa.string()), ("version", pa.int64())]),
        "event_id": pa.string(),
        "produced_at": pa.string(),
        "source": pa.string(),
    }
    assert tuple(fields) == ENVELOPE_FIELDS
    for model in dict.fromkeys(models):
        for name, info in model.model_fields.items():
            fields.setdefault(name, _arrow_type(info.annotation))
    fields.update(
        kafka_topic=pa.string(), kafka_partition=pa.int32(), kafka_offset=pa.int64(),
        kafka_timestamp=pa.int64(),
    )
    return pa.schema(list(fields.items()))


def _arrow_type(annotation):
    import pyarrow as pa

    by_type = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}
    return by_type.get(plain_type(annotation), pa.string())
