import io
import json

import pyarrow.parquet as pq
import pytest

from f1pipe.errors import ConfigError
from f1pipe.lake.records import KAFKA_FIELDS, encode, encode_jsonl, encode_parquet
from tests.lake.laps import lake_record, lap_message


def _records(count):
    return [lake_record(lap_message(i), partition=1, offset=100 + i) for i in range(count)]


def test_jsonl_holds_the_message_fields_and_kafka_coordinates_one_line_each():
    records = _records(3)
    lines = encode_jsonl(records).decode().splitlines()
    assert len(lines) == 3
    rows = [json.loads(line) for line in lines]
    message = lap_message(1)
    assert {k: rows[1][k] for k in message} == message
    assert [rows[1][k] for k in KAFKA_FIELDS] == ["f1.laps", 1, 101, 1_714_917_600_000]
    assert list(rows[0])[-4:] == list(KAFKA_FIELDS)


def test_parquet_has_the_same_columns_and_values_as_jsonl():
    records = _records(5)
    table = pq.read_table(io.BytesIO(encode_parquet(records)))
    from_json = [json.loads(line) for line in encode_jsonl(records).decode().splitlines()]
    assert table.column_names == list(from_json[0])
    assert table.to_pylist() == from_json
    assert str(table.schema.field("schema").type) == "struct<name: string, version: int64>"
    assert str(table.schema.field("lap_time_ms").type) == "int64"
    assert str(table.schema.field("speed_st_kmh").type) == "double"
    assert str(table.schema.field("fresh_tyre").type) == "bool"


def test_encoding_is_deterministic_so_a_rewrite_has_the_same_bytes():
    assert encode(_records(4), "jsonl") == encode(_records(4), "jsonl")
    assert encode(_records(4), "parquet") == encode(_records(4), "parquet")


def test_unknown_format_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match="unknown lake format 'csv'"):
        encode(_records(1), "csv")


def _edge_records():
    """Laps with edge values, a car sample and a location (models mixed in one object),
    with and without a ready JSON line."""
    from f1pipe import codec
    from f1pipe.lake.records import LakeRecord
    from f1pipe.schemas import CarDataV1, LapV1, LocationV1, make_message

    laps = [LapV1(season=2024, round=6, session="R", driver_number=i, lap_number=i,
                  lap_time_ms=lap_ms, speed_st_kmh=speed, abbreviation=name, fresh_tyre=fresh)
            for i, (lap_ms, speed, name, fresh) in enumerate([
                (2**63 - 1, 0.1, "Pérez ✓ \"q\" \\", True), (-(2**63), 1e-7, "", False),
                (None, 1e300, "tab\there", None), (0, -0.0, None, True),
                (1, 310.49999999999994, "\u2028", False)])]
    cars = [CarDataV1(season=2018, round=4, session="R", driver_number=44,
                      time_utc="2018-04-29T12:30:00.123Z", speed_kmh=300, drs=None)]
    places = [LocationV1(season=2018, round=4, session="R", driver_number=5,
                         time_utc="2018-04-29T12:30:00Z", x_dm=-1, status="OffTrack")]
    records = []
    for offset, payload in enumerate(laps + cars + places):
        message = make_message(payload, "test")
        envelope = {k: message[k] for k in ("schema", "event_id", "produced_at", "source")}
        found = codec.fast_lake_line(codec.encode(message), type(payload), "t", 1, offset, 9)
        if offset % 2 and found:  # half with the consumer's ready line
            records.append(LakeRecord("t", 1, offset, 9, None, envelope, found[1],
                                      type(payload), found[0]))
        else:
            records.append(LakeRecord("t", 1, offset, 9, payload, envelope))
    return records


def test_arrow_reader_builds_the_table_from_pylist_builds():
    import pyarrow as pa

    from f1pipe.lake.records import arrow_schema, arrow_table

    records = _edge_records()
    schema = arrow_schema([r.schema for r in records])
    expected = pa.Table.from_pylist([r.row() for r in records], schema=schema)
    table = arrow_table(records, schema)
    assert table.schema == expected.schema
    assert table.to_pylist() == expected.to_pylist()
    assert table.equals(expected)
    assert pq.read_table(io.BytesIO(encode_parquet(records))).equals(expected)


def test_lines_the_arrow_reader_refuses_are_built_as_before():
    from f1pipe.lake.records import arrow_schema, arrow_table

    records = _records(2)
    schema = arrow_schema([r.schema for r in records])
    narrow = schema.remove(schema.get_field_index("compound"))  # a field the schema lacks
    table = arrow_table(records, narrow)
    assert table.num_rows == 2 and "compound" not in table.column_names
