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


def bucket_problem(settings: Settings, bucket: str) -> str | None:
    """Why ``bucket`` cannot be used, as one line naming the real cause (endpoint not
    answering, no such bucket, access denied), or None when it can. Answers in seconds:
    the endpoint gets a 3 s connect timeout and no retries."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    where = settings.s3_endpoint_url or f"AWS S3 ({settings.aws_region})"
    client = s3_client(settings, connect_timeout=3, read_timeout=10,
                       retries={"total_max_attempts": 1, "mode": "standard"})
    try:
        client.head_bucket(Bucket=bucket)
    except EndpointConnectionError:
        return f"cannot reach the S3 endpoint {where}: start it or fix S3_ENDPOINT_URL"
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket"):
            return f"bucket {bucket!r} does not exist at {where}: create it or fix the lake URL"
        if code in ("403", "AccessDenied"):
            return f"access to bucket {bucket!r} denied at {where}: check the AWS_* credentials"
        return f"bucket {bucket!r} at {where}: {code or exc}"
    except BotoCoreError as exc:
        return f"S3 endpoint {where}: {' '.join(str(exc).split())}"
    return None
