"""Car telemetry and positions from the feed's ``CarData.z`` and ``Position.z`` updates.

A decoded ``CarData.z`` update holds ``Entries``, each a UTC time stamp and the channels of
every car (``"0"`` rpm, ``"2"`` speed km/h, ``"3"`` gear, ``"4"`` throttle %, ``"5"`` brake,
``"45"`` DRS); a ``Position.z`` update holds ``Position``, each a time stamp and every car's
``X``, ``Y``, ``Z`` (decimetres) and ``Status``. Each car's sample becomes one
:class:`~f1pipe.schemas.CarDataV1` / :class:`~f1pipe.schemas.LocationV1` payload (OpenF1's
``car_data`` and ``location``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from f1pipe import codec
from f1pipe.schemas import CarDataV1, LocationV1, Payload
from f1pipe.sources.live_timing import FeedUpdate
from f1pipe.sources.schedule import SessionRef
from f1pipe.times import parse_utc

CAR_CHANNELS = {"0": "rpm", "2": "speed_kmh", "3": "n_gear", "4": "throttle_pct",
                "5": "brake", "45": "drs"}
POSITION_FIELDS = {"X": "x_dm", "Y": "y_dm", "Z": "z_dm", "Status": "status"}
# feed topic -> (dataset name, list of samples in the update, time stamp key, cars key)
TELEMETRY_TOPICS = {"CarData.z": ("car_data", "Entries", "Utc", "Cars"),
                    "Position.z": ("location", "Position", "Timestamp", "Entries")}


def telemetry_payloads(ref: SessionRef, update: FeedUpdate
                       ) -> tuple[list[Payload], list[tuple[str, str]]]:
    """The per-car samples of a ``CarData.z`` / ``Position.z`` update (none for another
    topic), and the samples that are not valid as ``(JSON text, one-line reason)``."""
    spec = TELEMETRY_TOPICS.get(update.feed_topic)
    if spec is None:
        return [], []
    payloads, bad = [], []
    for raw in _samples(update.data, *spec[1:]):
        try:
            payloads.append(_payload(ref, update, raw))
        except (ValueError, ValidationError, TypeError) as exc:
            bad.append((json.dumps(raw, default=str)[:2000], _reason(update.feed_topic, exc)))
    return payloads, bad


def _samples(data: dict[str, Any], list_key: str, stamp_key: str,
             cars_key: str) -> Iterator[dict[str, Any]]:
    entries = data.get(list_key)
    for entry in entries if isinstance(entries, list) else []:
        cars = entry.get(cars_key) if isinstance(entry, dict) else None
        if not isinstance(cars, dict):
            yield {"entry": entry}
            continue
        for number, values in cars.items():
            yield {"driver": number, "utc": entry.get(stamp_key), "values": values}


def telemetry_messages(ref: SessionRef, update: FeedUpdate, source: str,
                       produced_at: datetime | None = None
                       ) -> tuple[list[tuple[type[Payload], str, dict]], list[tuple[str, str]]]:
    """:func:`telemetry_payloads` as envelope messages ``(model, Kafka key, message)``, each
    exactly what :func:`~f1pipe.codec.keyed` gives for the sample's payload (produced at
    ``produced_at``, default now), built without a pydantic model when the generated Struct
    takes the values (:class:`~f1pipe.codec.MessageBuilder`); the bad samples as there."""
    spec = TELEMETRY_TOPICS.get(update.feed_topic)
    if spec is None:
        return [], []
    when = produced_at or datetime.now(UTC)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    messages, bad = [], []
    for raw in _samples(update.data, *spec[1:]):
        try:
            model, values = _fields(ref, update, raw)
            builder = _builder(model, source)
            built = builder.build(values, stamp)
            if built is None:  # the model coerces the values, or refuses them with a reason
                built = codec.keyed(model(**values), source, when)
            messages.append((model, *built))
        except (ValueError, ValidationError, TypeError) as exc:
            bad.append((json.dumps(raw, default=str)[:2000], _reason(update.feed_topic, exc)))
    return messages, bad


_BUILDERS: dict[tuple[type, str], codec.MessageBuilder] = {}


def _builder(model: type[Payload], source: str) -> codec.MessageBuilder:
    found = _BUILDERS.get((model, source))
    if found is None:
        found = _BUILDERS[(model, source)] = codec.MessageBuilder(model, source)
    return found


def _payload(ref: SessionRef, update: FeedUpdate, raw: dict[str, Any]) -> Payload:
    model, values = _fields(ref, update, raw)
    return model(**values)


def _fields(ref: SessionRef, update: FeedUpdate,
            raw: dict[str, Any]) -> tuple[type[Payload], dict[str, Any]]:
    """The payload model of a sample and its field values (not checked yet), in the model's
    field order."""
    if "entry" in raw:
        raise ValueError("sample without cars")
    utc = raw["utc"]
    time_utc = _utc_text(utc) if type(utc) is str else _utc_text.__wrapped__(utc)
    values = raw["values"] if isinstance(raw["values"], dict) else {}
    common = {"season": ref.season, "round": ref.round, "session": ref.session,
              "driver_number": int(raw["driver"]), "time_utc": time_utc,
              "session_time_ms": update.session_time_ms}
    if update.feed_topic == "CarData.z":
        channels = values.get("Channels") if isinstance(values.get("Channels"), dict) else {}
        return CarDataV1, {**common, **{name: channels.get(ch) for name, ch in
                                         _CAR_FIELDS}}
    return LocationV1, {**common, **{name: values.get(key) for key, name in
                                      POSITION_FIELDS.items()}}


# CarDataV1's channel fields in the model's order, with the feed's channel of each.
_CAR_FIELDS = sorted(((name, ch) for ch, name in CAR_CHANNELS.items()),
                     key=lambda f: list(CarDataV1.model_fields).index(f[0]))


@functools.lru_cache(maxsize=256)
def _utc_text(value: Any) -> str:
    """A sample's time stamp as ISO UTC text with ms (every car of an entry shares it:
    parsed once). ValueError when it is not one."""
    when = parse_utc(value, strict=True)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _reason(feed_topic: str, exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return f"{feed_topic} sample: {where}: {err['msg']}"
    return f"{feed_topic} sample: {' '.join(str(exc).split())[:200]}"
