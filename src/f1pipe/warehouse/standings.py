"""Championship standings from ``f1_results``, and each season's scoring rules.

Standings are computed in Python from one portable query, so DuckDB and Snowflake give
the same answer. Points count from races and sprints (``session_type`` race / sprint, as
scored in the data). Equal points are separated by countback, as the FIA's sporting
regulations do: most wins, then most second places, and so on, counting Grand Prix (race)
finishing positions only; entries still equal share the position.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.schemas import POINTS_SESSION_TYPES, session_type
from f1pipe.warehouse.destination import Destination, connect

_TOP10 = (25, 18, 15, 12, 10, 8, 6, 4, 2, 1)


@dataclass(frozen=True)
class ScoringRules:
    """Points of one session type in one season."""

    positions: tuple[int, ...]  # points for 1st, 2nd, ...
    fastest_lap: int = 0  # bonus for the fastest lap (2019-2024: only inside the top 10)

    @property
    def max_driver(self) -> float:
        """Most points one driver can score in the session."""
        return self.positions[0] + self.fastest_lap

    @property
    def max_total(self) -> float:
        """Most points all drivers together can score in the session."""
        return sum(self.positions) + self.fastest_lap


def scoring_rules(season: int, session: str | None) -> ScoringRules | None:
    """The rules of ``session`` in ``season``: a session type (``race``, ``sprint``) or a
    FastF1 code (``R``, ``S``; 2021's ``SQ`` is a sprint); None when it scores no points."""
    session = session_type(session, season) or session if session else None
    if session == "sprint":
        if season == 2021:
            return ScoringRules((3, 2, 1))
        return ScoringRules((8, 7, 6, 5, 4, 3, 2, 1)) if season >= 2022 else None
    if session != "race":
        return None
    if season >= 2025:
        return ScoringRules(_TOP10)
    if season >= 2019:
        return ScoringRules(_TOP10, fastest_lap=1)
    if season >= 2010:
        return ScoringRules(_TOP10)
    if season >= 2003:
        return ScoringRules((10, 8, 6, 5, 4, 3, 2, 1))
    if season >= 1991:
        return ScoringRules((10, 6, 4, 3, 2, 1))
    return ScoringRules((9, 6, 4, 3, 2, 1))


@dataclass(frozen=True)
class Standing:
    after_round: int
    position: int
    name: str  # driver abbreviation (drivers) or team name (constructors)
    team: str | None  # the driver's team in that round (drivers only)
    points: float  # cumulative after the round


@dataclass
class Standings:
    season: int
    rounds: list[int]  # rounds with race or sprint results loaded
    drivers: list[Standing]
    constructors: list[Standing]
    season_rounds: int | None = None  # rounds of the season's schedule, when known

    def title(self, championship: str) -> str:
        """``2024 drivers' championship after rounds 2, 12 (2 of 24)``."""
        rounds = ", ".join(map(str, self.rounds))
        after = f"after round{'s' if len(self.rounds) > 1 else ''} {rounds}"
        if self.season_rounds and len(self.rounds) >= self.season_rounds:
            after = f"after all {self.season_rounds} rounds"
        elif self.season_rounds:
            after += f" ({len(self.rounds)} of {self.season_rounds})"
        return f"{self.season} {championship}' championship {after}"


@dataclass
class _Entry:
    """One driver's or team's running total and race finishes (for countback)."""

    points: float = 0.0
    finishes: Counter = field(default_factory=Counter)  # race position -> times

    def countback(self, depth: int) -> tuple[int, ...]:
        return tuple(-self.finishes[p] for p in range(1, depth + 1))


RESULTS_SQL = (
    "SELECT round, session_type, driver_number, abbreviation, team_name, points, "
    "classified_position FROM f1_results WHERE season = {season} AND session_type IN "
    "({types}) ORDER BY round, session, driver_number"
)
SESSIONS_SQL = (
    "SELECT session, MIN(round), MAX(round), COUNT(DISTINCT round) FROM f1_results "
    "WHERE season = {season} GROUP BY session ORDER BY session"
)


def season_standings(settings: Settings, warehouse_url: str, season: int,
                     season_rounds: int | None = None) -> Standings:
    """Drivers' and constructors' championship after each loaded round of ``season``
    (``season_rounds``: the schedule's round count, to say when the season is partial)."""
    dest = connect(settings, warehouse_url, read_only=True)
    try:
        return standings_from(dest, season, season_rounds)
    finally:
        dest.close()


def standings_from(dest: Destination, season: int,
                   season_rounds: int | None = None) -> Standings:
    types = ", ".join(f"'{t}'" for t in POINTS_SESSION_TYPES)
    _, rows = dest.fetch(RESULTS_SQL.format(season=int(season), types=types))
    if not rows:
        _no_points_sessions(dest, season)
    rounds = sorted({int(r[0]) for r in rows})
    drivers: dict[str, _Entry] = defaultdict(_Entry)
    teams: dict[str, _Entry] = defaultdict(_Entry)
    team_of: dict[str, str | None] = {}
    driver_rows, team_rows = [], []
    for rnd in rounds:
        for _, kind, number, abbreviation, team, points, classified in \
                (r for r in rows if int(r[0]) == rnd):
            name = abbreviation or str(number)
            for entry in (drivers[name], teams[team or "?"]):
                entry.points += float(points or 0)
                if kind == "race" and classified and str(classified).isdigit():
                    entry.finishes[int(classified)] += 1
            team_of[name] = team
        driver_rows += ranked(rnd, drivers, team_of)
        team_rows += ranked(rnd, teams, None)
    return Standings(season, rounds, driver_rows, team_rows, season_rounds)


def _no_points_sessions(dest: Destination, season: int) -> None:
    """Raise the one-line error for a season without race or sprint results loaded."""
    _, held = dest.fetch(SESSIONS_SQL.format(season=int(season)))
    fix = f"run f1pipe run --season {season} (it loads races and sprints)"
    if not held:
        raise F1PipeError(f"no results of {season} in the warehouse: {fix}")
    have = ", ".join(f"{s} ({n} round{'s' if n > 1 else ''})" for s, _, _, n in held)
    raise F1PipeError(f"no race or sprint results of {season} in the warehouse, only {have}: "
                      f"{fix}")


def ranked(rnd: int, totals: dict[str, _Entry], team_of: dict | None) -> list[Standing]:
    """Ranked by points, equal points by countback (most wins, then most 2nds...); entries
    equal on both share the position; then by name for a stable order."""
    depth = max((max(e.finishes, default=0) for e in totals.values()), default=0)
    ordered = sorted(totals.items(),
                     key=lambda item: (-item[1].points, item[1].countback(depth), item[0]))
    ranked_rows, position, previous = [], 0, None
    for index, (name, entry) in enumerate(ordered):
        tie = (entry.points, entry.countback(depth))
        if tie != previous:
            position, previous = index + 1, tie
        team = team_of.get(name) if team_of is not None else None
        ranked_rows.append(Standing(rnd, position, name, team, entry.points))
    return ranked_rows


def standings_rows(result: Standings) -> tuple[list[str], list[tuple]]:
    """Long form for scripts: one row per championship, round and driver or team."""
    columns = ["championship", "after_round", "position", "name", "team", "points"]
    rows = [("drivers", s.after_round, s.position, s.name, s.team, s.points)
            for s in result.drivers]
    rows += [("constructors", s.after_round, s.position, s.name, None, s.points)
             for s in result.constructors]
    return columns, rows


def standings_table(result: Standings, championship: str) -> tuple[list[str], list[tuple]]:
    """Wide form for people: final order, with the points after each round as columns."""
    entries = result.drivers if championship == "drivers" else result.constructors
    last = result.rounds[-1]
    by_round = {(s.after_round, s.name): s.points for s in entries}
    final = [s for s in entries if s.after_round == last]
    columns = ["pos", "driver" if championship == "drivers" else "team"]
    columns += ["team"] if championship == "drivers" else []
    columns += [f"after R{r}" for r in result.rounds]
    rows = []
    for s in final:
        team = [s.team or ""] if championship == "drivers" else []
        points = [_points(by_round.get((r, s.name), 0.0)) for r in result.rounds]
        rows.append((s.position, s.name, *team, *points))
    return columns, rows


def _points(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
