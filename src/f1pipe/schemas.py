"""Message schemas: one versioned schema per topic, defined once.

Every message is a flat JSON object: the envelope (``schema``, ``event_id``,
``produced_at``, ``source``) followed by the payload fields of its dataset. Units are in
the field names (``_ms`` milliseconds, ``_c`` degrees Celsius, ``_kmh``, ``_mps``...).
Missing values are JSON ``null``, never NaN.

The producer builds messages with :func:`make_message`; the consumer validates them with
:func:`validate_message`; the warehouse maps the same field names to typed columns.
"""

from __future__ import annotations

import hashlib
import json
import re
import types
import typing
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

EVENT_ID_NAMESPACE = uuid.UUID("6f1b2c3d-0000-4f1e-9a1c-f1f1f1f1f1f1")

# --- Bounds: every value must fit the warehouse column it lands in ----------------------
# Ints are BIGINT (DuckDB) / NUMBER(38,0) (Snowflake): any int field is within int64 (checked
# for every field by Payload); the types below bound fields tighter where reality does.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
STR_MAX_CHARS = 4096  # any string field (race control messages are a few hundred)
FIRST_SEASON, LAST_SEASON = 1950, 2100
MAX_ROUND = 40  # round 0 = pre-season testing
# FastF1 session identifiers (sources.schedule.SESSION_NAMES names them); testing days are
# practice sessions of round 0. A session becomes a lake folder name: only these are allowed.
SESSION_CODES = frozenset({"R", "Q", "S", "SQ", "SS", "FP1", "FP2", "FP3"})
Season = Annotated[int, Field(ge=FIRST_SEASON, le=LAST_SEASON)]
Round = Annotated[int, Field(ge=0, le=MAX_ROUND)]
DriverNumber = Annotated[int, Field(ge=0, le=999)]
Count = Annotated[int, Field(ge=0, le=10_000)]  # laps, positions, stints, tyre ages, sectors
LapNumber = Annotated[int, Field(ge=0, le=1_000)]
Degrees = Annotated[int, Field(ge=0, le=360)]
_ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)")


def _session_code(value: str) -> str:
    if value not in SESSION_CODES:
        codes = ", ".join(sorted(SESSION_CODES))
        raise ValueError(f"unknown session code, expected one of {codes}")
    return value


def _iso_utc(value: str) -> str:
    if not _ISO_UTC.fullmatch(value):
        raise ValueError("not an ISO 8601 UTC timestamp like 2024-05-01T14:03:07.123Z")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not a valid date and time (ISO 8601 UTC)") from None
    return value


SessionCode = Annotated[str, AfterValidator(_session_code)]
UtcTimestamp = Annotated[str, AfterValidator(_iso_utc)]  # 2024-05-01T14:03:07.123Z


def plain_type(annotation: Any) -> Any:
    """The Python type of a field's annotation: ``Count | None`` -> ``int``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _check_values(model: BaseModel) -> BaseModel:
    """Every field: ints within int64, strings without NUL (floats: ``allow_inf_nan``).

    One pass over the model after validation: a validator per field would double the
    consumer's validation time."""
    for name, value in model.__dict__.items():
        if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"{name}: integer out of the 64-bit range")
        if type(value) is str and "\x00" in value:
            raise ValueError(f"{name}: string holds a NUL character")
    return model


ENVELOPE_ID_MAX_CHARS = 256


def check_envelope(message: dict) -> None:
    """The envelope's other fields: ``produced_at`` an ISO 8601 UTC timestamp (it decides
    which version of a fact wins), ``event_id`` and ``source`` short strings without NUL.
    Raises ValueError naming the field (a model would cost a third of the validation)."""
    for name in ("event_id", "source"):
        value = message[name]
        if type(value) is not str or len(value) > ENVELOPE_ID_MAX_CHARS or "\x00" in value:
            raise ValueError(f"{name}: not a string of at most {ENVELOPE_ID_MAX_CHARS} "
                             "characters without NUL")
    if type(message["produced_at"]) is not str:
        raise ValueError("produced_at: not a string")
    try:
        _iso_utc(message["produced_at"])
    except ValueError as exc:
        raise ValueError(f"produced_at: {exc}") from None


