"""FastF1's cache and offline mode, set from :class:`~f1pipe.config.Settings`.

Two set-ups:

* normal: FastF1 caches parsed data and HTTP responses under ``fastf1_cache_dir``; with
  ``offline`` it answers only from that cache (pre-fetch once, replay without network).
* recorded: ``fastf1_recorded_dir`` is a folder holding ``http_cache/`` (requests-cache
  FileCache format, e.g. ``../shared/fastf1-cache``). FastF1 reads HTTP responses from it,
  never writes into it, never lets them expire, and keeps its parsed data in
  ``fastf1_cache_dir``.

FastF1's cache is process-wide state of the fastf1 package; this module is the one place
that touches it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fastf1
import requests_cache
from requests_cache.backends.filesystem import FileCache

from f1pipe.config import Settings
from f1pipe.errors import ConfigError

# The recorded cache keys include this header; requests' default may also offer br/zstd
# when those codecs are installed, which would turn every lookup into a cache miss.
RECORDED_ACCEPT_ENCODING = "gzip, deflate"


def configure_fastf1(settings: Settings) -> None:
    """Point FastF1 at the cache folders of ``settings`` and set offline mode."""
    cache_dir = Path(settings.fastf1_cache_dir).expanduser()
    cache_dir.mkdir(parents=True, exist_ok=True)
    recorded = settings.fastf1_recorded_dir
    if recorded is None:
        fastf1.Cache.configure(cache_dir=str(cache_dir))
    else:
        _configure_recorded(cache_dir, _recorded_http_cache(Path(recorded)))
    fastf1.Cache.offline_mode(settings.offline)


def _recorded_http_cache(recorded_dir: Path) -> Path:
    http_cache = recorded_dir.expanduser() / "http_cache"
    if not http_cache.is_dir():
        raise ConfigError(
            f"bad setting F1PIPE_FASTF1_RECORDED: {recorded_dir} has no http_cache/ folder"
        )
    return http_cache


def _configure_recorded(cache_dir: Path, http_cache: Path) -> None:
    fastf1.Cache.configure(cache_dir=str(cache_dir), _backend=FileCache(str(http_cache)))
    session = fastf1.Cache._requests_session_cached
    session.headers["Accept-Encoding"] = RECORDED_ACCEPT_ENCODING
    session.settings.expire_after = requests_cache.NEVER_EXPIRE
    session.settings.cache_control = False
    session.settings.allowable_codes = ()  # never write into the recorded folder


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]):
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(" ".join(record.getMessage().split()))


@contextmanager
def captured_fastf1_warnings() -> Iterator[list[str]]:
    """Collect FastF1's log warnings (and Python warnings) instead of printing them."""
    sink: list[str] = []
    logger = logging.getLogger("fastf1")
    saved = logger.handlers[:]
    logger.handlers = [_ListHandler(sink)]
    try:
        with warnings.catch_warnings(record=True) as python_warnings:
            warnings.simplefilter("always")
            yield sink
        sink.extend(str(w.message) for w in python_warnings)
    finally:
        logger.handlers = saved
