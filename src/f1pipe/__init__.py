"""f1pipe: a Formula 1 data pipeline (FastF1 -> Kafka -> object store -> warehouse)."""

__version__ = "0.1.0"
