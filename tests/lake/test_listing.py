"""Listing a lake's data objects: key, size and fingerprint, for folders and buckets."""

from __future__ import annotations

import hashlib

import pytest

from f1pipe.config import load_settings
from f1pipe.errors import F1PipeError
from f1pipe.lake.listing import describe_objects, list_objects
from f1pipe.lake.s3 import s3_client
from f1pipe.lake.url import LakeUrl

KEYS = {
    "f1.laps/season=2018/round=4/session=R/f1.laps+0+0000000000.jsonl": b'{"a":1}\n',
    "f1.laps/season=2018/round=4/session=R/f1.laps+1+0000000200.parquet": b"PAR1...PAR1",
    "f1_race_data/season=2024/round=2/session=R/f1_race_data+2+0000000000.jsonl": b"{}\n{}\n",
}
NOT_DATA = {"f1.laps/season=2018/round=4/session=R/.tmp-upload": b"x", "README.txt": b"x"}


def test_folder_lake_lists_data_objects_with_md5(tmp_path):
    for key, body in {**KEYS, **NOT_DATA}.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(body)

    objects = list_objects(load_settings(), LakeUrl.parse(f"file://{tmp_path}"))

    assert [o.key for o in objects] == sorted(KEYS)
    for obj in objects:
        assert obj.size == len(KEYS[obj.key])
        assert obj.etag == hashlib.md5(KEYS[obj.key]).hexdigest()
        assert obj.url == str((tmp_path / obj.key).resolve())
    assert [o.format for o in objects] == ["json", "parquet", "json"]


def test_folder_lake_fingerprint_changes_when_rewritten(tmp_path):
    path = tmp_path / "t/season=1/round=1/session=R/t+0+0000000000.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{}\n")
    lake = LakeUrl.parse(f"file://{tmp_path}")
    before = list_objects(load_settings(), lake)[0].etag
    path.write_bytes(b'{"b":2}\n')

    assert list_objects(load_settings(), lake)[0].etag != before


def test_named_objects_are_described_as_the_listing_has_them_and_nothing_else(tmp_path):
    """describe_objects: the named data objects exactly as list_objects gives them; names of
    nothing, of non-data files, outside the root or behind a linked folder are left out."""
    import os

    lake_dir = tmp_path / "lake"
    for key, body in {**KEYS, **NOT_DATA}.items():
        (lake_dir / key).parent.mkdir(parents=True, exist_ok=True)
        (lake_dir / key).write_bytes(body)
    outside = tmp_path / "outside" / "t+0+0000000000.jsonl"
    outside.parent.mkdir()
    outside.write_bytes(b"{}\n")
    os.symlink(outside.parent, lake_dir / "linked")
    lake = LakeUrl.parse(f"file://{lake_dir}")
    named = [*KEYS, *NOT_DATA, "f1.laps/absent+0+0000000000.jsonl", str(outside),
             "../outside/t+0+0000000000.jsonl", "linked/t+0+0000000000.jsonl"]

    assert describe_objects(load_settings(), lake, named) == list_objects(load_settings(), lake)
    assert describe_objects(load_settings(), lake, []) == []


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(F1PipeError, match="lake folder .* does not exist"):
        list_objects(load_settings(), LakeUrl.parse(f"file://{tmp_path / 'absent'}"))


@pytest.mark.integration
def test_bucket_lake_lists_keys_under_the_prefix_with_etags(s3_settings):
    client = s3_client(s3_settings)
    bucket = s3_settings.s3_bucket
    for key, body in {**KEYS, **NOT_DATA}.items():
        client.put_object(Bucket=bucket, Key=f"lake/{key}", Body=body)
    client.put_object(Bucket=bucket, Key="elsewhere/t+0+0000000000.jsonl", Body=b"{}\n")

    objects = list_objects(s3_settings, LakeUrl.parse(f"s3://{bucket}/lake"))

    assert [o.key for o in objects] == sorted(KEYS)
    for obj in objects:
        head = client.head_object(Bucket=bucket, Key=f"lake/{obj.key}")
        assert obj.size == len(KEYS[obj.key])
        assert obj.etag == head["ETag"].strip('"')
        assert obj.url == f"s3://{bucket}/lake/{obj.key}"


