"""``f1pipe standings`` from the standings marts (``driver_standings``,
``constructor_standings``), when they are built and as new as the facts; otherwise from
:mod:`f1pipe.warehouse.standings`, which computes the same table in Python (the marts'
dbt test and ``tests/transform`` hold the two to the same answer)."""

from __future__ import annotations

from f1pipe.config import Settings
from f1pipe.errors import F1PipeError
from f1pipe.schemas import POINTS_SESSION_TYPES
from f1pipe.warehouse.destination import Destination, connect
from f1pipe.warehouse.standings import Standing, Standings, standings_from

DRIVERS_SQL = ("SELECT after_round, position, driver, team_name, points FROM driver_standings "
               "WHERE season = {season} ORDER BY after_round, position, driver")
TEAMS_SQL = ("SELECT after_round, position, team_name, points FROM constructor_standings "
             "WHERE season = {season} ORDER BY after_round, position, team_name")
FACTS_SQL = ("SELECT round, SUM(COALESCE(points, 0)) FROM f1_results WHERE season = {season} "
             "AND session_type IN ({types}) GROUP BY round ORDER BY round")


def season_standings(settings: Settings, warehouse_url: str, season: int,
                     season_rounds: int | None = None) -> tuple[Standings, str]:
    """The standings of ``season`` and where they come from: ``"marts"`` or ``"results"``
    (the marts are missing, or older than the facts: f1pipe transform has not run since)."""
    dest = connect(settings, warehouse_url, read_only=True)
    try:
        marts = _from_marts(dest, int(season), season_rounds)
        if marts is not None:
            return marts, "marts"
        return standings_from(dest, season, season_rounds), "results"
    finally:
        dest.close()


def _from_marts(dest: Destination, season: int, season_rounds: int | None) -> Standings | None:
    try:
        _, drivers = dest.fetch(DRIVERS_SQL.format(season=season))
        _, teams = dest.fetch(TEAMS_SQL.format(season=season))
    except F1PipeError:
        return None  # no marts yet
    types = ", ".join(f"'{t}'" for t in POINTS_SESSION_TYPES)
    _, facts = dest.fetch(FACTS_SQL.format(season=season, types=types))
    rounds = sorted({int(r[0]) for r in drivers})
    if not drivers or rounds != [int(r[0]) for r in facts]:
        return None
    last = rounds[-1]
    if abs(sum(float(r[4]) for r in drivers if int(r[0]) == last)
           - sum(float(r[1]) for r in facts)) > 1e-6:
        return None  # the facts changed since the marts were built
    return Standings(
        season, rounds,
        [Standing(int(r), int(p), name, team, float(points))
         for r, p, name, team, points in drivers],
        [Standing(int(r), int(p), name, None, float(points)) for r, p, name, points in teams],
        season_rounds)
