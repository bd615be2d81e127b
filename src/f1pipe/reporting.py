"""Tables printed at the end of a command (rich), kept out of the library's logic."""

from __future__ import annotations

import re

from rich.console import Console
from rich.table import Table

from f1pipe.config import Settings
from f1pipe.pipeline import PipelineSummary


def print_pipeline_summary(summary: PipelineSummary, settings: Settings,
                           console: Console | None = None) -> None:
    """One row per step: seconds taken and the step's figures."""
    console = console or Console()
    table = Table(title="f1pipe run")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("figures")
    for step in summary.steps:
        figures = ", ".join(f"{k.replace('_', ' ')}: {_short(v)}" for k, v in step.figures.items())
        table.add_row(step.name, f"{step.seconds:.1f}", figures)
    console.print(table)
    missing = summary.figure("produce", "not_available") or []
    if missing:
        console.print(f"not available ({len(missing)}): {describe_missing(missing)}")
    console.print(f"lake: {settings.lake}   warehouse: {settings.warehouse}")


def describe_missing(labels: list[str]) -> str:
    """``2024 round 1 (Bahrain Grand Prix) R results`` labels, compacted per season and dataset
    into round ranges: ``2024 R results: rounds 1, 3-11, 13-24``."""
    groups: dict[str, list[int]] = {}
    others = []
    for label in labels:
        match = re.fullmatch(r"(\d+) round (\d+) \(.*\) (\S+ \S+)", label)
        if match is None:
            others.append(label)
            continue
        season, round_, what = match.groups()
        groups.setdefault(f"{season} {what}", []).append(int(round_))
    parts = [f"{what}: round{'s' if len(rounds) > 1 else ''} {_ranges(sorted(rounds))}"
             for what, rounds in groups.items()]
    return "; ".join(parts + others)


def _ranges(numbers: list[int]) -> str:
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _short(value) -> str:
    if isinstance(value, list):
        return str(len(value)) if len(value) > 4 else ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def where_line(settings: Settings) -> str:
    """Where the lake, the warehouse and the broker log are, from the settings (so
    ``F1PIPE_LAKE`` / ``F1PIPE_WAREHOUSE`` / ``F1PIPE_STATE_DIR`` are honoured); local
    paths made absolute."""
    from pathlib import Path

    lake = settings.lake
    if lake.startswith("file://"):
        lake = str(Path(lake.removeprefix("file://")).resolve())
    warehouse = settings.warehouse
    if warehouse.startswith("duckdb:///"):
        warehouse = str(Path(warehouse.removeprefix("duckdb:///")).resolve())
    log = (Path(settings.state_dir) / "kafka" / "kafka.log").resolve()
    return f"lake: {lake}   warehouse: {warehouse}   broker log: {log}"


if __name__ == "__main__":  # the `make demo` footer
    from f1pipe.config import load_settings

    print(where_line(load_settings()))
