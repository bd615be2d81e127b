import json
import time

import pytest

from f1pipe.errors import F1PipeError
from f1pipe.lake import RetryPolicy, SinkError, open_sink
from f1pipe.lake.s3 import s3_client
from f1pipe.lake.s3_sink import S3Sink
from tests.fixtures.s3 import s3_test_settings
from tests.lake.laps import lake_record, lap_message

pytestmark = pytest.mark.integration


def _keys(settings, bucket):
    reply = s3_client(settings).list_objects_v2(Bucket=bucket)
    return sorted(obj["Key"] for obj in reply.get("Contents", []))


def _add(sink, offsets, session="R"):
    for offset in offsets:
        sink.add(lake_record(lap_message(offset, session=session), offset=offset))


def test_flush_puts_one_object_per_group_under_the_prefix(s3_settings):
    bucket = s3_settings.s3_bucket
    sink = open_sink(f"s3://{bucket}/lake/raw", s3_settings, "jsonl")
    assert isinstance(sink, S3Sink)
    sink.check()
    _add(sink, [0, 1], session="FP1")
    _add(sink, [2], session="FP2")
    names = sink.flush(("f1.laps", 0))
    assert _keys(s3_settings, bucket) == [f"lake/raw/{n}" for n in names]
    body = s3_client(s3_settings).get_object(Bucket=bucket, Key=f"lake/raw/{names[0]}")
    rows = [json.loads(line) for line in body["Body"].read().decode().splitlines()]
    assert [r["kafka_offset"] for r in rows] == [0, 1]
    assert {r["session"] for r in rows} == {"FP1"}


def test_large_objects_go_up_as_multipart_and_read_back_whole(s3_settings):
    bucket = s3_settings.s3_bucket
    sink = S3Sink(s3_settings, bucket, "big", multipart_threshold=5 * 1024 * 1024,
                  part_size=5 * 1024 * 1024)
    _add(sink, range(7_500))  # about 5.6 MB of JSON lines
    [name] = sink.flush(("f1.laps", 0))
    head = s3_client(s3_settings).head_object(Bucket=bucket, Key=f"big/{name}")
    body = s3_client(s3_settings).get_object(Bucket=bucket, Key=f"big/{name}")["Body"].read()
    parts = -(-len(body) // (5 * 1024 * 1024))
    assert parts >= 2
    assert head["ETag"].strip('"').endswith(f"-{parts}")  # S3 marks multipart ETags so
    lines = body.decode().splitlines()
    assert len(lines) == 7_500
    assert json.loads(lines[-1])["kafka_offset"] == 7_499


def test_a_missing_bucket_is_reported_before_any_work(s3_settings):
    sink = open_sink("s3://no-such-bucket-f1pipe/lake", s3_settings, "jsonl")
    with pytest.raises(SinkError, match="cannot use s3://no-such-bucket-f1pipe"):
        sink.check()


def test_endpoint_down_is_retried_with_backoff_then_fails_with_one_line(moto_s3):
    settings = s3_test_settings(moto_s3, "lake")
    s3_client(settings).create_bucket(Bucket="lake")
    waits = []
    sink = S3Sink(settings, "lake", "p", retry=RetryPolicy(attempts=4, first_delay_s=0.05),
                  sleep=waits.append)
    _add(sink, [0])
    assert len(sink.flush(("f1.laps", 0))) == 1
    moto_s3.stop()
    _add(sink, [1, 2])
    with pytest.raises(SinkError) as failure:
        sink.flush(("f1.laps", 0))
    assert str(failure.value).startswith(
        "cannot store s3://lake/p/f1.laps/season=2024/round=6/session=R/f1.laps+0+0000000001"
        ".jsonl after 4 attempts")
    assert waits == [0.05, 0.1, 0.2]
    assert sink.pending(("f1.laps", 0)) == 2
    moto_s3.start()
    assert sink.flush(("f1.laps", 0)) == [
        "f1.laps/season=2024/round=6/session=R/f1.laps+0+0000000001.jsonl"]
    assert _keys(settings, "lake") == [
        "p/f1.laps/season=2024/round=6/session=R/f1.laps+0+0000000000.jsonl",
        "p/f1.laps/season=2024/round=6/session=R/f1.laps+0+0000000001.jsonl",
    ]


def test_an_unreachable_endpoint_is_named_as_such_not_as_a_missing_bucket(s3_settings):
    from f1pipe.lake.listing import list_objects
    from f1pipe.lake.url import LakeUrl
    from f1pipe.stack.ports import free_ports

    (port,) = free_ports(1)  # nothing listens there
    down = s3_settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{port}"})
    started = time.monotonic()
    with pytest.raises(SinkError, match=f"cannot reach the S3 endpoint http://127.0.0.1:{port}"):
        open_sink("s3://f1pipe-lake/x", down).check()
    with pytest.raises(F1PipeError, match="cannot reach the S3 endpoint"):
        list_objects(down, LakeUrl.parse("s3://f1pipe-lake/x"))
    assert time.monotonic() - started < 30
    with pytest.raises(F1PipeError, match="bucket 'no-such-bucket-f1pipe' does not exist"):
        list_objects(s3_settings, LakeUrl.parse("s3://no-such-bucket-f1pipe/x"))
