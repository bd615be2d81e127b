"""Lake: object-store sinks (local folder, S3), object naming and file formats."""
