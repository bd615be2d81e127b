"""Streaming landing: the live topics -> lake -> warehouse, continuously, in one process.

The project's lake consumer (:class:`~f1pipe.kafka.consumer.LakeConsumer`) runs with a
short flush interval while a loader loop calls the project's loader
(:func:`f1pipe.warehouse.load`) as soon as the consumer has written an object (at the latest
every ``load_every_s``), so a replayed or live update is queryable in the warehouse within
about a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from f1pipe.config import Settings
from f1pipe.errors import ConfigError, F1PipeError
from f1pipe.kafka.consumer import ConsumeOptions, ConsumeSummary, LakeConsumer
from f1pipe.kafka.topics import ensure_topics, live_topic, snapshot_topic, topic_for
from f1pipe.lake import open_sink
from f1pipe.sources.live_timing import FEED_TOPICS
from f1pipe.sources.telemetry import TELEMETRY_TOPICS
from f1pipe.warehouse import load
from f1pipe.warehouse.held import HeldWarehouse
from f1pipe.warehouse.loader import LoadMemory, LoadSummary

MAX_FLUSH_INTERVAL_S = 1.0
LOAD_RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)
# The loader loop keeps its warehouse connection for the loads of this long, then closes it
# for one pause (readers of a DuckDB file get in then): see f1pipe.warehouse.held.
HOLD_WAREHOUSE_S = 1.0
# Between two listings of the whole lake, the loader loop loads the objects announced to it.
LIST_EVERY_S = 30.0
log = logging.getLogger(__name__)


def landing_topics(settings: Settings) -> list[str]:
    """Every live feed topic FastF1 knows, the telemetry datasets' topics (``car_data``,
    ``location``), plus the tower's snapshot topic."""
    telemetry = [topic_for(name, settings) for name, *_ in TELEMETRY_TOPICS.values()]
    return ([live_topic(t, settings) for t in FEED_TOPICS.values()] + telemetry
            + [snapshot_topic(settings)])


@dataclass(frozen=True)
class LandingOptions:
    flush_interval_s: float = 0.5  # lake consumer: max age of a batch, seconds (<= 1)
    load_every_s: float = 0.5  # readers' pause after a release; longest wait between loads
    hold_warehouse_s: float = HOLD_WAREHOUSE_S  # one connection for the loads of this long
    # The whole lake is listed this often (objects of other writers: --workers processes).
    list_every_s: float = LIST_EVERY_S
    until_idle_s: float | None = None  # stop after this long without a new message
    batch_size: int = 1000
    group: str = "f1pipe-live-landing"

    def check(self) -> None:
        if not 0 < self.flush_interval_s <= MAX_FLUSH_INTERVAL_S:
            raise ConfigError(f"--flush-interval must be more than 0 and at most "
                              f"{MAX_FLUSH_INTERVAL_S:g} s, got {self.flush_interval_s:g}")
        if self.load_every_s <= 0:
            raise ConfigError(f"--load-every must be more than 0, got {self.load_every_s:g}")