class SchemaRef(BaseModel):
    """The envelope's ``schema`` field: which payload model the message follows."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    version: int


class Payload(BaseModel):
    """Base of every payload model.

    Subclasses set ``schema_name``/``schema_version``, the field names making the natural
    key of the fact (``key_fields``) and the Kafka key (``partition_key_fields``: a prefix of
    the natural key, so one driver's messages stay ordered in one partition). Which dataset,
    topic and tables a schema belongs to is said once, in :data:`DATASETS`.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=STR_MAX_CHARS)

    schema_name: ClassVar[str]
    schema_version: ClassVar[int]
    key_fields: ClassVar[tuple[str, ...]]
    partition_key_fields: ClassVar[tuple[str, ...]]

    season: Season
    round: Round
    session: SessionCode  # FastF1 session identifier: R, Q, S, SQ, SS, FP1, FP2, FP3

    _bounded = model_validator(mode="after")(_check_values)

    def natural_key(self) -> str:
        """The fact's identity, e.g. ``2024-12-R-44`` for a result."""
        return _join(self, self.key_fields)

    def kafka_key(self) -> str:
        """The Kafka message key (keeps per-driver order within one partition)."""
        return _join(self, self.partition_key_fields)


def _join(model: BaseModel, fields: tuple[str, ...]) -> str:
    return "-".join("" if getattr(model, f) is None else str(getattr(model, f)) for f in fields)


# The kind of session behind each FastF1 session code, so that one kind is one value in
# queries: 2023's "Sprint Shootout" (SS) and 2024's "Sprint Qualifying" (SQ) are both
# ``sprint_qualifying``; FP1-FP3 are ``practice``. Until 2023, FastF1's SQ ("Sprint
# Qualifying") was 2021's sprint race: see :func:`session_type`.
SESSION_TYPES: dict[str, str] = {
    "R": "race",
    "Q": "qualifying",
    "S": "sprint",
    "SQ": "sprint_qualifying",
    "SS": "sprint_qualifying",
    "FP1": "practice",
    "FP2": "practice",
    "FP3": "practice",
}
SPRINT_NAMED_SQ_UNTIL = 2023  # FastF1 names 2021's sprints "Sprint Qualifying" (SQ)
# Codes an event may hold one session type under (2023: SS, 2024 on: SQ): either is accepted.
SESSION_CODE_ALIASES: dict[str, str] = {"SQ": "SS", "SS": "SQ"}
POINTS_SESSION_TYPES = ("race", "sprint")  # sessions scoring championship points
QUALIFYING_TYPES = ("qualifying", "sprint_qualifying")  # classified on Q1/Q2/Q3 times
# ``classified_position`` is a whole number as text ("1".."20") or one of these letters.
CLASSIFIED_STATUS_LETTERS: dict[str, str] = {
    "R": "retired", "D": "disqualified", "E": "excluded", "W": "withdrawn",
    "F": "failed to qualify", "N": "not classified",
}


def session_type(code: str, season: int | None = None) -> str | None:
    """The canonical type of FastF1 session ``code`` in ``season`` (``"SS"`` ->
    ``"sprint_qualifying"``; ``"SQ"`` of 2021 -> ``"sprint"``); None for an unknown code."""
    if code == "SQ" and season is not None and season <= SPRINT_NAMED_SQ_UNTIL:
        return "sprint"
    return SESSION_TYPES.get(code)


