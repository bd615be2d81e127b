"""Lake: object-store sinks (local folder, S3), object naming and file formats."""

from __future__ import annotations

from f1pipe.config import Settings
from f1pipe.lake.sink import BatchingSink, RetryPolicy, Sink, SinkError
from f1pipe.lake.url import LakeUrl

__all__ = ["BatchingSink", "RetryPolicy", "Sink", "SinkError", "open_sink"]


def open_sink(sink_url: str, settings: Settings, fmt: str = "jsonl",
              retry: RetryPolicy | None = None) -> BatchingSink:
    """The sink for ``file://PATH`` or ``s3://BUCKET/PREFIX`` writing format ``fmt``."""
    url = LakeUrl.parse(sink_url)
    if url.scheme == "file":
        from f1pipe.lake.folder import FolderSink

        return FolderSink(url.path, fmt=fmt, retry=retry)
    from f1pipe.lake.s3_sink import S3Sink

    return S3Sink(settings, url.bucket, url.prefix, fmt=fmt, retry=retry)
