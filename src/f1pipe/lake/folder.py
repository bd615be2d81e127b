"""A local-folder sink: each object goes to a temp file, is fsynced, then renamed in place."""

from __future__ import annotations

import os
from pathlib import Path

from f1pipe.lake.sink import BatchingSink, SinkError


class FolderSink(BatchingSink):
    """Writes objects under ``root``; a reader never sees a half-written file."""

    def __init__(self, root: Path | str, **kwargs):
        super().__init__(**kwargs)
        self.root = Path(root)

    def location(self, name: str) -> str:
        return f"file://{self.root / name}"

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"cannot create the lake folder {self.root}: {exc.strerror}") from None
        if not os.access(self.root, os.W_OK):
            raise SinkError(f"the lake folder {self.root} is not writable")

    def put_object(self, name: str, data: bytes) -> None:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(temp, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename is only durable once the directory entry itself is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
