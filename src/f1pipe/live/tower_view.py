"""The live timing tower drawn with rich: one line per driver, in running order."""

from __future__ import annotations

from rich.console import Console
from rich.live import Live
from rich.table import Table

from f1pipe.live.timing_state import DriverRow, TimingState
from f1pipe.live.tower import Tower, TowerStats
from f1pipe.times import format_lap_time, format_session_time

COMPOUND_SHORT = {"SUPERSOFT": "SS", "ULTRASOFT": "US", "HYPERSOFT": "HS", "SUPERHARD": "SH"}
COMPOUND_STYLES = {"SOFT": "red", "SUPERSOFT": "magenta", "ULTRASOFT": "purple",
                   "HYPERSOFT": "pink1", "MEDIUM": "yellow", "HARD": "white",
                   "INTERMEDIATE": "green", "WET": "blue"}


def _tyre(row: DriverRow) -> str:
    if not row.compound:
        return ""
    style = COMPOUND_STYLES.get(row.compound.upper(), "white")
    short = COMPOUND_SHORT.get(row.compound.upper(), row.compound[:1])
    return f"[{style}]{short}[/{style}] {row.tyre_age_laps or 0}"


FULL_WIDTH = 150  # narrower terminals get the tower without team and sector columns
OPTIONAL_COLUMNS = ("Team", "S1", "S2", "S3")
COLUMNS = (("P", "right"), ("No", "right"), ("Driver", "left"), ("Team", "left"),
           ("Gap", "right"), ("Int", "right"), ("Laps", "right"), ("Last", "right"),
           ("Best", "right"), ("S1", "right"), ("S2", "right"), ("S3", "right"),
           ("Tyre", "left"), ("Pits", "right"), ("km/h", "right"), ("DRS", "left"),
           ("Status", "left"))
DRS_OPEN = frozenset({10, 12, 14})
DRS_ELIGIBLE = 8


def render_tower(label: str, state: TimingState, width: int = FULL_WIDTH) -> Table:
    """The tower of one session's state as a rich table (compact below ``FULL_WIDTH``)."""
    lap, total = state.lap
    heading = [label, f"session time {format_session_time(state.session_time_ms)}"]
    if lap:
        heading.append(f"lap {lap}/{total or '?'}")
    if state.track_status:
        heading.append(f"track {state.track_status}")
    if state.session_status:
        heading.append(state.session_status)
    table = Table(title=" | ".join(heading), title_justify="left", expand=False)
    columns = [(n, j) for n, j in COLUMNS if not (width < FULL_WIDTH and n in OPTIONAL_COLUMNS)]
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=True, min_width=len(name))
    for row in state.rows():
        cells = dict(zip([n for n, _ in COLUMNS], _cells(row), strict=True))
        table.add_row(*(cells[n] for n, _ in columns), style="dim" if row.retired else None)
    return table


def _cells(row: DriverRow) -> list[str]:
    return [str(row.position or ""), str(row.driver_number), row.abbreviation or "",
            (row.team_name or "")[:14], row.gap_to_leader or "", row.interval_ahead or "",
            str(row.laps or ""), *(format_lap_time(ms) for ms in (
                row.last_lap_ms, row.best_lap_ms, row.sector1_ms, row.sector2_ms, row.sector3_ms)),
            _tyre(row), str(row.pit_stops if row.pit_stops is not None else ""),
            "" if row.speed_kmh is None else str(row.speed_kmh), _drs(row.drs), row.status]


def _drs(code: int | None) -> str:
    """The DRS channel as the tower shows it: ``open``, ``elig`` (within a second) or blank."""
    if code in DRS_OPEN:
        return "[green]open[/green]"
    return "elig" if code == DRS_ELIGIBLE else ""


def session_label(key: tuple[int, int, str]) -> str:
    return f"{key[0]} round {key[1]} {key[2]}"


def run_tower(tower: Tower, display: bool, console: Console | None = None) -> TowerStats:
    """Run ``tower``; with ``display``, redraw the current session's tower as it changes
    (rich refreshes at most 4 times a second) and leave the last one on screen."""
    if not display:
        return tower.run()
    console = console or Console()

    def current() -> Table | str:
        if tower.current is None:
            return "waiting for live-timing updates..."
        return render_tower(session_label(tower.current), tower.states[tower.current],
                            console.width)

    with Live(current(), console=console, refresh_per_second=4, transient=False) as live:
        tower.on_change = lambda _: live.update(current())
        stats = tower.run()
        live.update(current())
    return stats
