"""Ratios between the figures of one run, and the table printed at the end."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

# (ratio name, f1pipe figure, reference figure); figures are matched by name prefix.
RATIOS = [
    ("producer f1pipe/limit", "f1pipe producer", "kafka-producer-perf-test"),
    ("producer f1pipe/quixstreams", "f1pipe producer", "quixstreams producer"),
    ("producer f1pipe/plain loop", "f1pipe producer", "plain confluent-kafka producer"),
    ("consume->folder f1pipe/quixstreams", "f1pipe consumer -> folder",
     "quixstreams LocalFileSink"),
    ("consume->folder f1pipe/plain loop", "f1pipe consumer -> folder",
     "plain confluent-kafka loop -> folder"),
    ("consume->S3 f1pipe/quixstreams", "f1pipe consumer -> S3", "quixstreams S3FileSink"),
    ("consume->folder f1pipe/limit", "f1pipe consumer -> folder", "kafka-consumer-perf-test"),
    ("consume->S3 f1pipe/limit", "f1pipe consumer -> S3", "kafka-consumer-perf-test"),
    ("consume->folder f1pipe/baseline", "f1pipe consumer -> folder",
     "seed-style baseline -> folder"),
    ("consume->S3 f1pipe/baseline", "f1pipe consumer -> S3", "seed-style baseline -> S3"),
    ("load->DuckDB f1pipe/limit", "f1pipe loader -> DuckDB", "DuckDB read_json_objects"),
    ("cluster producer RF=3/RF=1", "f1pipe producer, 3 brokers, RF=3",
     "f1pipe producer, 3 brokers, RF=1"),
    ("cluster consumers 2/1 processes", "f1pipe consumer -> folder, 2 process",
     "f1pipe consumer -> folder, 1 process"),
    ("cluster consumers 4/1 processes", "f1pipe consumer -> folder, 4 process",
     "f1pipe consumer -> folder, 1 process"),
]


# The goals (ratio name -> at least this much); "furthest from its goal" is the
# ratio with the smallest measured/goal.
GOALS = {
    "producer f1pipe/limit": 0.9, "producer f1pipe/quixstreams": 0.8,
    "consume->folder f1pipe/quixstreams": 2.0, "consume->folder f1pipe/plain loop": 0.75,
    "consume->S3 f1pipe/quixstreams": 2.0, "load->DuckDB f1pipe/limit": 0.4,
}


# Peak RSS goals (figure name prefix -> at most this many MB, every figure of that name).
MEMORY_GOALS = {
    "f1pipe producer (": 400, "f1pipe consumer -> folder": 250, "f1pipe loader -> DuckDB": 600,
}
# Latency goal: p95 of the produce -> DuckDB row latency at 1,000 msg/s, ms.
LATENCY_GOAL = ("produce -> DuckDB row at 1,000 msgs/s", 500.0)


def memory_goals(figures: list[dict]) -> dict:
    """Each measured figure with a memory goal: its peak RSS, the goal, whether it is met."""
    found = {}
    for prefix, goal in MEMORY_GOALS.items():
        for f in figures:
            if f["name"].startswith(prefix) and f.get("peak_rss_mb"):
                found[f"{f['name']} ({f.get('count', 0):,})"] = _memory(f, goal)
    prefix, goal = LATENCY_GOAL
    for f in figures:
        if f["name"].startswith(prefix) and "p95" in f:
            found[f"{f['name']} p95"] = {"goal_ms": goal, "p95_ms": round(f["p95"]),
                                         "met": f["p95"] <= goal}
    return found


def _memory(figure: dict, goal: float) -> dict:
    """A figure's peak RSS against its goal. A program that first holds the bench's own input
    (``input_rss_mb``: the producer's decoded laps) is judged on its peak above that."""
    peak, held = figure["peak_rss_mb"], figure.get("input_rss_mb")
    if held is None:
        return {"goal_mb": goal, "peak_rss_mb": round(peak), "met": peak <= goal}
    return {"goal_mb": goal, "peak_rss_mb": round(peak), "input_rss_mb": round(held),
            "above_input_mb": round(peak - held), "met": peak - held <= goal}


def _find(figures: list[dict], prefix: str) -> dict | None:
    return next((f for f in figures if f["name"].startswith(prefix)), None)


def ratios(figures: list[dict]) -> dict:
    """Every f1pipe/reference ratio of records per second, the hop furthest from its limit,
    and the scale curve's cost per record (microseconds)."""
    found = {}
    for name, ours, reference in RATIOS:
        a, b = _find(figures, ours), _find(figures, reference)
        if a and b and b.get("per_s"):
            found[name] = round(a["per_s"] / b["per_s"], 3)
    limits = {k: v for k, v in found.items() if k.endswith("/limit")}
    scale = [f for f in figures if f["hop"] == "scale"]
    return {
        "ratios": found,
        "furthest_from_limit": min(limits, key=limits.get) if limits else None,
        "goals": {k: {"goal": g, "measured": found[k], "met": found[k] >= g}
                  for k, g in GOALS.items() if k in found},
        "furthest_from_goal": min((k for k in GOALS if k in found),
                                  key=lambda k: found[k] / GOALS[k], default=None),
        "us_per_record_by_size": {f["count"]: round(1e6 / f["per_s"], 1) for f in scale},
        "memory_and_latency_goals": memory_goals(figures),
    }


def _rate(figure: dict) -> str:
    if figure["hop"] == "latency":
        return (f"p50 {figure['p50']:,.0f} / p95 {figure['p95']:,.0f} / "
                f"p99 {figure['p99']:,.0f} ms")
    mb = f"  {figure['mb_per_s']:,.1f} MB/s" if figure.get("mb_per_s") else ""
    return f"{figure['per_s']:,.0f}/s{mb}"


def print_table(info: dict) -> None:
    m = info["machine"]
    table = Table(title=f"f1pipe bench ({info['mode']}) — {m['cpus']} cores, {m['memory_gb']} GB, "
                        f"{info['date']}", title_justify="left")
    for column in ("hop", "measured", "count", "throughput / latency", "peak RSS", "note"):
        table.add_column(column, justify="right" if column in ("count", "peak RSS") else "left")
    for f in info["figures"]:
        rss = f"{f['peak_rss_mb']:,.0f} MB" if f.get("peak_rss_mb") else ""
        if f.get("peak_rss_mb") and f.get("input_rss_mb"):
            rss += f" ({f['peak_rss_mb'] - f['input_rss_mb']:,.0f} above input)"
        table.add_row(f["hop"], f["name"], f"{f.get('count', 0):,}", _rate(f), rss,
                      f.get("note", ""))
    console = Console(width=160)
    console.print(table)
    summary = info["ratios"]
    for name, value in summary["ratios"].items():
        console.print(f"  {name:34} {value:8.3f}")
    console.print(f"  furthest from its limit: {summary['furthest_from_limit']}")
    for name, goal in summary.get("goals", {}).items():
        console.print(f"  goal {name:34} >= {goal['goal']:<5} measured {goal['measured']:.3f}"
                      f"  {'met' if goal['met'] else 'NOT met'}")
    console.print(f"  furthest from its goal: {summary.get('furthest_from_goal')}")
    for name, goal in summary.get("memory_and_latency_goals", {}).items():
        limit = f"<= {goal['goal_mb']} MB" if "goal_mb" in goal else f"<= {goal['goal_ms']:g} ms"
        value = (f"{goal['peak_rss_mb']} MB" if "peak_rss_mb" in goal else f"{goal['p95_ms']} ms")
        console.print(f"  goal {name:50} {limit:>10} measured {value:>8}"
                      f"  {'met' if goal['met'] else 'NOT met'}")
    console.print(f"  consumer cost per record (µs) by size: {summary['us_per_record_by_size']}")
    for step, error in info.get("errors", {}).items():
        console.print(f"  [red]{step} failed[/red]: {error}", markup=True)
    console.print(f"  whole run: {info['seconds']:,.0f} s")
