"""Tables printed at the end of a command (rich), kept out of the library's logic."""

from __future__ import annotations

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
        console.print(f"not available ({len(missing)}): {'; '.join(missing)}")
    console.print(f"lake: {settings.lake}   warehouse: {settings.warehouse}")


def _short(value) -> str:
    if isinstance(value, list):
        return f"{len(value)}" if len(value) > 4 else ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)
