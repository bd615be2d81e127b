"""Kafka's own performance tools (``ProducerPerformance``, ``ConsumerPerformance``), run from
the broker's jars: the limits f1pipe's producer and consumer are compared with."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

from f1pipe.kafka.producer import JAVA_SETTINGS, PRODUCER_CONFIG

TOOLS_LOG_CONFIG = """status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
"""
SENT = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\)")


def _java(libs: Path, scratch: Path, main: str, args: list[str]) -> str:
    log_config = scratch / "log4j2-tools.properties"
    log_config.write_text(TOOLS_LOG_CONFIG)
    command = ["java", "-Xmx512m", f"-Dlog4j2.configurationFile={log_config}",
               "-cp", f"{libs}/*", f"org.apache.kafka.tools.{main}", *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{main} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def producer_perf(libs: Path, scratch: Path, bootstrap: str, topic: str, count: int,
                  payload_file: Path) -> dict:
    """``kafka-producer-perf-test`` with f1pipe's producer settings (those Java takes,
    batch size included) and real lap payloads
    (picked at random from ``payload_file``); returns records/s and MB/s."""
    props = [f"bootstrap.servers={bootstrap}",
             *(f"{k}={str(PRODUCER_CONFIG[k]).lower()}" for k in JAVA_SETTINGS)]
    out = _java(libs, scratch, "ProducerPerformance",
                ["--topic", topic, "--num-records", str(count), "--throughput", "-1",
                 "--payload-file", str(payload_file), "--producer-props", *props])
    sent = SENT.findall(out)[-1]
    return {"records": int(sent[0]), "per_s": float(sent[1]), "mb_per_s": float(sent[2])}


def consumer_perf(libs: Path, scratch: Path, bootstrap: str, topic: str, count: int) -> dict:
    """``kafka-consumer-perf-test`` reading ``count`` messages (read only, no sink).

    ``per_s`` includes the group join (as f1pipe's figure does); ``fetch_per_s`` does not.
    """
    out = _java(libs, scratch, "ConsumerPerformance",
                ["--bootstrap-server", bootstrap, "--topic", topic, "--messages", str(count),
                 "--timeout", "60000", "--group", f"bench-perf-{uuid.uuid4().hex[:8]}"])
    lines = [line for line in out.splitlines() if line.strip()]
    header = [h.strip() for h in lines[-2].split(",")]
    values = dict(zip(header, (v.strip() for v in lines[-1].split(",")), strict=True))
    return {"records": int(values["data.consumed.in.nMsg"]),
            "per_s": float(values["nMsg.sec"]), "mb_per_s": float(values["MB.sec"]),
            "fetch_per_s": float(values["fetch.nMsg.sec"])}