class SessionTyped(BaseModel):
    """Mixin: ``session_type`` next to the FastF1 code, filled from it when not given."""

    session_type: str | None = None  # race, qualifying, sprint, sprint_qualifying, practice

    @model_validator(mode="after")
    def _fill_session_type(self):
        code, season = getattr(self, "session", ""), getattr(self, "season", None)
        expected = session_type(code, season)
        if self.session_type is None:
            self.session_type = expected
        elif expected is not None and self.session_type != expected:
            raise ValueError(f"session_type {self.session_type!r} does not match session "
                             f"{code!r} of {season} (expected {expected!r})")
        return self


class ResultV1(SessionTyped, Payload):
    """One driver's result in one session (FastF1 ``Session.results`` row)."""

    schema_name: ClassVar[str] = "result"
    schema_version: ClassVar[int] = 1
    key_fields: ClassVar[tuple[str, ...]] = ("season", "round", "session", "driver_number")
    partition_key_fields: ClassVar[tuple[str, ...]] = key_fields

    event_name: str
    country: str | None = None
    location: str | None = None
    session_name: str  # e.g. "Race", "Qualifying"
    session_date: UtcTimestamp | None = None  # ISO 8601, UTC
    driver_number: DriverNumber
    abbreviation: str | None = None
    broadcast_name: str | None = None
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    driver_id: str | None = None
    country_code: str | None = None
    team_name: str | None = None
    team_id: str | None = None
    team_colour: str | None = None  # hex without '#', e.g. "27F4D2"
    position: int | None = None  # finishing position (all drivers)
    # "1".."20" in every session type, or a letter of CLASSIFIED_STATUS_LETTERS (R retired...)
    classified_position: str | None = None
    grid_position: int | None = None
    q1_ms: int | None = None
    q2_ms: int | None = None
    q3_ms: int | None = None
    time_ms: int | None = None  # winner: total race time; others: gap to the winner
    status: str | None = None  # "Finished", "+1 Lap", "Retired", "Did not start"...
    points: float | None = None
    laps: Count | None = None


class LapV1(SessionTyped, Payload):
    """One lap of one driver (FastF1 ``Laps`` row). Session times are ms from session start."""

    schema_name: ClassVar[str] = "lap"
    schema_version: ClassVar[int] = 1
    key_fields: ClassVar[tuple[str, ...]] = (
        "season", "round", "session", "driver_number", "lap_number",
    )
    partition_key_fields: ClassVar[tuple[str, ...]] = key_fields[:4]

    driver_number: DriverNumber
    abbreviation: str | None = None
    team_name: str | None = None
    lap_number: LapNumber
    lap_time_ms: int | None = None
    sector1_ms: int | None = None
    sector2_ms: int | None = None
    sector3_ms: int | None = None
    speed_i1_kmh: float | None = None
    speed_i2_kmh: float | None = None
    speed_fl_kmh: float | None = None
    speed_st_kmh: float | None = None
    compound: str | None = None
    tyre_life_laps: Count | None = None
    fresh_tyre: bool | None = None
    stint: Count | None = None
    pit_in_time_ms: int | None = None
    pit_out_time_ms: int | None = None
    position: Count | None = None
    track_status: str | None = None
    is_personal_best: bool | None = None
    is_accurate: bool | None = None
    deleted: bool | None = None
    lap_start_time_ms: int | None = None
    session_time_ms: int | None = None  # session time at the end of the lap
    lap_end_utc: UtcTimestamp | None = None  # ISO 8601, UTC
    # False for a lap the driver did not finish (a retirement's last lap: no end time);
    # count laps completed with ``WHERE is_completed``.
    is_completed: bool | None = None


class RaceControlMessageV1(Payload):
    """One race control message. ``message_index`` is its order within the session."""

    schema_name: ClassVar[str] = "race_control_message"
    schema_version: ClassVar[int] = 1
    key_fields: ClassVar[tuple[str, ...]] = ("season", "round", "session", "message_index")
    partition_key_fields: ClassVar[tuple[str, ...]] = key_fields[:3]

    message_index: int
    time_utc: UtcTimestamp | None = None  # ISO 8601, UTC
    lap: Count | None = None
    category: str | None = None
    message: str
    status: str | None = None
    flag: str | None = None
    scope: str | None = None
    sector: Count | None = None
    driver_number: DriverNumber | None = None


