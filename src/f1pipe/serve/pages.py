"""Server-rendered pages: index, season, race and live, and the race report file.

Each page is a Jinja2 template (autoescaped) with its data as one JSON document in the page;
the charts are drawn in the browser by plotly.js, served from the installed ``plotly``
Python package (no CDN: the pages work offline). The report is the race page with every
script, style and datum inline, one file to share.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from statistics import median
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from f1pipe.serve.api import records
from f1pipe.serve.snapshot import WarehouseSnapshot

STATIC = Path(__file__).parent / "static"
TEAM_FALLBACK = "#888888"


@cache
def plotly_js() -> Path:
    """plotly.min.js of the installed plotly package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall plotly (pip install plotly)")
    return path


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("f1pipe.serve", "templates"),
                      autoescape=select_autoescape(["html"]))
    env.filters["laptime"] = lap_time
    return env


def json_script(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">."""
    text = json.dumps(data, default=str, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def inline_script(path: Path) -> Markup:
    return Markup(path.read_text(encoding="utf-8").replace("</script", "<\\/script"))


def lap_time(ms: int | None) -> str:
    if ms is None:
        return ""
    minutes, rest = divmod(int(ms), 60_000)
    return f"{minutes}:{rest / 1000:06.3f}" if minutes else f"{rest / 1000:.3f}"


def render(template: str, inline: bool = False, **context: Any) -> str:
    assets = {}
    if inline:
        assets = {"plotly": inline_script(plotly_js()),
                  "app_js": inline_script(STATIC / "charts.js"),
                  "css": Markup((STATIC / "style.css").read_text(encoding="utf-8"))}
    return environment().get_template(template).render(inline=inline, assets=assets,
                                                       **context)


# --- data ---------------------------------------------------------------------------------


def index_data(snapshot: WarehouseSnapshot) -> dict[str, Any]:
    sessions = records(snapshot, "sessions")
    seasons = sorted({s["season"] for s in sessions}, reverse=True)
    return {"sessions": sessions, "seasons": seasons}


def season_data(snapshot: WarehouseSnapshot, season: int) -> dict[str, Any] | None:
    standings = records(snapshot, "standings", season=season, championship="drivers")
    if not standings:
        return None
    rounds = sorted({s["after_round"] for s in standings})
    final = [s for s in standings if s["after_round"] == rounds[-1]]
    races = {s["round"]: s["event_name"] for s in records(snapshot, "sessions", season=season)
             if s["session"] == "R"}
    points = {(s["after_round"], s["name"]): s["points"] for s in standings}
    progression = [{"driver": d["name"], "rounds": rounds,
                    "points": [points.get((r, d["name"]), 0.0) for r in rounds]}
                   for d in final]
    return {"season": season, "rounds": rounds, "standings": final, "races": races,
            "charts": {"progression": progression,
                       "round_names": [races.get(r, f"R{r}") for r in rounds]}}


def race_data(snapshot: WarehouseSnapshot, season: int, rnd: int,
              session: str = "R") -> dict[str, Any] | None:
    key = {"season": season, "round": rnd, "session": session}
    results = records(snapshot, "results", **key)
    laps = records(snapshot, "laps", **key)
    if not results and not laps:
        return None
    results.sort(key=lambda r: (r["position"] is None, r["position"] or 0))
    colour = {r["abbreviation"]: f"#{r['team_colour']}" if r.get("team_colour")
              else TEAM_FALLBACK for r in results}
    drivers = [r["abbreviation"] or str(r["driver_number"]) for r in results]
    for lap in laps:  # drivers with laps but no result row
        name = lap["abbreviation"] or str(lap["driver_number"])
        if name not in drivers:
            drivers.append(name)
    return {
        "key": key,
        "title": f"{season} {results[0]['event_name'] if results else f'round {rnd}'}",
        "session_name": results[0]["session_name"] if results else session,
        "results": results,
        "has_laps": bool(laps),
        "lead_changes": lead_changes(laps),
        "race_control": records(snapshot, "race_control", **key),
        "track_status": records(snapshot, "track_status", **key),
        "charts": {
            "season": season, "drivers": drivers, "colours": colour,
            "lap_chart": lap_chart(results, laps, drivers),
            "stints": records(snapshot, "stints", **key),
            "gaps": records(snapshot, "intervals", **key),
            "lap_times": lap_times(laps),
            "race_control": [{"lap": m["lap"], "category": m["category"],
                              "message": m["message"], "flag": m["flag"]}
                             for m in records(snapshot, "race_control", **key)],
        },
    }


def _name(row: dict) -> str:
    return row["abbreviation"] or str(row["driver_number"])


def lap_chart(results: list[dict], laps: list[dict], drivers: list[str]) -> list[dict]:
    """One series per driver: lap 0 is the grid, then the position after each lap."""
    grid = {_name(r): r["grid_position"] for r in results}
    series = {d: {"driver": d, "laps": [], "positions": []} for d in drivers}
    for d in drivers:
        if grid.get(d):  # 0 or None: pit-lane start / unknown
            series[d]["laps"].append(0)
            series[d]["positions"].append(grid[d])
    for lap in sorted(laps, key=lambda x: x["lap_number"]):
        if lap["position"] is not None:
            series[_name(lap)]["laps"].append(lap["lap_number"])
            series[_name(lap)]["positions"].append(lap["position"])
    return list(series.values())


def lead_changes(laps: list[dict]) -> list[dict]:
    """Each lap whose leader differs from the previous lap's: {lap, from, to}."""
    leaders = {lap["lap_number"]: _name(lap) for lap in laps if lap["position"] == 1}
    changes, previous = [], None
    for number in sorted(leaders):
        if previous is not None and leaders[number] != previous:
            changes.append({"lap": number, "from": previous, "to": leaders[number]})
        previous = leaders[number]
    return changes


def lap_times(laps: list[dict]) -> list[dict]:
    """Per driver, lap times in s of green-flag racing laps: no pit in / out laps, none
    slower than 1.5 x the session's median."""
    timed = [lap for lap in laps if lap["lap_time_ms"] and lap["pit_in_time_ms"] is None
             and lap["pit_out_time_ms"] is None and lap["lap_number"] > 1]
    if not timed:
        return []
    cut = 1.5 * median(lap["lap_time_ms"] for lap in timed)
    by_driver: dict[str, list[float]] = {}
    for lap in timed:
        if lap["lap_time_ms"] <= cut:
            by_driver.setdefault(_name(lap), []).append(lap["lap_time_ms"] / 1000)
    return [{"driver": d, "seconds": s} for d, s in by_driver.items()]
