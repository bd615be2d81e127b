"""Read side of the lake: list the data objects under a ``file://`` or ``s3://`` lake.

Each object comes back with its key relative to the lake root (``results/season=2024/...``),
its size in bytes and a fingerprint (the S3 ETag, or the MD5 of a local file), so the
warehouse can tell a new object from one it has loaded before.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.lake.url import LakeUrl

DATA_SUFFIXES = (".jsonl", ".parquet")


@dataclass(frozen=True)
class LakeObject:
    """One data object of the lake."""

    key: str  # relative to the lake root, "/"-separated
    size: int  # bytes
    etag: str  # S3 ETag (without quotes) or MD5 hex digest of a local file
    url: str  # where a reader finds it: an absolute local path or s3://bucket/key

    @property
    def format(self) -> str:
        """``json`` (JSON Lines) or ``parquet``."""
        return "parquet" if self.key.endswith(".parquet") else "json"


def list_objects(settings: Settings, lake: LakeUrl) -> list[LakeObject]:
    """All data objects (``.jsonl``, ``.parquet``) under the lake, sorted by key.

    Raises :class:`F1PipeError` when the folder or bucket does not exist.
    """
    if lake.scheme == "file":
        return _list_folder(lake)
    return _list_bucket(settings, lake)


def describe_objects(settings: Settings, lake: LakeUrl, keys: Iterable[str]
                     ) -> list[LakeObject]:
    """The data objects among ``keys`` (relative to the lake root), as :func:`list_objects`
    gives them, sorted by key, without listing the lake: a streaming loader told which
    objects were just written looks at those alone (listing a lake of a race's 100k objects
    takes seconds). A key that names nothing, a folder, or something ``list_objects`` would
    not list (outside the root, behind a linked folder) is left out."""
    wanted = sorted({k for k in keys if k.endswith(DATA_SUFFIXES)})
    if lake.scheme == "file":
        return _describe_files(lake, wanted)
    return _describe_bucket_keys(settings, lake, wanted)


def _describe_files(lake: LakeUrl, keys: list[str]) -> list[LakeObject]:
    real_root = os.path.realpath(lake.path)
    stat_at = time.time_ns()
    found = []
    for key in keys:
        path = Path(real_root, key)
        if key.startswith("/") or ".." in key.split("/") \
                or os.path.realpath(path.parent) != str(path.parent):
            continue  # not where a listing finds it (a linked folder, outside the root)
        try:
            info = path.stat()  # of the target, for a link (as the listing)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        url = str(path.resolve()) if path.is_symlink() else str(path)
        found.append((key, path, info, url))
    return _folder_objects(found, stat_at)


def _list_folder(lake: LakeUrl) -> list[LakeObject]:
    root = lake.path
    if not root.is_dir():
        raise F1PipeError(f"lake folder {root} does not exist: check --lake / F1PIPE_LAKE")
    real_root = os.path.realpath(root)
    listed_at = time.time_ns()  # before any stat: see _settled
    found = []
    for key, entry in sorted(_data_files(str(root), "")):
        info = entry.stat()  # of the target, for a link
        path = Path(entry.path)
        url = str(path.resolve()) if entry.is_symlink() else f"{real_root}/{key}"
        found.append((key, path, info, url))
    return _folder_objects(found, listed_at)


def _folder_objects(found: list[tuple[str, Path, os.stat_result, str]],
                    stat_at_ns: int) -> list[LakeObject]:
    """The lake objects of ``(key, path, stat, url)`` files stat'ed from ``stat_at_ns``."""
    etags = _md5_all([(path, info) for _, path, info, _ in found], stat_at_ns)
    return [LakeObject(key=key, size=info.st_size, etag=etag, url=url)
            for (key, _, info, url), etag in zip(found, etags, strict=True)]


HASH_THREADS = 2  # files hashed at once (hashlib lets go of the GIL on large reads)


def _md5_all(files: list[tuple[Path, os.stat_result]], stat_at_ns: int) -> list[str]:
    """The MD5 of each file, in order: those not in the cache hashed in
    :data:`HASH_THREADS` threads when there are several (a lake listed for the first time:
    the files are read at disk speed)."""
    etags = [_MD5_CACHE.get(_cache_key(path, info)) for path, info in files]
    missing = [n for n, etag in enumerate(etags) if etag is None]
    if len(missing) < 8:
        hashed = [_md5(*files[n], stat_at_ns) for n in missing]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="lake-md5") as pool:
            hashed = list(pool.map(lambda n: _md5(*files[n], stat_at_ns), missing))
    for n, etag in zip(missing, hashed, strict=True):
        etags[n] = etag
    return etags


