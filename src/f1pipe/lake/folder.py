"""A local-folder sink: each object goes to a temp file, is fsynced, then renamed in place.

A write killed between the temp file and the rename leaves ``.<name>.<pid>.tmp`` behind;
opening the sink (:meth:`FolderSink.check`, before any work) removes such files once they
are older than :data:`ORPHAN_TMP_AGE_S`. Age, not the PID, decides: two consumers may share
a lake (even from two machines over a network folder, where a PID means nothing), and a
live write keeps its temp file for milliseconds to seconds, never a minute.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

from f1pipe.lake.naming import UnsafeNameError
from f1pipe.lake.sink import BatchingSink, SinkError

log = logging.getLogger(__name__)

ORPHAN_TMP_AGE_S = 60.0
PARALLEL_WRITES = 4  # objects written (and fsynced) at once when a flush has several
TMP_NAME = re.compile(r"\..+\.\d+\.tmp")  # what put_object names its temp files


class FolderSink(BatchingSink):
    """Writes objects under ``root``; a reader never sees a half-written file. A flush of
    several objects writes them in parallel: each waits for its own fsync, not in a line."""

    parallel_puts = PARALLEL_WRITES

    def __init__(self, root: Path | str, **kwargs):
        super().__init__(**kwargs)
        self.root = Path(root)
        self._safe_folders: dict[str, Path] = {}  # object folder -> its resolved path

    def location(self, name: str) -> str:
        return f"file://{self.root / name}"

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"cannot create the lake folder {self.root}: {exc.strerror}") from None
        if not os.access(self.root, os.W_OK):
            raise SinkError(f"the lake folder {self.root} is not writable")
        removed = remove_orphan_temp_files(self.root)
        if removed:
            log.info("removed %d orphan temp file(s) of killed writes under %s",
                     removed, self.root)

    def put_object(self, name: str, data: bytes) -> None:
        target = self.inside_root(name)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(temp, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            self._safe_folders.pop(name.rpartition("/")[0], None)  # made again on the retry
            raise
        _fsync_dir(target.parent)

    def inside_root(self, name: str) -> Path:
        """The path of object ``name``, its folder created; :class:`UnsafeNameError` if it
        resolves outside the lake (never retried: the name would not change). A folder is
        resolved (symbolic links followed) once, then remembered."""
        folder, _, file = name.rpartition("/")
        if not file or file in (".", "..") or "\x00" in name:
            raise UnsafeNameError(f"refusing to write {name!r}: it resolves outside the lake "
                                  f"folder {self.root}")
        safe = self._safe_folders.get(folder)
        if safe is None:
            safe = self._resolve_folder(name, folder)
        return safe / file

    def _resolve_folder(self, name: str, folder: str) -> Path:
        root = self.root.resolve()
        target = (root / folder).resolve() if folder else root
        if not target.is_relative_to(root):
            raise UnsafeNameError(f"refusing to write {name!r}: it resolves outside the lake "
                                  f"folder {root}")
        target.mkdir(parents=True, exist_ok=True)
        target = target.resolve()  # a link raced in while creating it
        if not target.is_relative_to(root):
            raise UnsafeNameError(f"refusing to write {name!r}: it resolves outside the lake "
                                  f"folder {root}")
        if len(self._safe_folders) < 10_000:
            self._safe_folders[folder] = target
        return target


def remove_orphan_temp_files(root: Path, older_than_s: float = ORPHAN_TMP_AGE_S) -> int:
    """Delete the sink's temp files under ``root`` not modified for ``older_than_s``;
    returns how many were removed."""
    cutoff = time.time() - older_than_s
    removed = 0
    for path in root.rglob("*.tmp"):
        try:
            if TMP_NAME.fullmatch(path.name) and path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another consumer removed it first
            continue
    return removed


def _fsync_dir(folder: Path) -> None:
    # The rename is only durable once the directory entry itself is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
