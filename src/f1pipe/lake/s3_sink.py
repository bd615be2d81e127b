"""An S3 sink: one PUT per object, a multipart upload above a size."""

from __future__ import annotations

import contextlib

from f1pipe.config import Settings
from f1pipe.lake.s3 import bucket_problem, s3_client
from f1pipe.lake.sink import BatchingSink, SinkError

MULTIPART_THRESHOLD = 16 * 1024 * 1024  # bytes; objects above this go up in parts
PART_SIZE = 8 * 1024 * 1024  # bytes; S3's minimum part size is 5 MiB
PARALLEL_PUTS = 8  # objects in flight at once when several are flushed together


class S3Sink(BatchingSink):
    """Writes objects to ``s3://bucket/prefix/<name>``; retries are the sink's, not boto's."""

    parallel_puts = PARALLEL_PUTS

    def __init__(self, settings: Settings, bucket: str, prefix: str = "", *,
                 multipart_threshold: int = MULTIPART_THRESHOLD, part_size: int = PART_SIZE,
                 **kwargs):
        super().__init__(**kwargs)
        self.settings = settings
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        # One attempt per call: BatchingSink retries with its own backoff and reports it.
        self.client = s3_client(settings, retries={"total_max_attempts": 1, "mode": "standard"},
                                connect_timeout=5, read_timeout=30,
                                max_pool_connections=PARALLEL_PUTS)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def location(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.key(name)}"

    def check(self) -> None:
        problem = bucket_problem(self.settings, self.bucket)
        if problem:
            raise SinkError(f"cannot use s3://{self.bucket}: {problem}")

    def put_object(self, name: str, data: bytes) -> None:
        if len(data) <= self.multipart_threshold:
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data)
        else:
            self._put_multipart(self.key(name), data)

    def _put_multipart(self, key: str, data: bytes) -> None:
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
        upload_id = upload["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, len(data), self.part_size), start=1):
                chunk = data[start:start + self.part_size]
                reply = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                PartNumber=number, Body=chunk)
                parts.append({"PartNumber": number, "ETag": reply["ETag"]})
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            self._abort(key, upload_id)
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        # The original error is what matters; a failed abort leaves parts S3 lifecycle removes.
        with contextlib.suppress(Exception):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