def _data_files(folder: str, prefix: str) -> Iterator[tuple[str, os.DirEntry]]:
    """``(key, entry)`` of the data files under ``folder`` (one ``scandir`` per folder, not
    following links to folders, as ``Path.rglob``)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _data_files(entry.path, f"{prefix}{entry.name}/")
            elif entry.name.endswith(DATA_SUFFIXES) and entry.is_file():
                yield f"{prefix}{entry.name}", entry


# MD5 of the files read so far, by (path, inode, size, mtime, ctime), kept only for files
# last changed long enough ago (as git's "racy" index entries: a file's times have a
# coarse clock, so a file rewritten within a tick of the cached read could look unchanged).
# Linux stamps files from a clock of 1-10 ms ticks: SETTLED_FINE_NS; a file system keeping
# whole seconds (ext3, small-inode ext4; FAT keeps 2 s) shows times without a fraction:
# SETTLED_NS. A file written again afterwards has new times and is read again; an unchanged
# one is not, so listing a lake that grows all race long stays cheap.
_MD5_CACHE: dict[tuple, str] = {}
MD5_CACHE_MAX = 500_000
SETTLED_NS = 2_000_000_000
SETTLED_FINE_NS = 100_000_000


def _settled(info: os.stat_result, stat_at_ns: int) -> bool:
    """Whether any change to the file after its stat (``info``, taken at or after
    ``stat_at_ns``) gives it other times (see above)."""
    changed = max(info.st_mtime_ns, info.st_ctime_ns)
    coarse = info.st_mtime_ns % 1_000_000_000 == 0 and info.st_ctime_ns % 1_000_000_000 == 0
    return changed < stat_at_ns - (SETTLED_NS if coarse else SETTLED_FINE_NS)


def _cache_key(path: Path, info: os.stat_result) -> tuple:
    return str(path), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _md5(path: Path, info: os.stat_result, stat_at_ns: int) -> str:
    """The file's MD5 (hex); ``info``: its stat, taken at or after ``stat_at_ns``."""
    key = _cache_key(path, info)
    found = _MD5_CACHE.get(key)
    if found is not None:
        return found
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    found = digest.hexdigest()
    if _settled(info, stat_at_ns):
        if len(_MD5_CACHE) >= MD5_CACHE_MAX:
            _MD5_CACHE.clear()
        _MD5_CACHE[key] = found
    return found


def _list_bucket(settings: Settings, lake: LakeUrl) -> list[LakeObject]:
    from f1pipe.lake.s3 import bucket_problem, s3_filesystem

    problem = bucket_problem(settings, lake.bucket)
    if problem:
        raise F1PipeError(f"lake {lake}: {problem}")
    fs = s3_filesystem(settings)
    root = f"{lake.bucket}/{lake.prefix}".rstrip("/")
    try:
        found = fs.find(root, detail=True)
    except FileNotFoundError:
        raise F1PipeError(f"lake {lake}: bucket {lake.bucket!r} vanished while listing") from None
    except OSError as exc:
        raise _bucket_error(lake, "cannot list objects", exc) from None
    objects = [_bucket_object(root, path, info) for path, info in found.items()
               if path.endswith(DATA_SUFFIXES)]
    return sorted(objects, key=lambda o: o.key)


def _bucket_object(root: str, path: str, info: dict) -> LakeObject:
    """The lake object at ``path`` (``bucket/prefix/key``) from its s3fs details."""
    return LakeObject(key=path.removeprefix(root).lstrip("/"), size=int(info.get("size") or 0),
                      etag=str(info.get("ETag") or "").strip('"'), url=f"s3://{path}")


def _bucket_error(lake: LakeUrl, doing: str, exc: OSError) -> F1PipeError:
    if isinstance(exc, PermissionError):
        return F1PipeError(f"lake {lake}: access denied ({exc}): check AWS_* settings")
    return F1PipeError(f"lake {lake}: {doing}: {exc}")


def _describe_bucket_keys(settings: Settings, lake: LakeUrl, keys: list[str]
                          ) -> list[LakeObject]:
    """One HEAD per key (not the listing cache: an object may have just been rewritten)."""
    from f1pipe.lake.s3 import s3_filesystem

    fs = s3_filesystem(settings)
    root = f"{lake.bucket}/{lake.prefix}".rstrip("/")
    objects = []
    for key in keys:
        try:
            info = fs.info(f"{root}/{key}", refresh=True)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise _bucket_error(lake, f"cannot look at {key}", exc) from None
        if info.get("type") != "directory":
            objects.append(_bucket_object(root, f"{root}/{key}", info))
    return objects
