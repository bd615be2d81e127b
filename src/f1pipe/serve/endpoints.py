"""The API's endpoints as data: each one a SELECT over the warehouse model, its columns and
their types, and its order.

Table endpoints read a model table (without the Kafka bookkeeping columns); the derived ones
(stints, pit stops, positions, intervals, standings) are computed from ``laps`` and
``f1_results`` by SQL here, or read from the analytics marts when the warehouse has them.
Column types are not written twice: they are read from DuckDB (``DESCRIBE``) on empty model
tables built from :mod:`f1pipe.warehouse.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb

from f1pipe.schemas import POINTS_SESSION_TYPES
from f1pipe.warehouse import sql as model_sql
from f1pipe.warehouse.duckdb import DIALECT
from f1pipe.warehouse.model import BY_NAME as MODEL_TABLES
from f1pipe.warehouse.model import META_COLUMNS, MODEL
from f1pipe.warehouse.standings import standings_from

HIDDEN = {c.name for c in META_COLUMNS}  # Kafka bookkeeping: not part of the API
SESSION_KEY = ("season", "round", "session")


@dataclass(frozen=True)
class Endpoint:
    name: str  # /v1/<name>
    summary: str
    sql: str  # one SELECT; table and column names from code only
    order_by: tuple[str, ...]
    tables: tuple[str, ...]  # model tables it reads (all must exist in the copy)


def _table(name: str, table: str, summary: str, order_by: tuple[str, ...]) -> Endpoint:
    columns = ", ".join(c.name for c in MODEL_TABLES[table].columns if c.name not in HIDDEN)
    return Endpoint(name, summary, f"SELECT {columns} FROM {table}", order_by, (table,))


SESSIONS_SQL = """
SELECT season, round, session, any_value(session_type) AS session_type,
       any_value(event_name) AS event_name,
       any_value(country) AS country, any_value(location) AS location,
       any_value(session_name) AS session_name, min(session_date) AS session_date,
       count(*) AS drivers
FROM f1_results GROUP BY season, round, session"""

# A stint per driver and stint number; lap 1 (which the timing data leaves without a stint)
# belongs to the first. Tyre age at the start: from the first lap with a known tyre life.
STINTS_SQL = """
WITH l AS (
  SELECT season, round, session, driver_number, abbreviation, lap_number, tyre_life_laps,
         CASE WHEN compound IN ('nan', '', 'UNKNOWN') THEN NULL ELSE compound END AS compound,
         coalesce(stint, CASE WHEN lap_number = 1 THEN 1 END) AS stint
  FROM laps)
SELECT season, round, session, driver_number, any_value(abbreviation) AS abbreviation,
       stint AS stint_number,
       arg_min(compound, lap_number) FILTER (WHERE compound IS NOT NULL) AS compound,
       min(lap_number) AS lap_start, max(lap_number) AS lap_end,
       greatest(arg_min(tyre_life_laps - lap_number, lap_number)
                  FILTER (WHERE tyre_life_laps IS NOT NULL) + min(lap_number) - 1, 0)
         AS tyre_age_at_start
FROM l WHERE stint IS NOT NULL
GROUP BY season, round, session, driver_number, stint"""

PIT_SQL = """
SELECT l.season, l.round, l.session, l.driver_number, l.abbreviation, l.lap_number,
       l.pit_in_time_ms, n.pit_out_time_ms,
       n.pit_out_time_ms - l.pit_in_time_ms AS pit_duration_ms
FROM laps l LEFT JOIN laps n
  ON n.season = l.season AND n.round = l.round AND n.session = l.session
 AND n.driver_number = l.driver_number AND n.lap_number = l.lap_number + 1
WHERE l.pit_in_time_ms IS NOT NULL"""

POSITION_SQL = """
SELECT season, round, session, driver_number, abbreviation, lap_number, position,
       session_time_ms
FROM laps WHERE position IS NOT NULL"""

# Gap to the leader: the driver's crossing of the line at the end of lap N minus the
# leader's (the first to complete lap N); interval: minus the car that crossed just before.
INTERVALS_SQL = """
SELECT season, round, session, driver_number, abbreviation, lap_number, position,
       session_time_ms,
       session_time_ms - min(session_time_ms) OVER w AS gap_to_leader_ms,
       session_time_ms - lag(session_time_ms) OVER (w ORDER BY session_time_ms,
                                                    driver_number) AS interval_ms