class WeatherV1(Payload):
    """One weather sample (about one a minute)."""

    schema_name: ClassVar[str] = "weather"
    schema_version: ClassVar[int] = 1
    key_fields: ClassVar[tuple[str, ...]] = ("season", "round", "session", "session_time_ms")
    partition_key_fields: ClassVar[tuple[str, ...]] = key_fields[:3]

    session_time_ms: int
    air_temp_c: float | None = None
    track_temp_c: float | None = None
    humidity_pct: float | None = None
    pressure_mbar: float | None = None
    rainfall: bool | None = None
    wind_direction_deg: Degrees | None = None
    wind_speed_mps: float | None = None


class TrackStatusV1(Payload):
    """One change of track status (1 clear, 2 yellow, 4 SC, 5 red, 6 VSC, 7 VSC ending)."""

    schema_name: ClassVar[str] = "track_status"
    schema_version: ClassVar[int] = 1
    key_fields: ClassVar[tuple[str, ...]] = ("season", "round", "session", "session_time_ms")
    partition_key_fields: ClassVar[tuple[str, ...]] = key_fields[:3]

    session_time_ms: int
    status: str
    message: str | None = None


class LiveUpdateV1(Payload):
    """One update of F1's live-timing feed (or a recorded stream of it), as it came.

    An update naming several drivers (``TimingData``, ``TimingAppData``, ``TimingStats``
    ``Lines``; ``DriverList``) is split into one message per driver (``subject`` = the
    driver number, ``data`` = the update with only that driver's entry) plus one for what
    concerns the whole session (``subject`` = ``"session"``); ``part_count`` says how many
    messages one update became, so a reader can tell it has all of them. The Kafka key is
    the subject, so one driver's updates stay in order in one partition of the feed topic's
    Kafka topic. ``stream_index`` is the update's 0-based position in its recorded stream;
    live, it is the UTC time in ms x 1000 + the order within that ms (unique across restarts).
    """

    schema_name: ClassVar[str] = "live_update"
    schema_version: ClassVar[int] = 1
    key_fields: ClassVar[tuple[str, ...]] = (
        "season", "round", "session", "feed_topic", "stream_index", "subject",
    )
    partition_key_fields: ClassVar[tuple[str, ...]] = ("season", "round", "session", "subject")

    feed_topic: str  # the feed's topic name, e.g. "TimingData", "CarData.z"
    stream_index: int
    subject: str  # driver number ("44") or "session"
    part_count: Count = 1
    driver_number: DriverNumber | None = None
    session_time_ms: int  # ms since the start of the session's recorded streams
    time_utc: UtcTimestamp | None = None  # ISO 8601, UTC: when it happened
    data: dict[str, Any]  # the update (".z" topics decoded), the feed's own field names


class _CarSample(Payload):
    """What every telemetry sample has: the car, the sample's own time, the feed update's
    session time. Keyed per car and sample time."""

    key_fields: ClassVar[tuple[str, ...]] = (
        "season", "round", "session", "driver_number", "time_utc",
    )
    partition_key_fields: ClassVar[tuple[str, ...]] = key_fields[:4]

    driver_number: DriverNumber
    time_utc: UtcTimestamp  # ISO 8601, UTC, of the sample
    session_time_ms: int | None = None  # of the feed update carrying it


class CarDataV1(_CarSample):
    """One car telemetry sample of one car (the feed's ``CarData.z``, ~4 Hz per car), as
    OpenF1's ``car_data``; ``time_utc`` is the sample's own time stamp."""

    schema_name: ClassVar[str] = "car_data"
    schema_version: ClassVar[int] = 1
    speed_kmh: Annotated[int, Field(ge=0, le=500)] | None = None
    rpm: Annotated[int, Field(ge=0, le=25_000)] | None = None
    n_gear: Annotated[int, Field(ge=0, le=9)] | None = None
    throttle_pct: Annotated[int, Field(ge=0, le=255)] | None = None  # 0-100; 104 = n/a
    brake: Annotated[int, Field(ge=0, le=255)] | None = None  # 0 off, 100 (or 1) on
    drs: Annotated[int, Field(ge=0, le=255)] | None = None  # 0/1 off, 8 eligible, 10-14 open


