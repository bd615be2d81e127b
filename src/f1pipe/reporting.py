"""Tables printed at the end of a command (rich), kept out of the library's logic."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table

from f1pipe.config import Settings
from f1pipe.pipeline import PipelineSummary
from f1pipe.produce import ProduceItem


def step_figures(summary: PipelineSummary) -> list[tuple[str, str]]:
    """``(step, figures)`` of each step that ran, in order, for the run's table."""
    rows = []
    if (p := summary.produced) is not None:
        rows.append(("produce", f"topics: {_short(p.topics)}, messages produced: {p.delivered}, "
                                f"not available: {len(p.missing())}"))
    if (c := summary.consumed) is not None:
        rows.append(("consume", f"lake: {c.sink}, records consumed: {c.records}, objects "
                                f"written: {c.objects}, dead letters: {c.dead_letters}"))
    if (ld := summary.loaded) is not None:
        rows.append(("load", f"objects loaded: {ld.objects_loaded}, rows loaded: "
                             f"{ld.rows_total}"))
    if (tr := summary.transformed) is not None:
        built = sum(1 for n in tr.models if n.status == "success")
        scope = ("every session" if tr.sessions is None
                 else f"{len(tr.sessions)} changed session(s)")
        rows.append(("transform", f"marts built: {built} for {scope} ({tr.engine}, "
                                  f"{tr.warehouse})"))
    if (ch := summary.checked) is not None:
        rows.append(("check", f"checks passed: {ch.passed_count}"))
    return rows


def print_pipeline_summary(summary: PipelineSummary, settings: Settings,
                           console: Console | None = None) -> None:
    """One row per step: seconds taken and the step's figures; then what was missing."""
    console = console or Console()
    table = Table(title="f1pipe run")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("figures")
    for name, figures in step_figures(summary):
        table.add_row(name, f"{summary.seconds.get(name, 0.0):.1f}", figures)
    console.print(table)
    missing = summary.produced.missing() if summary.produced else []
    if missing:
        console.print(f"not available ({len(missing)}): {describe_missing(missing)}")
    console.print(f"lake: {settings.lake}   warehouse: {settings.warehouse}")


def describe_missing(items: Iterable[ProduceItem]) -> str:
    """Items FastF1 could not give, compacted per season, session and dataset into round
    ranges: ``2024 R results: rounds 1, 3-11, 13-24``."""
    groups: dict[str, list[int]] = {}
    for item in items:
        what = f"{item.ref.season} {item.ref.session} {item.dataset}"
        groups.setdefault(what, []).append(item.ref.round)
    return "; ".join(f"{what}: round{'s' if len(rounds) > 1 else ''} {_ranges(sorted(rounds))}"
                     for what, rounds in groups.items())


def _ranges(numbers: list[int]) -> str:
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _short(values: list) -> str:
    return str(len(values)) if len(values) > 4 else ", ".join(map(str, values)) or "none"


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