FROM laps WHERE session_time_ms IS NOT NULL
WINDOW w AS (PARTITION BY season, round, session, lap_number)"""

# The championships after each round, as `f1pipe standings` computes them (points of races
# and sprints, ties by countback): built into the server's copy at each refresh.
STANDINGS_TABLE = "api_standings"
STANDINGS_DDL = (f"CREATE TABLE {STANDINGS_TABLE} (season BIGINT, championship VARCHAR, "
                 "after_round BIGINT, position BIGINT, name VARCHAR, team_name VARCHAR, "
                 "points DOUBLE)")
STANDINGS_SQL = (f"SELECT season, championship, after_round, position, name, team_name, points "
                 f"FROM {STANDINGS_TABLE}")


class _Copy:
    """The copy's connection as the :class:`~f1pipe.warehouse.destination.Destination`
    ``fetch`` the standings module reads through."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def fetch(self, sql: str, params: tuple = ()) -> tuple[list[str], list[tuple]]:
        cursor = self.con.execute(sql, list(params))
        return [c[0] for c in cursor.description], cursor.fetchall()


def add_derived_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Tables the API serves that are computed in Python: the standings of every season."""
    con.execute(STANDINGS_DDL)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "f1_results" not in tables:
        return
    seasons = [r[0] for r in con.execute(
        "SELECT DISTINCT season FROM f1_results WHERE session_type IN "
        f"({', '.join('?' * len(POINTS_SESSION_TYPES))})", list(POINTS_SESSION_TYPES)).fetchall()]
    rows = []
    for season in seasons:
        result = standings_from(_Copy(con), season)
        rows += [(season, "drivers", s.after_round, s.position, s.name, s.team, s.points)
                 for s in result.drivers]
        rows += [(season, "constructors", s.after_round, s.position, s.name, None, s.points)
                 for s in result.constructors]
    if rows:
        con.executemany(f"INSERT INTO {STANDINGS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in (
    Endpoint("sessions", "Sessions in the warehouse (from the results).", SESSIONS_SQL,
             SESSION_KEY, ("f1_results",)),
    _table("results", "f1_results", "Classification of each driver in each session.",
           (*SESSION_KEY, "position", "driver_number")),
    _table("laps", "laps", "Every lap of every driver.",
           (*SESSION_KEY, "driver_number", "lap_number")),
    Endpoint("stints", "Tyre stints, from the laps.", STINTS_SQL,
             (*SESSION_KEY, "driver_number", "stint_number"), ("laps",)),
    Endpoint("pit", "Pit stops: lap of the pit entry and time in the pit lane, from the laps.",
             PIT_SQL, (*SESSION_KEY, "driver_number", "lap_number"), ("laps",)),
    Endpoint("position", "Position of each driver at the end of each lap.", POSITION_SQL,
             (*SESSION_KEY, "lap_number", "position"), ("laps",)),
    Endpoint("intervals", "Gap to the leader and interval to the car ahead at the end of "
             "each lap, in ms.", INTERVALS_SQL,
             (*SESSION_KEY, "lap_number", "session_time_ms"), ("laps",)),
    _table("race_control", "race_control_messages", "Race control messages.",
           (*SESSION_KEY, "message_index")),
    _table("weather", "weather", "Weather samples.", (*SESSION_KEY, "session_time_ms")),
    _table("track_status", "track_status", "Track status changes.",
           (*SESSION_KEY, "session_time_ms")),
    Endpoint("standings", "Drivers' and constructors' championships after each round (races "
             "and sprints; equal points decided by countback, as f1pipe standings).",
             STANDINGS_SQL, ("season", "championship", "after_round", "position", "name"),
             (STANDINGS_TABLE,)),
    _table("live_timing", "live_timing", "The newest live timing tower row of each driver "
           "(from f1pipe tower).", (*SESSION_KEY, "position", "driver_number")),
)}

# DuckDB type names -> the API's filter types (and the OpenAPI schema's).
_TYPES = {"BIGINT": "int", "INTEGER": "int", "HUGEINT": "int", "SMALLINT": "int",
          "DOUBLE": "float", "FLOAT": "float", "VARCHAR": "string", "BOOLEAN": "bool",
          "TIMESTAMP": "timestamp", "JSON": "json"}


@cache
def column_types() -> dict[str, dict[str, str]]:
    """Endpoint -> column -> type (int, float, string, bool, timestamp, json), in order,
    read from DuckDB on empty model tables."""
    con = duckdb.connect(":memory:")
    try:
        for table in MODEL:
            con.execute(model_sql.create_model(DIALECT, table))
        con.execute(STANDINGS_DDL)
        types = {}
        for endpoint in ENDPOINTS.values():
            described = con.execute(f"DESCRIBE {endpoint.sql}").fetchall()
            types[endpoint.name] = {row[0]: _TYPES.get(row[1].split("(")[0], "string")
                                    for row in described}
        return types
    finally:
        con.close()
