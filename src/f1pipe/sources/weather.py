"""``weather``: one message per weather sample (FastF1 ``Session.weather_data``)."""

from __future__ import annotations

import pandas as pd

from f1pipe.schemas import WeatherV1
from f1pipe.sources.convert import boolean, integer, ms, number
from f1pipe.sources.loading import LoadedSession


def payloads(loaded: LoadedSession) -> list[WeatherV1]:
    """One :class:`WeatherV1` per sample (about one a minute), in session-time order."""
    frame = loaded.frame("weather_data", "weather")
    return [sample(loaded, row) for _, row in frame.iterrows()]


def sample(loaded: LoadedSession, row: pd.Series) -> WeatherV1:
    """One sample: °C, %, mbar, degrees, m/s; ``session_time_ms`` from session start."""
    ref = loaded.ref
    return WeatherV1(
        season=ref.season, round=ref.round, session=ref.session,
        session_time_ms=ms(row["Time"]),
        air_temp_c=number(row.get("AirTemp")),
        track_temp_c=number(row.get("TrackTemp")),
        humidity_pct=number(row.get("Humidity")),
        pressure_mbar=number(row.get("Pressure")),
        rainfall=boolean(row.get("Rainfall")),
        wind_direction_deg=integer(row.get("WindDirection")),
        wind_speed_mps=number(row.get("WindSpeed")),
    )
