"""S3 clients built from settings (endpoint configurable: AWS, SeaweedFS, MinIO, moto)."""

from __future__ import annotations

from f1pipe.config import Settings


def _credentials(settings: Settings) -> dict:
    secret = settings.aws_secret_access_key
    return {
        "aws_access_key_id": settings.aws_access_key_id,
        "aws_secret_access_key": secret.get_secret_value() if secret else None,
    }


def s3_client(settings: Settings, **config):
    """A boto3 S3 client; ``config`` goes to ``botocore.config.Config`` (retries, timeouts)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_region,
        config=Config(**config) if config else None,
        **_credentials(settings),
    )


def s3_filesystem(settings: Settings):
    """An s3fs filesystem (for DuckDB ``register_filesystem`` and listing)."""
    import s3fs

    creds = _credentials(settings)
    return s3fs.S3FileSystem(
        key=creds["aws_access_key_id"],
        secret=creds["aws_secret_access_key"],
        endpoint_url=settings.s3_endpoint_url,
        client_kwargs={"region_name": settings.aws_region},
    )