class LoaderLoop:
    """Loads the lake into the warehouse again and again until stopped (then once more).

    The objects announced to it (:meth:`nudge`: the landing's consumer names each object as
    it stores it) are loaded as soon as they are announced, looked at alone; the whole lake
    is listed by the first and last load and every ``list_every_s`` (objects of other
    writers, anything missed): listing a race's 100k objects takes seconds.

    A failed load (e.g. another process holds the DuckDB file's lock for a moment) is tried
    again after 0.5, 1, 2 and 4 s; if it still fails, :meth:`run` raises at once. The loads
    of ``hold_s`` seconds share one warehouse connection (:class:`HeldWarehouse`); it is
    closed after them, for one whole pause (``every_s``), and when the loop ends.
    """

    def __init__(self, settings: Settings, every_s: float,
                 on_load: Callable[[LoadSummary], None] | None = None,
                 retry_delays_s: tuple[float, ...] = LOAD_RETRY_DELAYS_S,
                 on_retry: Callable[[str], None] | None = None,
                 hold_s: float = HOLD_WAREHOUSE_S, list_every_s: float = LIST_EVERY_S):
        self.settings = settings
        self.held = HeldWarehouse(settings, settings.warehouse, hold_s)
        self.every_s = every_s
        self.list_every_s = list_every_s
        self.on_load = on_load
        self.retry_delays_s = retry_delays_s
        self.on_retry = on_retry or log.warning
        self.loads = 0
        self.rows = 0
        self.retries = 0
        self.listings = 0  # loads that listed the whole lake
        self.memory = LoadMemory()  # what earlier loads recorded: a load finding nothing new
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by stop() and nudge()
        self._written: set[str | None] = set()  # objects announced by nudge() meanwhile
        self._lock = threading.Lock()
        self._released = False  # the last load closed the connection: readers' turn
        self._listed_at: float | None = None

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def nudge(self, key: str | None = None) -> None:
        """Object ``key`` (relative to the lake root) is in the lake now; None: something
        is, list the lake. The next load starts at once (after a load that let the
        warehouse go: at the end of the readers' pause). Safe from any thread."""
        with self._lock:
            self._written.add(key)
        self._wake.set()

    def run(self) -> None:
        if self.settings.lake.startswith("file://"):  # the loader wants the folder to exist
            Path(self.settings.lake.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        try:
            scope: set[str] | None = None
            while not self._stop.is_set():
                if scope is None or scope:
                    self.load_with_retry(scope)
                scope = self._pause()
            self.load_with_retry()
        finally:
            self.held.close()

    def _pause(self) -> set[str] | None:
        """Wait ``every_s``, or until an object is announced (never less right after a
        release); returns the keys of the objects to load next (maybe none), or None when
        the next load lists the lake."""
        if self._released:
            self._stop.wait(self.every_s)
        else:
            self._wake.wait(self.every_s)
        with self._lock:
            self._wake.clear()
            announced, self._written = self._written, set()
        due = self._listed_at is None or time.monotonic() - self._listed_at >= self.list_every_s
        if due or None in announced:
            return None
        return {key for key in announced if key is not None}

    def load_with_retry(self, only: set[str] | None = None) -> LoadSummary:
        """:meth:`load_once`, tried again after each of ``retry_delays_s``; the last
        failure is raised."""
        for delay in [*self.retry_delays_s, None]:
            try:
                return self.load_once(only)
            except F1PipeError as exc:
                if delay is None:
                    raise
                self.retries += 1
                self.on_retry(f"load failed ({exc}); retrying in {delay:g} s")
                time.sleep(delay)
        raise AssertionError("unreachable")

    def load_once(self, only: set[str] | None = None) -> LoadSummary:
        """One load: of the objects ``only`` names, or of the whole lake (listed) if None."""
        self.held.wait_closed()  # the last release's close, and its note in the memory
        if only is None:
            self._listed_at = time.monotonic()
            self.listings += 1
        summary = load(self.settings, self.settings.lake, self.settings.warehouse,
                       memory=self.memory, held=self.held, count_rows=False, only=only)
        self.loads += 1
        self.rows += summary.rows_total
        if self.on_load:
            self.on_load(summary)
        # Closed while the loop pauses; the file as that close leaves it is noted then.
        self._released = self.held.release_if_due(
            then=lambda: self.memory.after_close(self.settings.warehouse))
        return summary


def lake_consumer(settings: Settings, topics: list[str], options: LandingOptions,
                  group: str | None = None,
                  on_stored: Callable[[str], None] | None = None) -> LakeConsumer:
    """The project's lake consumer with the landing's short flush interval; ``on_stored``
    is called as each object is written (e.g. :meth:`LoaderLoop.nudge`)."""
    consume_options = ConsumeOptions(batch_size=options.batch_size,
                                     flush_interval_s=options.flush_interval_s,
                                     until_idle_s=options.until_idle_s,
                                     group=group or options.group)
    return LakeConsumer(settings, topics, open_sink(settings.lake, settings), consume_options,
                        on_progress=lambda _: None, on_stored=on_stored)


def run_landing(settings: Settings, options: LandingOptions,
                on_load: Callable[[LoadSummary], None] | None = None,
                failure: Callable[[], str | None] | None = None
                ) -> tuple[ConsumeSummary, LoaderLoop]:
    """Consume the live topics into the lake and load them until stopped (Ctrl-C) or idle.

    ``failure``: polled every second (e.g. the other consumer processes of ``land
    --workers``); a line from it stops the landing, which then raises it.
    Returns the consumer's summary and the loader loop (loads done, rows landed).
    """
    options.check()
    topics = landing_topics(settings)
    ensure_topics(settings, topics)
    loader = LoaderLoop(settings, options.load_every_s, on_load,
                        hold_s=options.hold_warehouse_s, list_every_s=options.list_every_s)
    consumer = lake_consumer(settings, topics, options, on_stored=loader.nudge)
    errors: list[str] = []
    # A loader that gives up stops the consumer at once: the command exits non-zero now,
    # not at Ctrl-C while the lake grows and the warehouse does not.
    thread = threading.Thread(target=catching(loader.run, "loader", errors,
                                              on_error=consumer.stop), daemon=True)
    thread.start()
    done = threading.Event()
    if failure is not None:
        threading.Thread(target=_watch, args=(failure, done, errors, consumer.stop),
                         daemon=True).start()
    try:
        summary = consumer.run()  # main thread: Ctrl-C / SIGTERM stop it cleanly
    finally:
        done.set()
        loader.stop()
        thread.join()
    if errors:
        raise F1PipeError(errors[0])
    return summary, loader


def _watch(failure: Callable[[], str | None], done: threading.Event, errors: list[str],
           stop: Callable[[], None]) -> None:
    while not done.wait(1.0):
        reason = failure()
        if reason:
            errors.append(reason)
            stop()
            return


def catching(work: Callable[[], object], name: str, errors: list[str],
             on_error: Callable[[], None] | None = None) -> Callable[[], None]:
    """``work`` for a thread: a failure is kept as one line for the caller to raise, and
    ``on_error`` is called (e.g. to stop the other threads)."""

    def run() -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - reported by the calling thread
            errors.append(f"{name} failed: {' '.join(str(exc).split())}")
            if on_error:
                on_error()

    return run


def wait_for(done: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``done`` every 0.1 s for up to ``timeout_s``; returns its last answer."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True