class LocationV1(_CarSample):
    """One position sample of one car on the track (the feed's ``Position.z``, ~4 Hz per
    car), as OpenF1's ``location``; coordinates in decimetres (1/10 m), as the feed has them."""

    schema_name: ClassVar[str] = "location"
    schema_version: ClassVar[int] = 1
    x_dm: int | None = None
    y_dm: int | None = None
    z_dm: int | None = None
    status: str | None = None  # "OnTrack", "OffTrack"


def feed_page(feed_topic: str) -> str:
    """The snake-case name of a feed topic, as FastF1 names its page and f1pipe its Kafka
    topic: ``"TimingData"`` -> ``"timing_data"``, ``"CarData.z"`` -> ``"car_data"``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", feed_topic.removesuffix(".z")).lower()


class TowerRow(BaseModel):
    """One driver's line of the live timing tower (kept by ``stream.timing_state``, published
    as :class:`LiveTimingSnapshotV1`). Times in ms; gaps as the feed shows them and in ms
    when numeric."""

    model_config = ConfigDict(extra="forbid")

    driver_number: DriverNumber
    abbreviation: str | None = None
    team_name: str | None = None
    position: Count | None = None
    gap_to_leader: str | None = None
    gap_to_leader_ms: int | None = None
    interval_ahead: str | None = None  # to the car ahead
    interval_ahead_ms: int | None = None
    laps: Count | None = None
    last_lap_ms: int | None = None
    best_lap_ms: int | None = None
    sector1_ms: int | None = None  # sectors of the current / last lap
    sector2_ms: int | None = None
    sector3_ms: int | None = None
    compound: str | None = None
    tyre_age_laps: Count | None = None
    pit_stops: Count | None = None
    in_pit: bool | None = None
    pit_out: bool | None = None
    retired: bool | None = None  # retired, or stopped on track
    stopped: bool | None = None
    speed_kmh: int | None = None  # newest car telemetry sample (CarData.z), when there is one
    drs: int | None = None  # its DRS channel: 0/1 off, 8 eligible, 10, 12, 14 open


class LiveTimingSnapshotV1(TowerRow, Payload):
    """One driver's row of the live timing tower at ``session_time_ms``.

    Gaps and intervals are the feed's display strings (``"+1.234"``, ``"1L"``, ``"LAP 12"``)
    with the numeric ones also in ms. The key is per driver: the warehouse keeps the newest
    snapshot of each driver (the current tower); every snapshot stays in the raw table.
    """

    schema_name: ClassVar[str] = "live_timing_snapshot"
    schema_version: ClassVar[int] = 1
    key_fields: ClassVar[tuple[str, ...]] = ("season", "round", "session", "driver_number")
    partition_key_fields: ClassVar[tuple[str, ...]] = key_fields

    session_time_ms: int  # session time of the newest update applied
    time_utc: UtcTimestamp | None = None  # ISO 8601, UTC, of that update
    status: str  # "running", "in pit", "pit out", "knocked out", "retired"


@dataclass(frozen=True)
class Dataset:
    """One fact of the pipeline under all its names: one row of :data:`DATASETS`."""

    name: str  # the CLI's name, e.g. "laps"
    schema: type[Payload]  # the message schema of its topic
    # Topic after F1PIPE_TOPIC_PREFIX; None: KAFKA_TOPIC (the seed's name); "live.*": one
    # topic per feed topic (``kafka.topics.live_topic``).
    topic: str | None
    raw_table: str  # warehouse table of every landed record, as JSON
    model_table: str  # warehouse table of the facts, one row per natural key
    origin: str  # "fastf1" (produce), "live" (replay / live feed) or "tower" (snapshots)
    # The lake objects' format; None: the lake consumer's (``--format``, JSON lines by
    # default). The telemetry is the volume: Parquet.
    lake_format: str | None = None


DATASETS: tuple[Dataset, ...] = (
    Dataset("results", ResultV1, None, "raw_results", "f1_results", "fastf1"),
    Dataset("laps", LapV1, "laps", "raw_laps", "laps", "fastf1"),
    Dataset("race_control", RaceControlMessageV1, "race_control", "raw_race_control",
            "race_control_messages", "fastf1"),
    Dataset("weather", WeatherV1, "weather", "raw_weather", "weather", "fastf1"),
    Dataset("track_status", TrackStatusV1, "track_status", "raw_track_status", "track_status",
            "fastf1"),
    Dataset("live_updates", LiveUpdateV1, "live.*", "raw_live_updates", "live_updates", "live"),
    Dataset("live_timing", LiveTimingSnapshotV1, "live_timing", "raw_live_timing",
            "live_timing", "tower"),
    Dataset("car_data", CarDataV1, "car_data", "raw_car_data", "car_data", "live",
            lake_format="parquet"),
    Dataset("location", LocationV1, "location", "raw_location", "location", "live",
            lake_format="parquet"),
)
BY_NAME: dict[str, Dataset] = {d.name: d for d in DATASETS}
BY_SCHEMA: dict[tuple[str, int], type[Payload]] = {
    (d.schema.schema_name, d.schema.schema_version): d.schema for d in DATASETS
}
ENVELOPE_FIELDS = ("schema", "event_id", "produced_at", "source")


def dataset_of(payload: type[Payload] | Payload) -> Dataset:
    """The registry row of a payload model (or payload)."""
    cls = payload if isinstance(payload, type) else type(payload)
    return next(d for d in DATASETS if d.schema is cls)


class SchemaError(ValueError):
    """A message that does not follow its schema; ``str()`` is a one-line reason."""


def event_id(payload: Payload) -> str:
    """Deterministic id: the same fact with the same values always gets the same id."""
    body = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(body.encode()).hexdigest()
    name = f"{payload.schema_name}/{payload.schema_version}/{payload.natural_key()}/{digest}"
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, name))


def make_message(payload: Payload, source: str, produced_at: datetime | None = None) -> dict:
    """Wrap a payload in the envelope; returns a JSON-ready dict."""
    produced_at = produced_at or datetime.now(UTC)
    return {
        "schema": {"name": payload.schema_name, "version": payload.schema_version},
        "event_id": event_id(payload),
        "produced_at": produced_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "source": source,
        **payload.model_dump(mode="json"),
    }


def validate_message(message: Any) -> Payload:
    """Check a decoded message against the schema its envelope names.

    Returns the payload model; raises :class:`SchemaError` with a one-line reason.
    """
    if not isinstance(message, dict):
        raise SchemaError(f"message is a JSON {type(message).__name__}, expected an object")
    missing = [f for f in ENVELOPE_FIELDS if f not in message]
    if missing:
        raise SchemaError(f"envelope field(s) missing: {', '.join(missing)}")
    try:
        ref = SchemaRef.model_validate(message["schema"])
    except ValidationError as exc:
        raise SchemaError(f"bad 'schema' field: {_first_error(exc)}") from None
    model = BY_SCHEMA.get((ref.name, ref.version))
    if model is None:
        raise SchemaError(f"unknown schema {ref.name} v{ref.version}")
    try:
        check_envelope(message)
    except ValueError as exc:
        raise SchemaError(f"bad envelope: {exc}") from None
    body = {k: v for k, v in message.items() if k not in ENVELOPE_FIELDS}
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise SchemaError(f"{ref.name} v{ref.version}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(message)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {err['msg']}{more}"
