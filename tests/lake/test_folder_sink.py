import json
import os
import time

import pytest

from f1pipe.lake import RetryPolicy, SinkError, open_sink
from f1pipe.lake.folder import FolderSink
from f1pipe.lake.naming import UnsafeNameError
from tests.lake.laps import lake_record, lap_message

FAST = RetryPolicy(attempts=3, first_delay_s=0.01)


def _lake_files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _add(sink, offsets, session="R", partition=0):
    for offset in offsets:
        sink.add(lake_record(lap_message(offset, session=session), partition=partition,
                             offset=offset))


def test_flush_writes_one_object_per_session_named_by_its_own_first_offset(tmp_path):
    sink = open_sink(f"file://{tmp_path}", settings=None, fmt="jsonl")
    assert isinstance(sink, FolderSink)
    _add(sink, [10, 11], session="Q")
    _add(sink, [12, 13, 14], session="R")
    _add(sink, [15], session="Q")
    assert sink.pending(("f1.laps", 0)) == 6
    names = sink.flush(("f1.laps", 0))
    assert names == [
        "f1.laps/season=2024/round=6/session=Q/f1.laps+0+0000000010.jsonl",
        "f1.laps/season=2024/round=6/session=R/f1.laps+0+0000000012.jsonl",
    ]
    assert _lake_files(tmp_path) == sorted(names)
    offsets = [json.loads(line)["kafka_offset"]
               for line in (tmp_path / names[0]).read_text().splitlines()]
    assert offsets == [10, 11, 15]
    assert sink.pending(("f1.laps", 0)) == 0
    assert sink.flush(("f1.laps", 0)) == []


def test_batches_are_kept_per_kafka_partition(tmp_path):
    sink = FolderSink(tmp_path)
    _add(sink, [0, 1], partition=0)
    _add(sink, [0], partition=2)
    assert sink.flush(("f1.laps", 2)) == [
        "f1.laps/season=2024/round=6/session=R/f1.laps+2+0000000000.jsonl"]
    assert sink.pending(("f1.laps", 0)) == 2
    sink.discard(("f1.laps", 0))
    assert sink.flush(("f1.laps", 0)) == []
    assert len(_lake_files(tmp_path)) == 1


def test_rewriting_a_batch_replaces_the_object_and_leaves_no_temp_file(tmp_path):
    sink = FolderSink(tmp_path, fmt="parquet")
    _add(sink, range(5))
    [name] = sink.flush(("f1.laps", 0))
    first = (tmp_path / name).read_bytes()
    inode = os.stat(tmp_path / name).st_ino
    _add(sink, range(5))
    assert sink.flush(("f1.laps", 0)) == [name]
    assert _lake_files(tmp_path) == [name]
    assert (tmp_path / name).read_bytes() == first
    assert os.stat(tmp_path / name).st_ino != inode  # a new file was renamed into place


def test_a_disk_error_is_retried_and_the_write_succeeds_once_it_clears(tmp_path):
    (tmp_path / "f1.laps").write_text("a file where the topic folder must go")
    waits = []

    def clear_after_first_wait(seconds):
        waits.append(seconds)
        (tmp_path / "f1.laps").unlink(missing_ok=True)

    sink = FolderSink(tmp_path, retry=FAST, sleep=clear_after_first_wait)
    _add(sink, [0])
    assert len(sink.flush(("f1.laps", 0))) == 1
    assert waits == [0.01]


def test_retries_run_out_with_a_one_line_error_and_the_batch_is_kept(tmp_path):
    (tmp_path / "f1.laps").write_text("blocks the topic folder")
    waits = []
    sink = FolderSink(tmp_path, retry=FAST, sleep=waits.append)
    _add(sink, [0, 1])
    with pytest.raises(SinkError) as failure:
        sink.flush(("f1.laps", 0))
    assert "after 3 attempts" in str(failure.value)
    assert "\n" not in str(failure.value)
    assert waits == [0.01, 0.02]
    assert sink.pending(("f1.laps", 0)) == 2


def test_check_reports_a_lake_folder_that_cannot_be_created(tmp_path):
    (tmp_path / "taken").write_text("")
    with pytest.raises(SinkError, match="cannot create the lake folder"):
        FolderSink(tmp_path / "taken" / "lake").check()


@pytest.mark.parametrize("name", ["../outside.jsonl", "f1.laps/../../outside.jsonl",
                                  "/tmp/outside.jsonl", "a/\x00.jsonl", "."])
def test_the_folder_sink_refuses_a_path_outside_the_lake_at_once(tmp_path, name):
    root = tmp_path / "lake"
    sink = FolderSink(root, retry=FAST)
    sink.check()
    with pytest.raises(UnsafeNameError, match="resolves outside the lake folder"):
        sink._put_with_retry(name, b"{}\n")
    assert _lake_files(tmp_path) == []


def test_opening_the_sink_removes_orphan_temp_files_older_than_a_minute(tmp_path):
    folder = tmp_path / "f1.laps" / "season=2024" / "round=6" / "session=R"
    folder.mkdir(parents=True)
    old = folder / ".f1.laps+0+0000000000.jsonl.4242.tmp"
    fresh = folder / ".f1.laps+0+0000000100.jsonl.4243.tmp"  # another consumer, writing now
    other = folder / "notes.tmp"  # not a sink temp file
    for path in (old, fresh, other):
        path.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(other, (an_hour_ago, an_hour_ago))

    FolderSink(tmp_path).check()

    assert not old.exists()
    assert fresh.exists() and other.exists()
