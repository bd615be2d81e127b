"""What the real-time commands print: replay progress and summary, latency figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from f1pipe.live.replay import ReplayRequest, ReplaySummary
from f1pipe.times import format_session_time


def replay_progress(status: Any) -> Callable[[ReplaySummary, int], None]:
    """A progress callback updating a rich status line once a second."""

    def show(summary: ReplaySummary, session_time_ms: int) -> None:
        status.update(f"session time {format_session_time(session_time_ms)}: "
                      f"{summary.updates:,} updates, {summary.messages:,} messages published")

    return show


def print_replay_summary(summary: ReplaySummary, request: ReplayRequest,
                         console: Console) -> None:
    """One table row per Kafka topic, then one line of totals."""
    table = Table(title=f"replay of {summary.ref.label}")
    table.add_column("topic")
    table.add_column("messages", justify="right")
    for topic, count in summary.topics.items():
        table.add_row(topic, f"{count:,}")
    console.print(table)
    span = ("nothing in the window" if summary.first_ms is None else
            f"session time {format_session_time(summary.first_ms)} - "
            f"{format_session_time(summary.last_ms)}")
    pace = "as fast as possible" if request.speed == 0 else f"at {request.speed:g}x"
    console.print(f"replayed {summary.updates:,} updates as {summary.messages:,} messages "
                  f"({span}) {pace} in {summary.wall_s:.2f} s", highlight=False)
    if summary.caught_up:
        console.print(f"caught up first with {summary.caught_up:,} earlier updates",
                      highlight=False)
    if summary.missing:
        console.print(f"not recorded: {', '.join(summary.missing)}", highlight=False)


def print_latency_report(report: Any, console: Console) -> None:
    """p50 / p95 / p99 / max per measured path, in ms."""
    table = Table(title=report.title)
    for name in ("path", "samples", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(name, justify="left" if name == "path" else "right")
    for path, stats in report.paths.items():
        table.add_row(path, f"{stats.count:,}", *(f"{v:,.0f}" for v in (
            stats.p50, stats.p95, stats.p99, stats.max)))
    console.print(table)
    for line in report.notes:
        console.print(line, highlight=False)