@pytest.mark.integration
def test_named_bucket_objects_are_described_fresh(s3_settings):
    """One HEAD per name: a rewritten object shows its new ETag (no listing cache), a name
    of nothing is left out."""
    client = s3_client(s3_settings)
    bucket = s3_settings.s3_bucket
    for key, body in KEYS.items():
        client.put_object(Bucket=bucket, Key=f"lake/{key}", Body=body)
    lake = LakeUrl.parse(f"s3://{bucket}/lake")
    listed = list_objects(s3_settings, lake)
    assert describe_objects(s3_settings, lake, [*KEYS, "f1.laps/absent.jsonl"]) == listed

    first = sorted(KEYS)[0]
    client.put_object(Bucket=bucket, Key=f"lake/{first}", Body=b'{"rewritten":1}\n')
    [again] = describe_objects(s3_settings, lake, [first])
    assert again.etag == hashlib.md5(b'{"rewritten":1}\n').hexdigest() != listed[0].etag


@pytest.mark.integration
def test_missing_bucket_is_a_clear_error(s3_settings):
    with pytest.raises(F1PipeError, match="bucket 'absent-bucket-x' does not exist"):
        list_objects(s3_settings, LakeUrl.parse("s3://absent-bucket-x/lake"))


@pytest.mark.integration
def test_empty_prefix_lists_nothing(s3_settings):
    assert list_objects(s3_settings, LakeUrl.parse(f"s3://{s3_settings.s3_bucket}/lake")) == []


def test_folder_lake_fingerprint_of_a_settled_file_is_remembered_until_it_changes(tmp_path):
    """A file last changed long enough ago is hashed once; written again in place with the same
    size (same inode), it is hashed again."""
    import os

    from f1pipe.lake import listing

    path = tmp_path / "t/season=1/round=1/session=R/t+0+0000000000.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"a":1}\n')
    os.utime(path, ns=(1, 1))  # mtime long ago (ctime stays now: not settled yet)
    lake = LakeUrl.parse(f"file://{tmp_path}")
    first = list_objects(load_settings(), lake)[0].etag
    assert not any(k[0] == str(path) for k in listing._MD5_CACHE)  # ctime is fresh

    settled = listing.SETTLED_NS, listing.SETTLED_FINE_NS
    listing.SETTLED_NS = listing.SETTLED_FINE_NS = -10**18  # every file counts as settled
    try:
        assert list_objects(load_settings(), lake)[0].etag == first
        assert any(k[0] == str(path) for k in listing._MD5_CACHE)
        path.write_bytes(b'{"b":2}\n')  # same size, same inode, new times
        assert list_objects(load_settings(), lake)[0].etag == \
            hashlib.md5(b'{"b":2}\n').hexdigest()
    finally:
        listing.SETTLED_NS, listing.SETTLED_FINE_NS = settled


def test_a_file_is_settled_after_a_tick_or_two_seconds_on_a_whole_second_file_system():
    """Times with a fraction of a second (Linux's 1-10 ms clock): cached once 0.1 s old;
    whole-second times (ext3, FAT) only once 2 s old. Judged from when the stat was taken."""
    from types import SimpleNamespace

    from f1pipe.lake.listing import _settled

    def info(changed_ns: int) -> SimpleNamespace:  # the two times _settled reads
        return SimpleNamespace(st_mtime_ns=changed_ns, st_ctime_ns=changed_ns)

    second = 1_000_000_000
    stat_at = 1_000 * second
    assert _settled(info(stat_at - second // 5 + 1), stat_at)  # 0.2 s, fine times
    assert not _settled(info(stat_at - second // 20 + 1), stat_at)  # 0.05 s
    assert not _settled(info(stat_at - second), stat_at)  # whole seconds: 1 s is not enough
    assert _settled(info(stat_at - 3 * second), stat_at)
