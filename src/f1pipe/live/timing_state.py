"""The live timing state: the feed's partial updates applied, one row per driver. No Kafka.

The feed sends deltas: ``TimingData`` / ``TimingAppData`` updates carry only what changed
for some drivers under ``Lines``, nested as deep as needed; ``DriverList`` likewise at its
top level. They mean: dicts merge recursively, a list is replaced when sent whole, and a
list may also be updated in place by a dict keyed by index (``{"Sectors": {"2": {...}}}``).
:class:`TimingState` keeps each driver's merged entry per topic and derives the tower row
(:class:`DriverRow`) on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from f1pipe.schemas import TowerRow
from f1pipe.times import gap_ms, lap_time_ms

DRIVER_TOPICS = {"TimingData": "timing", "TimingAppData": "app", "TimingStats": "stats"}


def deep_merge(target: Any, delta: Any) -> Any:
    """``target`` with the feed's partial update ``delta`` applied; returns the new value.

    Dicts merge recursively; a dict of digit keys applied to a list updates (or appends)
    those indices; anything else replaces. ``target`` may be changed in place.
    """
    if isinstance(delta, dict) and isinstance(target, dict):
        for key, value in delta.items():
            target[key] = deep_merge(target.get(key), value)
        return target
    if isinstance(delta, dict) and isinstance(target, list) and all(
            k.isdigit() for k in delta):
        for key, value in sorted(delta.items(), key=lambda kv: int(kv[0])):
            index = int(key)
            target.extend([None] * (index + 1 - len(target)))
            target[index] = deep_merge(target[index], value)
        return target
    if isinstance(delta, dict):
        return deep_merge({}, delta)
    if isinstance(delta, list):
        return [deep_merge(None, v) for v in delta]
    return delta


def as_list(value: Any) -> list:
    """A list, or a dict keyed by index (as the feed may first send one), as a list."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(k.isdigit() for k in value):
        return [value[k] for k in sorted(value, key=int)]
    return []


def _int(value: Any) -> int | None:
    try:
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("Value")
    return None if value in (None, "") else str(value)


def _bool(value: Any) -> bool | None:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return None if value is None else bool(value)


class DriverRow(TowerRow):
    """One driver's line of the tower: the published fields, plus ``knocked_out``."""

    knocked_out: bool | None = None  # qualifying: out of the session

    @property
    def status(self) -> str:
        """``retired``, ``knocked out``, ``in pit``, ``pit out`` or ``running``."""
        for flag, name in ((self.retired, "retired"), (self.knocked_out, "knocked out"),
                           (self.in_pit, "in pit"), (self.pit_out, "pit out")):
            if flag:
                return name
        return "running"


