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
