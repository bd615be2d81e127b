"""Read side of the lake: list the data objects under a ``file://`` or ``s3://`` lake.

Each object comes back with its key relative to the lake root (``results/season=2024/...``),
its size in bytes and a fingerprint (the S3 ETag, or the MD5 of a local file), so the
warehouse can tell a new object from one it has loaded before.
"""

from __future__ import annotations

import hashlib
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


def _list_folder(lake: LakeUrl) -> list[LakeObject]:
    root = lake.path
    if not root.is_dir():
        raise F1PipeError(f"lake folder {root} does not exist: check --lake / F1PIPE_LAKE")
    paths = sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(DATA_SUFFIXES))
    return [
        LakeObject(
            key=p.relative_to(root).as_posix(),
            size=p.stat().st_size,
            etag=_md5(p),
            url=str(p.resolve()),
        )
        for p in paths
    ]


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    except PermissionError as exc:
        raise F1PipeError(f"lake {lake}: access denied ({exc}): check AWS_* settings") from None
    except OSError as exc:
        raise F1PipeError(f"lake {lake}: cannot list objects: {exc}") from None
    objects = [
        LakeObject(
            key=path.removeprefix(root).lstrip("/"),
            size=int(info.get("size") or 0),
            etag=str(info.get("ETag") or "").strip('"'),
            url=f"s3://{path}",
        )
        for path, info in found.items()
        if path.endswith(DATA_SUFFIXES)
    ]
    return sorted(objects, key=lambda o: o.key)
