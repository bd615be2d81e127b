"""`f1pipe consume` input errors: one line saying what to fix, before any work."""

import os
import subprocess
import sys

import pytest

from f1pipe.errors import F1PipeError
from f1pipe.times import parse_duration_s as _seconds


def _consume(*args, **env):
    full_env = {**os.environ, "F1PIPE_ENV_FILE": "/nonexistent/.env",
                "KAFKA_BROKER": "127.0.0.1:9", **env}
    return subprocess.run([sys.executable, "-m", "f1pipe.cli", "consume", *args],
                          capture_output=True, text=True, env=full_env, timeout=60)


@pytest.mark.parametrize(("text", "seconds"), [("5s", 5.0), ("500ms", 0.5), ("2m", 120.0),
                                               ("1.5", 1.5), (" 10S ", 10.0)])
def test_durations_accept_seconds_milliseconds_and_minutes(text, seconds):
    assert _seconds(text, "--flush-interval") == seconds


@pytest.mark.parametrize("text", ["soon", "5x", "-1s", "0"])
def test_bad_durations_are_one_line_errors(text):
    with pytest.raises(F1PipeError, match="--until-idle"):
        _seconds(text, "--until-idle")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--until-idle", "ten"], 1, "error: --until-idle 'ten': expected a duration"),
    (["--format", "csv"], 2, "error: unknown lake format 'csv': use one of jsonl, parquet"),
    (["--batch-size", "0"], 2, "error: --batch-size must be at least 1, got 0"),
    (["--sink", "ftp://x"], 2, "error: lake 'ftp://x': expected file://PATH or s3://BUCKET"),
])
def test_bad_options_stop_with_one_line_and_no_traceback(args, code, message, tmp_path):
    result = _consume("--topics", "f1.laps", "--sink", f"file://{tmp_path}/lake", *args)
    assert result.returncode == code
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.strip().startswith(message)


@pytest.mark.integration
def test_a_topic_that_does_not_exist_is_named_in_the_error(kafka_bootstrap, topic_name, tmp_path):
    result = _consume("--topics", f"{topic_name}nope", "--sink", f"file://{tmp_path}/lake",
                      "--until-idle", "1s", KAFKA_BROKER=kafka_bootstrap,
                      F1PIPE_STATE_DIR=str(tmp_path / "state"))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"error: topic(s) {topic_name}nope do not exist: check "
                                     "--topics or produce to them first")


def test_an_unreachable_s3_endpoint_is_reported_before_consuming(tmp_path):
    result = _consume("--topics", "f1.laps", "--sink", "s3://lake/raw",
                      S3_ENDPOINT_URL="http://127.0.0.1:9", AWS_ACCESS_KEY_ID="k",
                      AWS_SECRET_ACCESS_KEY="s")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot use s3://lake: cannot reach the S3 endpoint "
                                    "http://127.0.0.1:9")
    assert len(result.stderr.strip().splitlines()) == 1