@dataclass
class TimingState:
    """The merged feed: per driver and topic, plus session-wide values."""

    drivers: dict[str, dict[str, dict]] = field(default_factory=dict)  # number -> topic -> entry
    session: dict[str, dict] = field(default_factory=dict)  # feed topic -> merged content
    session_time_ms: int = 0  # of the newest update applied
    time_utc: str | None = None
    updates_applied: int = 0

    def apply(self, feed_topic: str, data: dict[str, Any], session_time_ms: int,
              time_utc: str | None = None) -> None:
        """Apply one update (or one part of a split update) of ``feed_topic``."""
        self.updates_applied += 1
        self.session_time_ms = max(self.session_time_ms, session_time_ms)
        self.time_utc = time_utc or self.time_utc
        if feed_topic in DRIVER_TOPICS and isinstance(data.get("Lines"), dict):
            for number, entry in data["Lines"].items():
                self._merge_driver(number, DRIVER_TOPICS[feed_topic], entry)
            rest = {k: v for k, v in data.items() if k != "Lines"}
        elif feed_topic == "CarData.z":  # each car's newest sample: speed, DRS...
            entries = data.get("Entries")
            for entry in entries if isinstance(entries, list) else []:
                cars = entry.get("Cars") if isinstance(entry, dict) else None
                for number, car in (cars or {}).items() if isinstance(cars, dict) else ():
                    if isinstance(car, dict) and isinstance(car.get("Channels"), dict):
                        self._merge_driver(number, "car", car["Channels"])
            rest = {}
        elif feed_topic == "DriverList":
            for number, entry in data.items():
                if number.isdigit():
                    self._merge_driver(number, "info", entry)
            rest = {k: v for k, v in data.items() if not k.isdigit()}
        else:
            rest = data
        if rest:
            self.session[feed_topic] = deep_merge(self.session.get(feed_topic, {}), rest)

    def _merge_driver(self, number: str, part: str, entry: Any) -> None:
        if not isinstance(entry, dict) or not number.isdigit():
            return
        topics = self.drivers.setdefault(number, {})
        topics[part] = deep_merge(topics.get(part, {}), entry)

    def row(self, number: str) -> DriverRow:
        """The tower row of driver ``number`` as the updates so far describe it."""
        parts = self.drivers.get(number, {})
        timing, app, info = parts.get("timing", {}), parts.get("app", {}), parts.get("info", {})
        car = parts.get("car", {})
        sectors = [s.get("Value") if isinstance(s, dict) else None
                   for s in as_list(timing.get("Sectors"))] + [None] * 3
        stints = [s for s in as_list(app.get("Stints")) if isinstance(s, dict)]
        stint = stints[-1] if stints else {}
        pit_stops = _int(timing.get("NumberOfPitStops"))
        return DriverRow(
            driver_number=int(number),
            abbreviation=_text(info.get("Tla")),
            team_name=_text(info.get("TeamName")),
            position=_int(timing.get("Position")) or _int(timing.get("Line")),
            gap_to_leader=_text(timing.get("GapToLeader")),
            gap_to_leader_ms=gap_ms(_text(timing.get("GapToLeader"))),
            interval_ahead=_text(timing.get("IntervalToPositionAhead")),
            interval_ahead_ms=gap_ms(_text(timing.get("IntervalToPositionAhead"))),
            laps=_int(timing.get("NumberOfLaps")),
            last_lap_ms=lap_time_ms(_text(timing.get("LastLapTime"))),
            best_lap_ms=lap_time_ms(_text(timing.get("BestLapTime"))),
            sector1_ms=lap_time_ms(sectors[0]),
            sector2_ms=lap_time_ms(sectors[1]),
            sector3_ms=lap_time_ms(sectors[2]),
            compound=_text(stint.get("Compound")),
            tyre_age_laps=_int(stint.get("TotalLaps")),
            pit_stops=pit_stops if pit_stops is not None else (len(stints) - 1 if stints else None),
            in_pit=_bool(timing.get("InPit")),
            pit_out=_bool(timing.get("PitOut")),
            # F1's own tower shows a car stopped on track as out, like a retired one; the
            # feed (2018 at least) never sets Retired for them, and clears Stopped if the
            # car goes on.
            retired=_bool(timing.get("Retired")) or _bool(timing.get("Stopped")),
            stopped=_bool(timing.get("Stopped")),
            knocked_out=_bool(timing.get("KnockedOut")),
            speed_kmh=_int(car.get("2")),
            drs=_int(car.get("45")),
        )

    def rows(self) -> list[DriverRow]:
        """Every driver's row, in running order (no position: last, by number)."""
        rows = [self.row(n) for n in self.drivers]
        return sorted(rows, key=lambda r: (r.position is None, r.position or 0,
                                           r.driver_number))

    @property
    def lap(self) -> tuple[int | None, int | None]:
        """(current lap, total laps) from ``LapCount``."""
        count = self.session.get("LapCount", {})
        return _int(count.get("CurrentLap")), _int(count.get("TotalLaps"))

    @property
    def track_status(self) -> str | None:
        return _text(self.session.get("TrackStatus", {}).get("Message"))

    @property
    def session_status(self) -> str | None:
        return _text(self.session.get("SessionStatus", {}).get("Status"))
