"""Lake locations: ``file://PATH`` (local folder) or ``s3://BUCKET/PREFIX``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from f1pipe.errors import ConfigError


@dataclass(frozen=True)
class LakeUrl:
    scheme: str  # "file" or "s3"
    bucket: str | None  # s3 only
    prefix: str  # s3: key prefix without slashes at the ends; file: the folder path

    @classmethod
    def parse(cls, url: str) -> LakeUrl:
        if url.startswith("file://"):
            return cls("file", None, url.removeprefix("file://") or ".")
        if url.startswith("s3://"):
            bucket, _, prefix = url.removeprefix("s3://").partition("/")
            if not bucket:
                raise ConfigError(f"lake {url!r} names no bucket: use s3://BUCKET/PREFIX")
            return cls("s3", bucket, prefix.strip("/"))
        raise ConfigError(f"lake {url!r}: expected file://PATH or s3://BUCKET/PREFIX")

    @property
    def path(self) -> Path:
        """The local folder (file lakes only)."""
        return Path(self.prefix)

    def key(self, relative: str) -> str:
        """The S3 key (or, for a folder, the relative path) of an object under the lake."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.scheme == "s3" else f"file://{self.prefix}"
