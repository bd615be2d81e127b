"""Championship standings from ``f1_results``, and each season's scoring rules.

Standings are computed in Python from one portable query, so DuckDB and Snowflake give
the same answer. Points count from races (``R``) and sprints (``S``), as scored in the data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.warehouse.destination import Destination, connect

POINTS_SESSIONS = ("R", "S")
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


def scoring_rules(season: int, session: str) -> ScoringRules | None:
    """The rules of ``session`` (R or S) in ``season``; None when no points were given."""
    if session == "S":
        if season == 2021:
            return ScoringRules((3, 2, 1))
        return ScoringRules((8, 7, 6, 5, 4, 3, 2, 1)) if season >= 2022 else None
    if session != "R":
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
    rounds: list[int]
    drivers: list[Standing]
    constructors: list[Standing]


RESULTS_SQL = (
    "SELECT round, session, driver_number, abbreviation, team_name, points FROM f1_results "
    "WHERE season = {season} AND session IN ('R', 'S') ORDER BY round, session, driver_number"
)


def season_standings(settings: Settings, warehouse_url: str, season: int) -> Standings:
    """Drivers' and constructors' championship after each loaded round of ``season``."""
    dest = connect(settings, warehouse_url, read_only=True)
    try:
        return standings_from(dest, season)
    finally:
        dest.close()


def standings_from(dest: Destination, season: int) -> Standings:
    _, rows = dest.fetch(RESULTS_SQL.format(season=int(season)))
    if not rows:
        raise F1PipeError(f"no race results of {season} in the warehouse: run f1pipe load first")
    rounds = sorted({int(r[0]) for r in rows})
    drivers: dict[str, float] = defaultdict(float)
    teams: dict[str, float] = defaultdict(float)
    team_of: dict[str, str | None] = {}
    driver_rows, team_rows = [], []
    for rnd in rounds:
        for _, _, number, abbreviation, team, points in (r for r in rows if int(r[0]) == rnd):
            name = abbreviation or str(number)
            drivers[name] += float(points or 0)
            teams[team or "?"] += float(points or 0)
            team_of[name] = team
        driver_rows += _ranked(rnd, drivers, team_of)
        team_rows += _ranked(rnd, teams, None)
    return Standings(season, rounds, driver_rows, team_rows)


def _ranked(rnd: int, totals: dict[str, float], team_of: dict | None) -> list[Standing]:
    """Ranked by points (ties share the position), then by name for a stable order."""
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    ranked, position = [], 0
    for index, (name, points) in enumerate(ordered):
        if index == 0 or points != ordered[index - 1][1]:
            position = index + 1
        team = team_of.get(name) if team_of is not None else None
        ranked.append(Standing(rnd, position, name, team, points))
    return ranked


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
