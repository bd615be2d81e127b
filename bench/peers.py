"""f1pipe's peers, measured beside it: quixstreams (the Python library a user would pick
instead) and plain confluent-kafka loops (the Python ceiling with the same settings).

Standalone on purpose (stdlib, confluent-kafka, quixstreams, boto3: no f1pipe import): the
quixstreams runs use ``.venv-bench`` (``make bench`` builds it from
``constraints-bench.txt``), the plain loops f1pipe's own ``.venv``.
``python bench/peers.py <kind> '<json args>'`` prints one JSON line of figures; the runner
samples the process's peak RSS.

Kinds: ``quix_produce``, ``plain_produce`` (pre-encoded lap messages from a JSON-lines file,
idempotent, acks=all, zstd, f1pipe's linger and batch size), ``quix_folder``, ``quix_s3``
(quixstreams ``LocalFileSink`` / ``S3FileSink``, JSON lines, a checkpoint every
``commit_every`` messages), ``plain_folder`` (batch consume, one file per partition batch,
fsync, synchronous commit: f1pipe's guarantee without validation).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path


def _payloads(path: str, count: int) -> list[bytes]:
    with open(path, "rb") as lines:
        return [line.rstrip(b"\n") for _, line in zip(range(count), lines, strict=False)]


def _key(value: bytes) -> bytes:
    """The lap's Kafka key (season-round-session-driver), as f1pipe's producer builds it."""
    m = json.loads(value)
    return f"{m['season']}-{m['round']}-{m['session']}-{m['driver_number']}".encode()


def quix_produce(args: dict) -> dict:
    from quixstreams import Application

    values = _payloads(args["payloads"], args["count"])
    keys = [_key(v) for v in values]
    app = Application(broker_address=args["broker"], producer_extra_config=args["producer"],
                      loglevel="WARNING", auto_create_topics=False)
    with app.get_producer() as producer:
        started = time.perf_counter()
        for key, value in zip(keys, values, strict=True):
            producer.produce(args["topic"], value=value, key=key)
        producer.flush()
        seconds = time.perf_counter() - started
    return {"records": len(values), "seconds": seconds, "per_s": len(values) / seconds}


def plain_produce(args: dict) -> dict:
    from confluent_kafka import Producer

    values = _payloads(args["payloads"], args["count"])
    keys = [_key(v) for v in values]
    delivered = [0]

    def on_delivery(err, _msg):
        if err is None:
            delivered[0] += 1

    producer = Producer({"bootstrap.servers": args["broker"], **args["producer"]})
    headers = [("schema", b"lap/1")]
    started = time.perf_counter()
    for number, (key, value) in enumerate(zip(keys, values, strict=True)):
        while True:
            try:
                producer.produce(args["topic"], value, key, headers=headers,
                                 on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        if number % 1000 == 0:
            producer.poll(0)
    producer.flush(60)
    seconds = time.perf_counter() - started
    return {"records": delivered[0], "seconds": seconds, "per_s": delivered[0] / seconds}


def _quix_sink_run(args: dict, sink) -> dict:
    from quixstreams import Application

    app = Application(broker_address=args["broker"],
                      consumer_group=f"bench-quix-{uuid.uuid4().hex[:8]}",
                      auto_offset_reset="earliest", commit_every=args["commit_every"],
                      commit_interval=args["flush_interval_s"], loglevel="WARNING",
                      auto_create_topics=False, use_changelog_topics=False)
    topic = app.topic(args["topic"], value_deserializer="json")
    app.dataframe(topic).sink(sink)
    started = time.perf_counter()
    app.run(count=args["count"], timeout=args["idle_s"], collect=False)
    seconds = time.perf_counter() - started
    return {"records": args["count"], "seconds": seconds, "per_s": args["count"] / seconds}


def quix_folder(args: dict) -> dict:
    from quixstreams.sinks.community.file.local import LocalFileSink

    return _quix_sink_run(args, LocalFileSink(directory=args["directory"], format="json"))


def quix_s3(args: dict) -> dict:
    from quixstreams.sinks.community.file.s3 import S3FileSink

    sink = S3FileSink(bucket=args["bucket"], directory=args["prefix"], format="json",
                      endpoint_url=os.environ["S3_ENDPOINT_URL"],
                      aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                      region_name=os.environ.get("AWS_REGION", "us-east-1"))
    return _quix_sink_run(args, sink)


def plain_folder(args: dict) -> dict:
    """Batch consume; per partition, ``batch`` raw values -> one file (fsync, rename), then
    a synchronous commit of that partition: f1pipe's guarantee, no validation."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": args["broker"], "enable.auto.commit": False,
                         "group.id": f"bench-plain-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([args["topic"]])
    root = Path(args["directory"])
    root.mkdir(parents=True, exist_ok=True)
    batches: dict[int, list] = {}
    done = 0
    started = time.perf_counter()

    def flush(partition: int) -> int:
        batch = batches.pop(partition)
        path = root / f"{args['topic']}+{partition}+{batch[0].offset():010d}.jsonl"
        temp = path.with_suffix(".tmp")
        with open(temp, "wb") as out:
            out.write(b"".join(m.value() + b"\n" for m in batch))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
        consumer.commit(offsets=[TopicPartition(args["topic"], partition,
                                                batch[-1].offset() + 1)], asynchronous=False)
        return len(batch)

    while done < args["count"]:
        for message in consumer.consume(1000, 1.0):
            if message.error():
                continue
            batch = batches.setdefault(message.partition(), [])
            batch.append(message)
            if len(batch) >= args["batch_size"]:
                done += flush(message.partition())
        if done + sum(map(len, batches.values())) >= args["count"]:
            for partition in list(batches):
                done += flush(partition)
    seconds = time.perf_counter() - started
    consumer.close()
    return {"records": done, "seconds": seconds, "per_s": done / seconds}


KINDS = {"quix_produce": quix_produce, "plain_produce": plain_produce,
         "quix_folder": quix_folder, "quix_s3": quix_s3, "plain_folder": plain_folder}


def main() -> None:
    kind, args = sys.argv[1], json.loads(sys.argv[2])
    started = time.monotonic()
    result = KINDS[kind](args)
    result["wall_s"] = time.monotonic() - started
    print(json.dumps(result))


if __name__ == "__main__":
    main()
