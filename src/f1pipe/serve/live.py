"""The live page's feed: a Kafka consumer in the server keeps the timing state, and every
browser gets it over Server-Sent Events.

:class:`LiveHub` runs the project's :class:`~f1pipe.live.tower.Tower` (consuming every live
topic, ``<prefix>live.*``, from the beginning, publishing nothing) in a thread. After each
batch of updates it renders the current session (the one of the newest update) as one JSON
document with a version number; each SSE client sends the newest document when the version
moves. The document carries ``produced_at`` of the newest update applied, so the page can
measure "published to Kafka -> DOM updated".
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from f1pipe.config import Settings
from f1pipe.live.timing_state import TimingState, as_list
from f1pipe.live.tower import SessionKey, Tower, TowerOptions
from f1pipe.schemas import LiveUpdateV1

log = logging.getLogger(__name__)
RACE_CONTROL_SHOWN = 12
SSE_CHECK_S = 0.02  # how often a client looks for a new version
SSE_KEEPALIVE_S = 10.0


class _ServerTower(Tower):
    """The tower without snapshots, remembering when each session's newest update was
    published."""

    def __init__(self, settings: Settings, on_change: Callable[[Tower], None]):
        super().__init__(settings, TowerOptions(publish=False), on_change)
        self.produced_at: dict[SessionKey, str] = {}

    def apply(self, update: LiveUpdateV1, produced_at: str) -> None:
        super().apply(update, produced_at)
        key = (update.season, update.round, update.session)
        self.produced_at[key] = max(produced_at, self.produced_at.get(key, ""))


def render_state(key: SessionKey, state: TimingState, produced_at: str | None) -> dict[str, Any]:
    """The live page's document of one session."""
    lap, total = state.lap
    info = state.session.get("SessionInfo", {})
    meeting = info.get("Meeting", {}) if isinstance(info, dict) else {}
    messages = as_list(state.session.get("RaceControlMessages", {}).get("Messages"))
    race_control = [{"utc": m.get("Utc"), "lap": m.get("Lap"), "category": m.get("Category"),
                     "flag": m.get("Flag"), "message": m.get("Message")}
                    for m in messages if isinstance(m, dict)][-RACE_CONTROL_SHOWN:][::-1]
    rows = [{**row.model_dump(include={
        "driver_number", "abbreviation", "team_name", "position", "gap_to_leader",
        "interval_ahead", "laps", "last_lap_ms", "best_lap_ms", "compound", "tyre_age_laps",
        "pit_stops"}), "status": row.status} for row in state.rows()]
    return {
        "session": {"season": key[0], "round": key[1], "session": key[2],
                    "name": meeting.get("Name") if isinstance(meeting, dict) else None},
        "lap": lap, "total_laps": total, "track_status": state.track_status,
        "session_status": state.session_status, "session_time_ms": state.session_time_ms,
        "rows": rows, "race_control": race_control, "produced_at": produced_at,
        "updates": state.updates_applied,
    }


class LiveHub:
    """The consumer thread and the newest document; :meth:`events` is one SSE stream."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.version = 0
        self.document: str = json.dumps({"session": None, "rows": [], "version": 0})
        self.error: str | None = None
        self._tower = _ServerTower(settings, self._changed)
        self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._tower.stop()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            self._tower.run()
        except Exception as exc:  # noqa: BLE001 - shown on the live page, logged once
            self.error = " ".join(str(exc).split())
            log.warning("live feed stopped: %s", self.error)

    def _changed(self, tower: Tower) -> None:
        key = tower.current
        if key is None:
            return
        document = render_state(key, tower.states[key], self._tower.produced_at.get(key))
        self.version += 1
        document["version"] = self.version
        self.document = json.dumps(document, separators=(",", ":"))

    async def events(self, is_disconnected: Callable[[], Any]) -> AsyncIterator[str]:
        """SSE messages: the document now, then each new version (and a comment now and
        then, so proxies keep the connection)."""
        sent = -1
        idle = 0.0
        while True:
            if self.version != sent:
                sent = self.version
                idle = 0.0
                yield f"event: state\ndata: {self.document}\n\n"
            elif idle >= SSE_KEEPALIVE_S:
                idle = 0.0
                if await is_disconnected():
                    return
                yield ": keep-alive\n\n"
            await asyncio.sleep(SSE_CHECK_S)
            idle += SSE_CHECK_S
